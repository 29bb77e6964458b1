// Expr → SQL predicate over a resource row (alias r): each parameter becomes a semi-join on its index
// table (`r.rid in (select x.rid …)`), negations become anti-joins (`not exists`), chains join the
// target through <schema>.resource (fhir, or deid for researchers), _has joins the referring resources (R4 search.html#chaining, #has).
// Chains are also "evaluated inside contained resources" (search.html#contained, 3.1.1.5.5): a local reference
// '#id' leads to the container's own contained resource (containedPredicate, on its '#' keys and position).
import { sql, and, or, ident, typed, join, Frag } from './sql.js';
import type { ChainTarget, Expr, ParamSet } from './model.js';
import { paramError } from './model.js';
import { keyText, paramKey } from './hash.js';
import { containedParam } from './keys.js';
import { tokenCondition } from './params/token.js';
import { stringValueCondition, uriCondition } from './params/string.js';
import { referenceCondition } from './params/reference.js';
import { dateCondition, lastUpdatedCondition, lastUpdatedYearCondition } from './params/date.js';
import { numberValueCondition } from './params/number.js';
import { compositeCondition, nearCondition } from './params/composite.js';
import { textPredicate } from './params/text.js';
import { inKeys, paramKeys, tbl, TABLE_OF, type Ctx, type IndexCond, type SearchSchema } from './params/common.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

export function indexCond(e: ValueExpr, x: Frag, ctx: Ctx): IndexCond {
  switch (e.ps.type) {
    case 'token': return tokenCondition(e, x);
    case 'string': return stringValueCondition(e, x);
    case 'uri': return uriCondition(e, x);
    case 'reference': return referenceCondition(e, x, ctx);
    case 'date': return dateCondition(e, x, ctx);
    case 'number': case 'quantity': return numberValueCondition(e, x);
    case 'composite': return compositeCondition(e, x, ctx);
    case 'special':
      if (e.ps.code === 'near') return nearCondition(e, x);
      throw paramError(e.name, 'this special parameter is not supported');
  }
}

/** `r.rid in (rows of the index table matching)`, or the anti-join for :not / :not-in. */
function indexPredicate(c: IndexCond, x: Frag, r: Frag, ctx: Ctx): Frag {
  const table = tbl(ctx, c.table);
  return c.negate
    ? sql`not exists (select 1 from ${table} ${x} where ${x}.rid = ${r}.rid and ${x}.tenant = ${ctx.tenant} and ${c.where})`
    : sql`${r}.rid in (select ${x}.rid from ${table} ${x} where ${x}.tenant = ${ctx.tenant} and ${c.where})`;
}

/** The rids matching one positive parameter occurrence, straight from its index table (undefined for :not/:not-in). */
export function valueSubquery(e: ValueExpr, ctx: Ctx): { frag: Frag; table: string } | undefined {
  const x = ident(ctx.alias('x'));
  const c = indexCond(e, x, ctx);
  if (c.negate) return undefined;
  return { frag: sql`select ${x}.rid from ${tbl(ctx, c.table)} ${x} where ${x}.tenant = ${ctx.tenant} and ${c.where}`, table: c.table };
}

export function valuePredicate(e: ValueExpr, r: Frag, ctx: Ctx): Frag {
  const x = ident(ctx.alias('x'));
  return indexPredicate(indexCond(e, x, ctx), x, r, ctx);
}

function missingPredicate(ps: ParamSet, missing: boolean, r: Frag, ctx: Ctx): Frag {
  const x = ident(ctx.alias('x'));
  const table = tbl(ctx, TABLE_OF[ps.type]);
  const exists = sql`exists (select 1 from ${table} ${x} where ${x}.rid = ${r}.rid and ${inKeys(sql`${x}.p`, paramKeys(ps))})`;
  return missing ? sql`not ${exists}` : exists;
}

/** A semi-join's rid subquery, taking the nested one (`inner`) and conditions on its own index row (`outer`). */
type Build = (inner?: Inner, outer?: (x: Frag) => Frag) => Frag;
/**
 * A semi-join as a rid source. `pinned`: a reference to named patients or encounters (`patient=X`,
 * `encounter=Encounter/Y`, a chain that listed at most PINNED_CHAIN_TARGETS of them first): the rows of a
 * few records, usually the fewest of the search's conditions, and never more than those records hold. A
 * reference to an Organization or a Practitioner is not pinned: thousands of resources may name one, and
 * meeting them as a whole array would cost more than probing until a page is full.
 */
interface Source { build: Build; pinned: boolean }
const PINNED_TYPES = new Set(['Patient', 'Encounter']);
const PINNED_CHAIN_TARGETS = 100;

/** The nested subquery and how to meet it: `rid in (…)`, or `rid = any(array(…))` when it is pinned. */
interface Inner { frag: Frag; array: boolean }

type Chain = Extract<Expr, { k: 'chain' }>;
type Nested = (x: Frag, inner?: Inner, outer?: (x: Frag) => Frag) => Frag;

/**
 * The rids an item matches as a Source, for the items that are plain semi-joins (a positive value, a
 * chain); for the others, their predicate on `r` as it is.
 */
function ridSource(e: Expr, r: Frag, ctx: Ctx): Source | Frag {
  const nested: Nested = (x, inner, outer) =>
    sql`${inner ? (inner.array ? sql` and ${x}.rid = any(array(${inner.frag}))` : sql` and ${x}.rid in (${inner.frag})`) : sql``}${outer ? sql` and ${outer(x)}` : sql``}`;
  if (e.k === 'value') {
    const x = ident(ctx.alias('x'));
    const c = indexCond(e, x, ctx);
    if (c.negate) return indexPredicate(c, x, r, ctx);
    const table = tbl(ctx, c.table);
    const pinned = c.targets !== undefined && c.targets.every((t) => PINNED_TYPES.has(t ?? ''));
    return { pinned, build: (inner, outer) => sql`select ${x}.rid from ${table} ${x} where ${x}.tenant = ${ctx.tenant} and ${c.where}${nested(x, inner, outer)}` };
  }
  if (e.k === 'chain') return chainSource(e, ctx, nested);
  return predicate(e, r, ctx);
}

/** `x.ttype`/`x.tid` among targets listed first (chain-targets.ts). */
const listedTargets = (x: Frag, resolved: ChainTarget[]): Frag =>
  or(resolved.map((g) => sql`(${x}.ttype = ${g.type} and ${x}.tid = any(${typed(g.ids, 'text[]')}))`));

/**
 * A forward chain as a rid source: the references to stored targets, and (search.html#contained, "chained
 * parameters will be evaluated inside contained resources") the containers whose reference is a local '#id'
 * to one of their own contained resources meeting the inner condition. Both listed first (chain-targets.ts,
 * the usual case), the containers are one more condition on the same reference rows (`or x.rid = any(…)`),
 * absent when there are none, so an ordinary chain keeps its SQL and plan; a `union all` of two sets would
 * leave the planner no estimate of distinct rids and lose the page chosen in rid order (3,000 patients,
 * Observation?subject.name=Fam0 with 100 contained matches: 0.2 ms as one scan, 7.5 ms as a union). Not
 * listed (SEARCH_CHAIN_TARGETS=0, or more than the cap), a second set (`union all`, the same nesting in each).
 */
function chainSource(e: Chain, ctx: Ctx, nested: Nested): Source {
  const local = e.local?.length ? e.local : undefined;
  if (e.resolved) {
    // The targets are known: a plain reference lookup, no join to the target's rows.
    const x = ident(ctx.alias('x'));
    const targets = local ? or([listedTargets(x, e.resolved), sql`${x}.rid = any(${typed(local, 'int8[]')})`]) : listedTargets(x, e.resolved);
    const pinned = e.resolved.every((g) => PINNED_TYPES.has(g.type))
      && e.resolved.reduce((n, g) => n + g.ids.length, local?.length ?? 0) <= PINNED_CHAIN_TARGETS;
    const build: Build = (inner, outer) => sql`select ${x}.rid from ${tbl(ctx, 'sp_reference')} ${x}
        where ${x}.tenant = ${ctx.tenant} and ${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${targets}${nested(x, inner, outer)}`;
    return { pinned, build: e.local ? build : withLocal(e, build, ctx, nested) };
  }
  const x = ident(ctx.alias('x'));
  const t = ident(ctx.alias('t'));
  const target = predicate(e.inner, t, ctx);
  const build: Build = (inner, outer) => sql`select ${x}.rid from ${tbl(ctx, 'sp_reference')} ${x}
      join ${tbl(ctx, 'resource')} ${t} on ${t}.tenant = ${x}.tenant and ${t}.type = ${x}.ttype and ${t}.id = ${x}.tid
      where ${x}.tenant = ${ctx.tenant} and ${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${x}.ttype = any(${e.targets}) and not ${t}.deleted
      and ${target}${nested(x, inner, outer)}`;
  if (!local) return { pinned: false, build: e.local ? build : withLocal(e, build, ctx, nested) };
  // Targets over the cap, containers listed: their reference rows by rid.
  const y = ident(ctx.alias('y'));
  return { pinned: false, build: (inner, outer) => sql`${build(inner, outer)} union all select ${y}.rid from ${tbl(ctx, 'sp_reference')} ${y}
      where ${y}.tenant = ${ctx.tenant} and ${y}.rid = any(${typed(local, 'int8[]')}) and ${inKeys(sql`${y}.p`, paramKeys(e.ps))}${nested(y, inner, outer)}` };
}

/** `build`'s rids and, found here, the containers of local matches (when they were not listed first). */
function withLocal(e: Chain, build: Build, ctx: Ctx, nested: Nested): Build {
  const l = localChainFrom(e, paramKeys(e.ps), ctx);
  return l ? (inner, outer) => sql`${build(inner, outer)} union all select ${l.y}.rid ${l.from}${nested(l.y, inner, outer)}` : build;
}

/** Conditions a contained resource can be tested for (no _has, _list, _lastUpdated, _text, _content, _type). */
function containable(e: Expr): boolean {
  switch (e.k) {
    case 'and': case 'or': return e.items.every(containable);
    case 'not': return containable(e.item);
    case 'value': case 'missing': case 'id': case 'chain': return true;
    default: return false;
  }
}

/**
 * `from … where …` of the reference rows (alias y: rid, cx, type, under `keys`) that are local references
 * '#id' to a contained resource (sp_contained row c) of the chain's target types in the same container, meeting
 * the chain's inner condition on its own '#' keys and position. Rows of the container (its rid and type),
 * under its row-level security. Undefined where contained resources are not indexed (the de-identified copy)
 * or the inner condition cannot hold on one.
 *
 * It starts from the contained resources that match, then probes each one's reference rows by rid
 * (sp_reference_rid): the lateral subquery with `offset 0` is not flattened, so the planner cannot start from
 * every reference of the parameter instead (it did under a patient-context token, whose row-level security
 * filter it cannot estimate: 30,290 Observation.subject rows read to find none, 8 ms against 0.3 ms).
 */
export function localChainFrom(e: Chain, keys: string[], ctx: Ctx): { y: Frag; from: Frag } | undefined {
  if ((ctx.schema ?? 'fhir') !== 'fhir' || !containable(e.inner)) return undefined;
  const y = ident(ctx.alias('y'));
  const c = ident(ctx.alias('c'));
  // sp_contained's ctype and cid are collate "C", sp_reference's ttype and tid the default (011): equality is
  // byte equality either way; the explicit collation only settles which one the comparison uses.
  return { y, from: sql`from ${tbl(ctx, 'sp_contained')} ${c}
      cross join lateral (select ${y}.rid, ${y}.cx, ${y}.type from ${tbl(ctx, 'sp_reference')} ${y}
        where ${y}.rid = ${c}.rid and ${inKeys(sql`${y}.p`, keys)} and ${y}.tenant = ${ctx.tenant}
        and ${y}.ttype = ${c}.ctype collate "default" and ${y}.tid = ('#' || ${c}.cid) collate "default" offset 0) ${y}
      where ${c}.tenant = ${ctx.tenant} and ${c}.ctype = any(${typed(e.targets, 'text[]')}) and ${containedPredicate(e.inner, c, ctx)}` };
}

/** The parameter set under its contained identities ('#<Type>.<code>' keys, keys.ts containedParam). */
export const containedSet = (ps: ParamSet): ParamSet => ({ ...ps, params: ps.params.map(containedParam) });

/**
 * One condition on a contained resource: row c of sp_contained (c.rid = the container, c.cx = its position),
 * every index row on the '#' keys at that (rid, cx). For _contained searches (contained.ts) and for chains
 * into contained resources (localChainFrom). Throws a 400 for what cannot hold on a contained resource.
 */
export function containedPredicate(e: Expr, c: Frag, ctx: Ctx): Frag {
  switch (e.k) {
    case 'and': return and(e.items.map((i) => containedPredicate(i, c, ctx)));
    case 'or': return or(e.items.map((i) => containedPredicate(i, c, ctx)));
    case 'not': return sql`not ${containedPredicate(e.item, c, ctx)}`;
    case 'id': return sql`${c}.cid = any(${e.ids})`;
    case 'value': {
      const x = ident(ctx.alias('x'));
      const cond = indexCond({ ...e, ps: containedSet(e.ps) }, x, ctx);
      const table = tbl(ctx, cond.table);
      return cond.negate
        ? sql`not exists (select 1 from ${table} ${x} where ${x}.rid = ${c}.rid and ${x}.cx = ${c}.cx and ${x}.tenant = ${ctx.tenant} and ${cond.where})`
        : sql`(${c}.rid, ${c}.cx) in (select ${x}.rid, ${x}.cx from ${table} ${x} where ${x}.tenant = ${ctx.tenant} and ${cond.where})`;
    }
    case 'missing': {
      const x = ident(ctx.alias('x'));
      const ps = containedSet(e.ps);
      const exists = sql`exists (select 1 from ${tbl(ctx, TABLE_OF[ps.type])} ${x} where ${x}.rid = ${c}.rid and ${x}.cx = ${c}.cx and ${inKeys(sql`${x}.p`, paramKeys(ps))})`;
      return e.missing ? sql`not ${exists}` : exists;
    }
    case 'chain': {
      // From the contained resource through one of its references: to a stored resource, or by '#id' to a
      // sibling (contained resources reference each other locally; references.html#contained).
      const x = ident(ctx.alias('x'));
      const keys = paramKeys(containedSet(e.ps));
      const sets: Frag[] = [];
      if (e.resolved) {
        sets.push(sql`select ${x}.rid, ${x}.cx from ${tbl(ctx, 'sp_reference')} ${x}
          where ${x}.tenant = ${ctx.tenant} and ${inKeys(sql`${x}.p`, keys)} and ${listedTargets(x, e.resolved)}`);
      } else {
        const t = ident(ctx.alias('t'));
        sets.push(sql`select ${x}.rid, ${x}.cx from ${tbl(ctx, 'sp_reference')} ${x}
          join ${tbl(ctx, 'resource')} ${t} on ${t}.tenant = ${x}.tenant and ${t}.type = ${x}.ttype and ${t}.id = ${x}.tid
          where ${x}.tenant = ${ctx.tenant} and ${inKeys(sql`${x}.p`, keys)} and ${x}.ttype = any(${e.targets}) and not ${t}.deleted
          and ${predicate(e.inner, t, ctx)}`);
      }
      const local = localChainFrom(e, keys, ctx);
      if (local) sets.push(sql`select ${local.y}.rid, ${local.y}.cx ${local.from}`);
      return sql`(${c}.rid, ${c}.cx) in (${join(sets, ' union all ')})`;
    }
    default:
      throw paramError('name' in e ? e.name : '_contained', 'cannot be combined with _contained=true|both');
  }
}

/**
 * AND of several semi-joins, nested: `r.rid in (select x1.rid … and x1.rid in (select x2.rid …))`. Written
 * side by side (`r.rid in (…) and r.rid in (…)`), each semi-join's left side is the resource row, so
 * PostgreSQL had to fetch every resource matching the first condition before probing the second index
 * (Observation?patient=&code= fetched all of a patient's Observations; the chain
 * subject:Patient.name=&code= on the ×10 data fetched 2,460). Nested, the index tables meet first on rid
 * and only the rows that match them all are fetched.
 */
function andPredicate(items: Expr[], r: Frag, ctx: Ctx): Frag {
  const { sources, rest } = split(items, r, ctx);
  return sources.length ? and([sql`${r}.rid in (${nest(sources)})`, ...rest]) : and(rest);
}

function split(items: Expr[], r: Frag, ctx: Ctx): { sources: Source[]; rest: Frag[] } {
  const sources: Source[] = [];
  const rest: Frag[] = [];
  for (const i of items) {
    const s = ridSource(i, r, ctx);
    if (s instanceof Frag) rest.push(s);
    else sources.push(s);
  }
  return { sources, rest };
}

/**
 * Each source nested in the one before it, in their order except that pinned references go innermost;
 * `outer` applies to the outermost. The source around a pinned one meets its rids as an array
 * (`x.rid = any(array(…))`): one btree scan takes the whole sorted array, and because the rows of one
 * patient were mostly written together their rids sit on a few leaf pages, which PostgreSQL 17 walks
 * without descending again per key (nbtree ScalarArrayOp scans). As `rid in (…)` the plan probed the other
 * index once per referring row: ×1 Observation?patient=&code= for a patient with 200 Observations read
 * 610 buffers in 0.55 ms; as an array, 22 buffers in 0.08 ms.
 */
function nest(sources: Source[], outer?: (x: Frag) => Frag): Frag {
  const ordered = [...sources.filter((s) => !s.pinned), ...sources.filter((s) => s.pinned)];
  let inner: Inner | undefined;
  for (let i = ordered.length - 1; i >= 0; i--) {
    const s = ordered[i];
    inner = { frag: s.build(inner, i === 0 ? outer : undefined), array: s.pinned };
  }
  return inner!.frag;
}

/**
 * When every item is a plain semi-join: the rids matching them all, straight from the index tables (the
 * same nesting), with `outer` conditions on the outermost index row (its type, a keyset bound). Index rows
 * exist only for current resources and carry the same row-level security as the resource (030, 036), so
 * a page of rids can be chosen before any resource row is read. Undefined otherwise.
 */
export function ridsOf(items: Expr[], r: Frag, ctx: Ctx, outer?: (x: Frag) => Frag): Frag | undefined {
  const { sources, rest } = split(items, r, ctx);
  return sources.length && !rest.length ? nest(sources, outer) : undefined;
}

export function predicate(e: Expr, r: Frag, ctx: Ctx): Frag {
  switch (e.k) {
    case 'and': return andPredicate(e.items, r, ctx);
    case 'or': return or(e.items.map((i) => predicate(i, r, ctx)));
    case 'not': return sql`not ${predicate(e.item, r, ctx)}`;
    case 'value': return valuePredicate(e, r, ctx);
    case 'missing': return missingPredicate(e.ps, e.missing, r, ctx);
    case 'id': return sql`${r}.id = any(${e.ids})`;
    case 'types': return sql`${r}.type = any(${e.types})`;
    // The de-identified copy keeps only the year of lastUpdated: a range there (params/date.ts).
    case 'lastUpdated': return (ctx.schema === 'deid' ? lastUpdatedYearCondition : lastUpdatedCondition)(e.values, e.name, sql`${r}.last_updated`, ctx.now);
    case 'text': return textPredicate(e, r, ctx);
    case 'list': {
      const l = ident(ctx.alias('l'));
      const x = ident(ctx.alias('x'));
      return sql`exists (select 1 from ${tbl(ctx, 'resource')} ${l} join ${tbl(ctx, 'sp_reference')} ${x} on ${x}.rid = ${l}.rid
        where ${l}.tenant = ${ctx.tenant} and ${l}.type = 'List' and ${l}.id = any(${e.ids}) and not ${l}.deleted
        and ${x}.p = ${typed(keyText(paramKey('List.item')), 'int8')} and ${x}.ttype = ${r}.type and ${x}.tid = ${r}.id)`;
    }
    case 'chain': return sql`${r}.rid in (${(ridSource(e, r, ctx) as Source).build()})`;
    case 'has': {
      const x = ident(ctx.alias('x'));
      const s = ident(ctx.alias('s'));
      // When the referring resources' condition is all index semi-joins, it is met on the index rows
      // alone: they exist only for current resources, under the resource's own row-level security (010,
      // 036), so joining each referring resource's row to test `not deleted` was a second probe per
      // reference (×10 Patient?_has:Encounter:patient:date=ge…&name=Sch: 8,468 of them).
      const rids = ridsOf(e.inner.k === 'and' ? e.inner.items : [e.inner], s, ctx);
      if (rids) {
        return sql`exists (select 1 from ${tbl(ctx, 'sp_reference')} ${x} where ${x}.tenant = ${ctx.tenant}
        and ${x}.p = ${typed(keyText(paramKey(e.ref.key)), 'int8')} and ${x}.ttype = ${r}.type and ${x}.tid = ${r}.id and ${x}.rid in (${rids}))`;
      }
      return sql`exists (select 1 from ${tbl(ctx, 'sp_reference')} ${x} join ${tbl(ctx, 'resource')} ${s} on ${s}.rid = ${x}.rid
        where ${x}.tenant = ${ctx.tenant} and ${x}.p = ${typed(keyText(paramKey(e.ref.key)), 'int8')}
        and ${x}.ttype = ${r}.type and ${x}.tid = ${r}.id and not ${s}.deleted and ${predicate(e.inner, s, ctx)})`;
    }
  }
}

/** A fresh compile context (aliases numbered per query; tables in `schema`). */
export function makeCtx(tenant: string, base: string, now: number, schema: SearchSchema = 'fhir'): Ctx {
  let n = 0;
  return { tenant, base, now, schema, alias: (p) => `${p}${++n}` };
}
