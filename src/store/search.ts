// Runs compiled search SQL (src/search/query.ts, include.ts) in the request's transaction and returns rows:
// rid, type, id, the stored content text, and the sort keys the next page's cursor needs; plus counts.
import { createHash } from 'node:crypto';
import type { Tx } from './session.js';
import type { PoolClient } from './pool.js';
import type { Sql } from '../search/sql.js';
import type { IncludeSpec } from '../search/model.js';
import { includeQuery } from '../search/include.js';
import type { SearchSchema } from '../search/params/common.js';

export interface SearchRow {
  rid: string;
  type: string;
  id: string;
  content: string;
  lastUpdated?: string;
  /** Sort key values (s0, s1, …) as PostgreSQL returned them, for keyset cursors. */
  sortValues: Array<string | number | null>;
}

// Search SQL of one shape is the same text whatever the values, so it is prepared once per connection
// (planning a search costs as much as running it). Capped per connection: rare shapes run unprepared.
const prepared = new WeakMap<PoolClient, Set<string>>();
const MAX_PREPARED = 300;

async function run<R>(tx: Tx, q: Sql): Promise<R[]> {
  if (q.custom) return (await tx.queryCustomPlan<R>(q.text, q.values)).rows;
  let names = prepared.get(tx.client);
  if (!names) prepared.set(tx.client, (names = new Set()));
  const name = `fs_${createHash('sha1').update(q.text).digest('base64url').slice(0, 20)}`;
  if (!names.has(name) && names.size >= MAX_PREPARED) return (await tx.query<R>(q.text, q.values)).rows;
  const r = await tx.queryPrepared<R>(name, q.text, q.values as unknown[]);
  names.add(name);
  return r.rows;
}

export async function runPage(tx: Tx, q: Sql, sortKeys: number): Promise<SearchRow[]> {
  const r = { rows: await run<Record<string, unknown>>(tx, q) };
  return r.rows.map((row) => ({
    rid: String(row.rid),
    type: row.type as string,
    id: row.id as string,
    content: row.content as string,
    lastUpdated: row.last_updated as string | undefined,
    sortValues: Array.from({ length: sortKeys }, (_, i) => {
      const v = row[`s${i}`];
      return v === null || v === undefined ? null : typeof v === 'number' ? v : String(v);
    }),
  }));
}

export async function runCount(tx: Tx, q: Sql): Promise<number> {
  const rows = await run<{ n: string }>(tx, q);
  return Number(rows[0]?.n ?? 0);
}

/** The planner's row estimate (R4 search.html#total, _total=estimate): no rows are read. */
export async function runEstimate(tx: Tx, q: Sql): Promise<number> {
  const r = await tx.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(`explain (format json) ${q.text}`, q.values);
  const plan = r.rows[0]?.['QUERY PLAN']?.[0]?.Plan;
  return Math.round(plan?.['Plan Rows'] ?? 0);
}

export async function runRows(tx: Tx, q: Sql): Promise<Array<{ rid: string; type: string; id: string; content: string }>> {
  const rows = await run<{ rid: string; type: string; id: string; content: string }>(tx, q);
  return rows.map((row) => ({ rid: String(row.rid), type: row.type, id: row.id, content: row.content }));
}

/** The (type, id) list of a chain's targets (search/chain-targets.ts). */
export async function runTargets(tx: Tx, q: Sql): Promise<Array<{ type: string; id: string }>> {
  return run<{ type: string; id: string }>(tx, q);
}

export interface Included { rid: string; type: string; id: string; content: string }

/**
 * Runs include rounds: the first from the matches, then :iterate specs from what the last round added.
 * `schema` deid: over the de-identified copy and its index (researchers; migrations/040).
 */
export async function runIncludes(tx: Tx, matches: Array<{ rid: string; type: string; id: string }>,
  specs: IncludeSpec[], tenant: string, maxRounds = 3, maxResources = 2000, schema: SearchSchema = 'fhir'): Promise<Included[]> {
  const seen = new Set(matches.map((m) => m.rid));
  const out: Included[] = [];
  let from = matches;
  let round = 0;
  let active = specs;
  while (from.length && active.length && round < maxRounds && out.length < maxResources) {
    const q = includeQuery(active, from, tenant, schema);
    if (!q) break;
    const rows = (await runRows(tx, q)).filter((r) => !seen.has(r.rid));
    for (const r of rows) seen.add(r.rid);
    out.push(...rows);
    from = rows;
    active = specs.filter((s) => s.iterate);
    round++;
  }
  return out.slice(0, maxResources);
}
