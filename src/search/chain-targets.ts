// Forward chains resolved before the search that uses them (R4 search.html#chaining). A chain such as
// Observation?subject:Patient.name=X&code=Y compiled as one query joins each reference to its target row,
// and PostgreSQL estimates the targets matching X at one row, so it plans a probe of the code index for
// every Observation of every matching patient: on the ×10 data 60 patients, 9,260 probes, 35 ms. Listing
// the targets first (a cheap query of their own) and searching by those ids lets the planner see how many
// there are: a merge of the two index scans, 4–6 ms. The lists are read in the same transaction, under
// the same row-level security, so a chain matches exactly the targets the caller could search for.
//
// The same query lists the resources whose reference is a local '#id' to a contained resource meeting the
// condition (search.html#contained: "chained parameters will be evaluated inside contained resources"): one
// index probe of the contained rows' '#' keys. None, the usual case, leaves the chain's SQL as it was.
import { sql, render, ident, typed, type Sql } from './sql.js';
import type { ChainTarget, Expr, SearchRequest } from './model.js';
import { predicate, makeCtx, localChainFrom } from './compile.js';
import { paramKeys, tbl } from './params/common.js';
import { needsCustomPlan, type QueryOptions } from './query.js';

type Chain = Extract<Expr, { k: 'chain' }>;

/** Runs a targets query in the request's transaction (store/search.ts runTargets). */
export type TargetLookup = (q: Sql) => Promise<Array<{ type: string; id: string }>>;

/** Default most targets listed (SEARCH_CHAIN_TARGETS); a chain with more keeps the join. */
export const CHAIN_TARGETS_MAX = 1000;

/** The type of the rows of a targets query that are local references' containers (id: their rid); no resource type. */
const LOCAL = '#';

/**
 * Current resources of the chain's target types that satisfy its inner condition: type and id, at most
 * `limit`; then, type LOCAL, the rids of at most `limit` resources whose reference is a local '#id' to a
 * contained resource that does (compile.ts localChainFrom), where contained resources are indexed.
 */
export function chainTargetsQuery(e: Chain, opts: QueryOptions, limit: number): Sql {
  const ctx = makeCtx(opts.tenant, opts.base, opts.now, opts.schema);
  const t = ident(ctx.alias('t'));
  const top = sql`select ${t}.type, ${t}.id from ${tbl(ctx, 'resource')} ${t}
    where ${t}.tenant = ${ctx.tenant} and ${t}.type = any(${typed(e.targets, 'text[]')}) and not ${t}.deleted
    and ${predicate(e.inner, t, ctx)} limit ${typed(limit, 'int8')}`;
  const local = localChainFrom(e, paramKeys(e.ps), ctx);
  const q = render(local ? sql`(${top}) union all (select distinct ${typed(LOCAL, 'text')}, ${local.y}.rid::text ${local.from} limit ${typed(limit, 'int8')})` : top);
  // The inner condition is planned as the chain's join would have been (query.ts needsCustomPlan).
  return needsCustomPlan(e) ? { ...q, custom: true } : q;
}

function hasChain(e: Expr): boolean {
  switch (e.k) {
    case 'chain': return true;
    case 'and': case 'or': return e.items.some(hasChain);
    case 'not': return hasChain(e.item);
    case 'has': return hasChain(e.inner);
    default: return false;
  }
}

/**
 * The request with each forward chain's targets listed (innermost chains first, so an outer chain's
 * list is itself a lookup by ids), where a chain has at most `max` targets; chains with more, and every
 * chain when `max` is 0, stay joins. Searches with _contained are left as they are (contained.ts).
 */
export async function resolveChains(req: SearchRequest, opts: QueryOptions, lookup: TargetLookup, max = CHAIN_TARGETS_MAX): Promise<SearchRequest> {
  if (max <= 0 || req.contained || !req.where.some(hasChain)) return req;
  const walk = async (e: Expr): Promise<Expr> => {
    switch (e.k) {
      case 'and': case 'or': {
        const items: Expr[] = [];
        for (const i of e.items) items.push(await walk(i)); // one transaction: one statement at a time
        return { ...e, items };
      }
      case 'not': return { ...e, item: await walk(e.item) };
      case 'has': return hasChain(e.inner) ? { ...e, inner: await walk(e.inner) } : e;
      case 'chain': {
        const inner = await walk(e.inner);
        const rows = await lookup(chainTargetsQuery({ ...e, inner }, opts, max + 1));
        const targets = rows.filter((r) => r.type !== LOCAL);
        const local = rows.filter((r) => r.type === LOCAL).map((r) => r.id);
        // Over the cap, the containers are found in the search itself (local absent), as targets are by the join.
        const c: Chain = { ...e, inner, ...(local.length > max ? {} : { local: local.sort((a, b) => Number(BigInt(a) - BigInt(b))) }) };
        return targets.length > max ? c : { ...c, resolved: groupByType(targets) };
      }
      default: return e;
    }
  };
  const where: Expr[] = [];
  for (const e of req.where) where.push(await walk(e));
  return { ...req, where };
}

function groupByType(rows: Array<{ type: string; id: string }>): ChainTarget[] {
  const by = new Map<string, string[]>();
  for (const r of rows) {
    const ids = by.get(r.type);
    if (ids) ids.push(r.id);
    else by.set(r.type, [r.id]);
  }
  // Sorted, so the same targets give the same SQL text and parameters whatever order they were read in.
  return [...by.keys()].sort().map((type) => ({ type, ids: by.get(type)!.sort() }));
}
