// The SQL of a search (R4 search.html): one page of matches in sort order with keyset paging, the
// total count, and the Patient compartment restriction. Default order is rid (insertion order), which
// the index tables deliver presorted, so first pages stop after _count rows.
import { sql, and, or, join, ident, typed, render, raw, type Frag, type Sql } from './sql.js';
import type { Expr, SearchRequest, SortKey } from './model.js';
import { predicate, makeCtx, valueSubquery, ridsOf } from './compile.js';
import { containerWhere, containedPageQuery, containedCountQuery } from './contained.js';
import { inKeys, paramKeys, tbl, TABLE_OF, type Ctx, type SearchSchema } from './params/common.js';
import { patientCompartmentParams } from '../registry/compartments.js';
import { getSearchParam } from '../registry/search-params.js';
import { keyText, paramKey } from './hash.js';
import { paramError } from './model.js';
import { checkCursorValues, type Cursor } from './cursor.js';
import { implicitKeys } from './params/implicit-system.js';

export interface QueryOptions { tenant: string; base: string; now: number; schema?: SearchSchema }
const R = raw('r');

/** Keys of the reference parameters that put resources of `types` in a Patient compartment. */
export function compartmentKeys(types: string[]): string[] {
  return types.flatMap((type) => patientCompartmentParams(type).map((code) => getSearchParam(type, code)))
    .filter((p) => p !== undefined).map((p) => keyText(paramKey(p!.key)));
}

/**
 * Patient compartment membership (R4 compartmentdefinition-patient.html) through the reference index: only
 * leakproof equality, so it stays index-driven under row-level security (an array @> on
 * fhir.resource.compartments would not: rls-audit-deid-patterns.md §2.4). The Patient itself by id.
 */
export function compartmentCondition(types: string[], id: string, tenant: string, r: Frag, x: Frag, schema: SearchSchema = 'fhir'): Frag {
  const keys = compartmentKeys(types);
  const parts: Frag[] = [];
  // A union of rid sets (not an OR of conditions), so each branch stays an index lookup.
  if (types.includes('Patient')) parts.push(sql`select p.rid from ${tbl({ schema }, 'resource')} p where p.tenant = ${tenant} and p.type = 'Patient' and p.id = ${id}`);
  if (keys.length) {
    parts.push(sql`select ${x}.rid from ${tbl({ schema }, 'sp_reference')} ${x} where ${x}.tenant = ${tenant}
      and ${x}.p = any(${typed([...new Set(keys)], 'int8[]')}) and ${x}.tid = ${id} and ${x}.ttype = 'Patient'`);
  }
  return sql`${r}.rid in (${join(parts, ' union all ')})`;
}

function compartmentPredicate(req: SearchRequest, ctx: Ctx): Frag | undefined {
  const c = req.compartment;
  if (!c) return undefined;
  const inCompartment = req.types.filter((t) => t === 'Patient' || patientCompartmentParams(t).length > 0);
  if (inCompartment.length === 0) throw paramError('compartment', `${req.types.join(', ')} is not in the Patient compartment`);
  return compartmentCondition(inCompartment, c.id, ctx.tenant, R, ident(ctx.alias('x')), ctx.schema);
}

/** Tenant, type(s), current rows, compartment, and every filter. */
export function whereClause(req: SearchRequest, ctx: Ctx): Frag {
  if (req.contained) return containerWhere(req, ctx, R); // _contained=true|both (contained.ts)
  const parts: Frag[] = [sql`r.tenant = ${ctx.tenant}`];
  parts.push(req.types.length === 1 ? sql`r.type = ${req.types[0]}` : sql`r.type = any(${req.types})`);
  parts.push(raw('not r.deleted'));
  const comp = compartmentPredicate(req, ctx);
  if (comp) parts.push(comp);
  if (req.where.length) parts.push(predicate({ k: 'and', items: req.where }, R, ctx)); // nested semi-joins (compile.ts andPredicate)
  return and(parts);
}

interface SortExpr { expr: Frag; cast: string; desc: boolean; nullable: boolean }

const SORT_COL: Record<string, { asc: string; desc: string; cast: string }> = {
  sp_date: { asc: 'min(x.lo)', desc: 'max(x.lo)', cast: 'int8' }, // by start: an open-ended Period is not "latest"
  sp_number: { asc: 'min(x.lo)', desc: 'max(x.hi)', cast: 'float8' },
  sp_string: { asc: 'min(x.v)', desc: 'max(x.v)', cast: 'text' },
  sp_token: { asc: 'min(x.c)', desc: 'max(x.c)', cast: 'text' },
  sp_reference: { asc: "min(x.ttype || '/' || x.tid)", desc: "max(x.ttype || '/' || x.tid)", cast: 'text' },
};

function sortExpr(k: SortKey, ctx: Ctx): SortExpr {
  if (k.column === 'id') return { expr: raw('r.id'), cast: 'text', desc: k.desc, nullable: false };
  if (k.column === 'last_updated') return { expr: raw('r.last_updated'), cast: 'timestamptz', desc: k.desc, nullable: false };
  const table = TABLE_OF[k.ps!.type];
  const col = SORT_COL[table];
  return {
    expr: sql`(select ${raw(k.desc ? col.desc : col.asc)} from ${tbl(ctx, table)} x where x.rid = r.rid and ${inKeys(raw('x.p'), paramKeys(k.ps!))})`,
    cast: col.cast, desc: k.desc, nullable: true,
  };
}

/** Rows strictly after (or, going back, before) the cursor in the sort order; NULL sort values sort last. */
function keyset(keys: SortExpr[], names: Frag[], rid: Frag, ridDesc: boolean, cursor: Cursor): Frag {
  checkCursorValues(cursor, keys.map((k) => k.cast));
  const back = cursor.dir === 'prev';
  const allPlain = keys.every((k) => !k.nullable && k.desc === ridDesc);
  const vals = cursor.values.map((v, i) => (v === null ? null : typed(v, keys[i].cast)));
  if (allPlain) {
    const cmp = (ridDesc !== back) ? '<' : '>';
    const lhs = join([...names, rid], ', ');
    const rhs = join([...vals.map((v) => sql`${v}`), sql`${typed(cursor.rid, 'int8')}`], ', ');
    return keys.length ? sql`(${lhs}) ${raw(cmp)} (${rhs})` : sql`${rid} ${raw(cmp)} ${typed(cursor.rid, 'int8')}`;
  }
  const after = (i: number): Frag => {
    const k = keys[i];
    const v = vals[i];
    const forward = k.desc !== back ? '<' : '>';
    if (v === null) return back ? sql`${names[i]} is not null` : raw('false');
    return back ? sql`${names[i]} ${raw(forward)} ${v}` : sql`(${names[i]} ${raw(forward)} ${v} or ${names[i]} is null)`;
  };
  const equal = (i: number): Frag => (vals[i] === null ? sql`${names[i]} is null` : sql`${names[i]} = ${vals[i]}`);
  const branches: Frag[] = [];
  for (let i = 0; i <= keys.length; i++) {
    const prefix = keys.slice(0, i).map((_, j) => equal(j));
    const last = i < keys.length ? after(i) : sql`${rid} ${raw(ridDesc !== back ? '<' : '>')} ${typed(cursor.rid, 'int8')}`;
    branches.push(and([...prefix, last]));
  }
  return or(branches);
}

export interface PageSql { sql: Sql; sortCasts: string[] }

/** A range over two columns (lo, hi): dates, numbers, quantities, _lastUpdated. */
function hasRange(e: Expr): boolean {
  switch (e.k) {
    case 'value': return e.ps.type === 'date' || e.ps.type === 'number' || e.ps.type === 'quantity';
    case 'lastUpdated': return true;
    case 'and': case 'or': return e.items.some(hasRange);
    case 'not': return hasRange(e.item);
    case 'chain': case 'has': return hasRange(e.inner);
    default: return false;
  }
}

/**
 * Whether to plan with the values (Sql.custom): a forward chain whose target condition is a range. A
 * generic plan sees `lo >= $1 and hi <= $2` on two columns as matching a third of the rows, so it walks
 * every reference and tests each target (Encounter?patient.birthdate= on the ×10 data: 166,730 references,
 * 497 ms); planned for the date it starts from the few patients born that day (6 ms, planning included).
 * Other chains, and _has, keep their generic plan: planning one costs about 5 ms, more than it saved in
 * the measured cases (subject:Patient.name=&code=: 15 ms generic, 21 ms custom). A chain whose targets
 * were listed first (chain-targets.ts) is planned for its values when the list is longer than 10.
 */
export function needsCustomPlan(e: Expr): boolean {
  switch (e.k) {
    case 'chain':
      // Resolved: the planner must see how many targets there are (a generic plan assumes 10 array
      // elements, and with 60 patients probed each Observation of theirs against the code, 9,260 probes).
      if (e.resolved) return e.resolved.some((g) => g.ids.length > 10);
      return hasRange(e.inner) || needsCustomPlan(e.inner);
    case 'has': return needsCustomPlan(e.inner);
    case 'and': case 'or': return e.items.some(needsCustomPlan);
    case 'not': return needsCustomPlan(e.item);
    default: return false;
  }
}

const planned = (req: SearchRequest, s: Sql): Sql => (req.where.some(needsCustomPlan) ? { ...s, custom: true } : s);

/** One page: `limit` rows (the caller asks for _count + 1 to learn whether there is a next page). */
export function pageQuery(req: SearchRequest, opts: QueryOptions, limit: number, cursor?: Cursor): PageSql {
  const p = pageQueryOf(req, opts, limit, cursor);
  return { ...p, sql: planned(req, p.sql) };
}

function pageQueryOf(req: SearchRequest, opts: QueryOptions, limit: number, cursor?: Cursor): PageSql {
  if (req.contained?.returns === 'contained') return { sql: containedPageQuery(req, opts, limit, cursor), sortCasts: [] };
  const byRid = ridPageQuery(req, opts, limit, cursor);
  if (byRid) return { sql: byRid, sortCasts: [] };
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  const where = whereClause(req, ctx);
  const keys = req.sort.map((k) => sortExpr(k, ctx));
  const ridDesc = keys.length > 0 && keys[0].desc;
  const back = cursor?.dir === 'prev';
  const dir = (desc: boolean) => raw(desc !== back ? 'desc' : 'asc');
  const cols = ['r.rid', 'r.type', 'r.id', 'r.content', 'r.last_updated'];
  if (keys.every((k) => !k.nullable)) {
    const names = keys.map((k) => k.expr);
    const order = join([...keys.map((k) => sql`${k.expr} ${dir(k.desc)}`), sql`r.rid ${dir(ridDesc)}`], ', ');
    const conds = cursor ? and([where, keyset(keys, names, raw('r.rid'), ridDesc, cursor)]) : where;
    const select = join([...cols.map(raw), ...keys.map((k, i) => sql`${k.expr} as s${raw(String(i))}`)], ', ');
    return { sql: render(sql`select ${select} from ${tbl(ctx, 'resource')} r where ${conds} order by ${order} limit ${limit}`), sortCasts: keys.map((k) => k.cast) };
  }
  // Sort keys computed per row: rank in a subquery, then keyset and order over the computed columns.
  const inner = join([...cols.map(raw), ...keys.map((k, i) => sql`${k.expr} as s${raw(String(i))}`)], ', ');
  const names = keys.map((_, i) => raw(`q.s${i}`));
  const outer = join([...cols.map((c) => raw(c.replace('r.', 'q.'))), ...names], ', ');
  const order = join([...keys.map((k, i) => sql`${names[i]} ${dir(k.desc)} nulls ${raw(back ? 'first' : 'last')}`), sql`q.rid ${dir(ridDesc)}`], ', ');
  const ks = cursor ? sql` where ${keyset(keys, names, raw('q.rid'), ridDesc, cursor)}` : raw('');
  return {
    sql: render(sql`select ${outer} from (select ${inner} from ${tbl(ctx, 'resource')} r where ${where}) q${ks} order by ${order} limit ${limit}`),
    sortCasts: keys.map((k) => k.cast),
  };
}

/**
 * The page in rid order chosen from the index tables alone, then only its rows read: for a search on one
 * type, in rid order (no _sort), whose every condition is a plain semi-join (compile.ts ridsOf). Reading
 * every matching resource to sort them cost the first page of Observation?code=72514-3 on the ×10 data
 * (52,110 matches) 13 ms, and of Observation?category=vital-signs&date=ge2015-01-01 1,233 ms; chosen by
 * rid from the index tables, 1.7 ms each.
 */
function ridPageQuery(req: SearchRequest, opts: QueryOptions, limit: number, cursor?: Cursor): Sql | undefined {
  if (req.sort.length || req.compartment || req.contained || req.types.length !== 1 || req.where.length === 0) return undefined;
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  const back = cursor?.dir === 'prev';
  const type = req.types[0];
  const rids = ridsOf(req.where, R, ctx, (x) => and([sql`${x}.type = ${type}`, ...(cursor ? [sql`${x}.rid ${raw(back ? '<' : '>')} ${typed(cursor.rid, 'int8')}`] : [])]));
  if (!rids) return undefined;
  const dir = raw(back ? 'desc' : 'asc');
  return render(sql`select r.rid, r.type, r.id, r.content, r.last_updated from ${tbl(ctx, 'resource')} r
    where r.rid in (select s.rid from (${rids}) s group by s.rid order by s.rid ${dir} limit ${limit})
    and r.tenant = ${ctx.tenant} and r.type = ${type} and not r.deleted order by r.rid ${dir} limit ${limit}`);
}

/** count(*) of all matches (R4 search.html#total, _total=accurate and _summary=count). */
export function countQuery(req: SearchRequest, opts: QueryOptions): Sql {
  if (req.contained?.returns === 'contained') return containedCountQuery(req, opts);
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  return planned(req, render(sql`select count(*)::int8 as n from ${tbl(ctx, 'resource')} r where ${whereClause(req, ctx)}`));
}

/** The match set without paging, for the planner's estimate (_total=estimate). */
export function matchQuery(req: SearchRequest, opts: QueryOptions): Sql {
  if (req.contained?.returns === 'contained') return containedCountQuery(req, opts, true);
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  return render(sql`select r.rid from ${tbl(ctx, 'resource')} r where ${whereClause(req, ctx)}`);
}

/**
 * Counting straight from one index table when the search is a single positive token/string/… condition
 * without a compartment: index rows exist only for current resources, so no join to fhir.resource is
 * needed (an index-only scan). Undefined when the search is not of that shape.
 */
export function fastCountQuery(req: SearchRequest, opts: QueryOptions): Sql | undefined {
  if (req.compartment || req.contained || req.where.length !== 1) return undefined;
  const e = req.where[0];
  if (e.k !== 'value') return undefined;
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  const sub = valueSubquery(e, ctx);
  if (!sub) return undefined;
  // One token key per row and resource (rows are deduplicated at write time): count(*) is exact. Not so when the
  // value also stands for a code element's system-less code (params/implicit-system.ts): two keys, maybe one resource.
  const single = sub.table === 'sp_token' && e.ps.params.length === 1 && e.values.length === 1 && e.modifier === undefined
    && implicitKeys(e.ps.params[0], e.values[0]).length === 0;
  return render(single ? sql`select count(*)::int8 as n from (${sub.frag}) c` : sql`select count(distinct c.rid)::int8 as n from (${sub.frag}) c`);
}
