// _contained and _containedType (R4 search.html#contained, 3.1.1.5.5). "By default, search results only include
// resources that are not contained in other resources" (_contained=false: query.ts, untouched). _contained=true
// matches "only contained resources", _contained=both "both contained and non-contained (normal) resources";
// _containedType=container (default) "Return the container resources", contained "return only the contained
// resource", whose entry fullUrl is the container's URL + '#' + its id ("http://example.com/fhir/MedicationRequest/23#m1").
//
// Contained resources are indexed at write time (extract-contained.ts): one fhir.sp_contained row each (container
// rid, position cx, type, id) and index rows under '#'-prefixed parameter keys with that cx. Every filter is
// compiled with those keys and must hold on the same (rid, cx), i.e. on one contained resource (compile.ts
// containedPredicate, shared with chains that follow a local reference into a contained resource). Containers are
// returned once each, in rid order. Contained resources alone are returned as rows numbered rid × 1024 + cx + 1
// (top-level ones of "both" as rid × 1024), id '<container id>#<id>', content the contained JSON text, so the
// searchset's fullUrl reads [base]/[container type]/[container id]#[id] and keyset paging stays on one number.
// Not combinable (a 400 naming the parameter): _sort, a compartment, _has, _list, _lastUpdated, _text, _content,
// and _include/_revinclude when contained resources are returned alone; not on the de-identified copy.
import { sql, and, ident, raw, typed, join, render, type Frag, type Sql } from './sql.js';
import { paramError, type Expr, type SearchRequest } from './model.js';
import { containedPredicate, predicate, makeCtx } from './compile.js';
import { tbl, type Ctx, type SearchSchema } from './params/common.js';
import { CONTAINED_SLOTS } from './keys.js';
import type { Cursor } from './cursor.js';

export interface ContainedQueryOptions { tenant: string; base: string; now: number; schema?: SearchSchema }

const NOT_WITH_CONTAINED: Partial<Record<Expr['k'], string>> = {
  has: '_has', list: '_list', lastUpdated: '_lastUpdated (contained resources carry no meta.lastUpdated)',
  text: '_text and _content (they search whole stored resources)', types: '_type',
};

/** Checks a planned search with _contained=true|both for what cannot be combined with it (plan.ts). */
export function checkContained(req: SearchRequest): void {
  const c = req.contained;
  if (!c) return;
  if (req.compartment) throw paramError('_contained', 'cannot be used in a compartment search');
  if (req.sort.length) throw paramError('_sort', 'cannot be combined with _contained=true|both (matches come in container order)');
  const inc = req.include[0];
  if (inc && c.returns === 'contained') throw paramError(inc.name, 'cannot be combined with _containedType=contained');
  const walk = (e: Expr): void => {
    if (e.k === 'and' || e.k === 'or') e.items.forEach(walk);
    else if (e.k === 'not') walk(e.item);
    else if (NOT_WITH_CONTAINED[e.k]) throw paramError('name' in e ? e.name : '_contained', `${NOT_WITH_CONTAINED[e.k]} cannot be combined with _contained=true|both`);
  };
  req.where.forEach(walk);
}

const typeIs = (col: Frag, types: string[]): Frag => (types.length === 1 ? sql`${col} = ${types[0]}` : sql`${col} = any(${types})`);

function onIdentifiedData(ctx: Ctx): void {
  if ((ctx.schema ?? 'fhir') !== 'fhir') throw paramError('_contained', 'is not available on the de-identified copy');
}

/** Contained resources (alias c) of the searched types meeting every filter. */
function containedMatch(req: SearchRequest, ctx: Ctx, c: Frag): Frag {
  return and([sql`${c}.tenant = ${ctx.tenant}`, typeIs(sql`${c}.ctype`, req.types), ...req.where.map((e) => containedPredicate(e, c, ctx))]);
}

/** Top-level resources (alias n) of the searched types meeting every filter (the "both" half). */
function topLevelMatch(req: SearchRequest, ctx: Ctx, n: Frag): Frag {
  return and([sql`${n}.tenant = ${ctx.tenant}`, typeIs(sql`${n}.type`, req.types), sql`not ${n}.deleted`, ...req.where.map((e) => predicate(e, n, ctx))]);
}

/** The WHERE clause on a resource row r for _containedType=container: containers of matches (and, for both, matches). */
export function containerWhere(req: SearchRequest, ctx: Ctx, r: Frag): Frag {
  onIdentifiedData(ctx);
  const c = ident(ctx.alias('c'));
  const sets = [sql`select ${c}.rid from ${tbl(ctx, 'sp_contained')} ${c} where ${containedMatch(req, ctx, c)}`];
  if (req.contained?.mode === 'both') {
    const n = ident(ctx.alias('n'));
    sets.unshift(sql`select ${n}.rid from ${tbl(ctx, 'resource')} ${n} where ${topLevelMatch(req, ctx, n)}`);
  }
  return and([sql`${r}.tenant = ${ctx.tenant}`, sql`not ${r}.deleted`, sql`${r}.rid in (${join(sets, ' union all ')})`]);
}

/** For _containedType=contained: rows (rid, type, id, content, last_updated) of each match, numbered for paging. */
function containedRows(req: SearchRequest, ctx: Ctx): Frag {
  onIdentifiedData(ctx);
  const slots = raw(String(CONTAINED_SLOTS));
  const c = ident(ctx.alias('c'));
  const r = ident(ctx.alias('r'));
  const rows = [sql`select ${r}.rid * ${slots} + ${c}.cx + 1 as rid, ${r}.type, ${r}.id || '#' || ${c}.cid as id,
    (${r}.content::json -> 'contained' -> ${c}.cx)::text as content, ${r}.last_updated
    from ${tbl(ctx, 'sp_contained')} ${c} join ${tbl(ctx, 'resource')} ${r} on ${r}.rid = ${c}.rid
    where ${containedMatch(req, ctx, c)} and ${r}.tenant = ${ctx.tenant} and not ${r}.deleted`];
  if (req.contained?.mode === 'both') {
    const n = ident(ctx.alias('n'));
    rows.unshift(sql`select ${n}.rid * ${slots} as rid, ${n}.type, ${n}.id, ${n}.content, ${n}.last_updated
      from ${tbl(ctx, 'resource')} ${n} where ${topLevelMatch(req, ctx, n)}`);
  }
  return join(rows, ' union all ');
}

/** One page of contained resources returned alone, in row-number order (keyset on that number). */
export function containedPageQuery(req: SearchRequest, opts: ContainedQueryOptions, limit: number, cursor?: Cursor): Sql {
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  const back = cursor?.dir === 'prev';
  const after = cursor ? sql` where q.rid ${raw(back ? '<' : '>')} ${typed(cursor.rid, 'int8')}` : raw('');
  return render(sql`select q.rid, q.type, q.id, q.content, q.last_updated from (${containedRows(req, ctx)}) q${after}
    order by q.rid ${raw(back ? 'desc' : 'asc')} limit ${limit}`);
}

/** count(*) (or, with `rids`, the match set for the planner's estimate) of contained resources returned alone. */
export function containedCountQuery(req: SearchRequest, opts: ContainedQueryOptions, rids = false): Sql {
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  return render(sql`select ${raw(rids ? 'q.rid' : 'count(*)::int8 as n')} from (${containedRows(req, ctx)}) q`);
}
