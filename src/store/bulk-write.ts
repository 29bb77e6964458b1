// Bulk writes for import and transaction Bundles into the same tables as the REST path (migrations/001_core.sql,
// 010_search_index.sql). Versions travel by COPY (pg-copy-streams), each with its search index as column
// arrays in the same staging row (stage-text.ts): the measured limits (../shared/reference/performance.md
// §C) put COPY 2.4× ahead of bound unnest() arrays. COPY goes into a session-local staging table and from
// there by one INSERT … SELECT per table in a single statement, because "COPY FROM is not supported for
// tables with row-level security" (PostgreSQL, sql-copy) while an INSERT is checked by the tables' policies
// like any other write; it also hands back the rids, which request roles cannot reserve themselves (no
// privilege on the identity sequence). New rids need no index DELETE: nothing can reference them yet.
import { from as copyFrom } from 'pg-copy-streams';
import type { Tx } from './session.js';
import type { Interaction, StoredResource } from './resources.js';
import { INDEX_COLUMNS } from './stage-text.js';
import { translatePgError } from './pg-errors.js';

/** The current version of a resource, as the REST path reads it. */
export type CurrentRow = StoredResource;

/**
 * The staging table of a request role: a temporary table belongs to the role that created it, and a pooled
 * connection may serve several roles. Role names come from DbRole, an allow-list. Rows of a round are
 * deleted by the statement that moves them; whatever a failed statement left goes at the rollback.
 */
const stageOf = (tx: Tx) => `fhirgate_bulk_${tx.ctx.role}`;

const STAGE_COLUMNS = `type text, id text, version integer, last_updated timestamptz, compartments text[], content text,
  ${INDEX_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')}`;

/**
 * Transactions that have made sure of their staging table. Checked once per transaction, not per session:
 * a table created in a transaction that then rolls back is gone with it.
 */
const staged = new WeakMap<Tx, Set<string>>();

async function ensureStage(tx: Tx): Promise<string> {
  const stage = stageOf(tx);
  let made = staged.get(tx);
  if (made?.has(stage)) return stage;
  // Temporary: private to this session, never WAL-logged, emptied at every commit. Rows up to a page are
  // not compressed (toast_tuple_target): the text is compressed once, in fhir.resource, not twice.
  await tx.query(`create temp table if not exists ${stage} (${STAGE_COLUMNS}) with (toast_tuple_target = 8160) on commit delete rows`);
  if (!made) staged.set(tx, (made = new Set()));
  made.add(stage);
  return stage;
}

async function copyIn(tx: Tx, sql: string, lines: readonly string[]): Promise<void> {
  await tx.open();
  return new Promise<void>((resolve, reject) => {
    const stream = tx.client.query(copyFrom(sql));
    stream.on('error', (e) => reject(translatePgError(e)));
    stream.on('finish', () => resolve());
    // Writes of ~1 MB rather than one huge string: the socket takes them as they come.
    let buf = '';
    for (const line of lines) {
      buf += line;
      if (buf.length > 1 << 20) {
        stream.write(buf);
        buf = '';
      }
    }
    stream.end(buf);
  });
}

const TABLES = {
  sp_token: { cols: 'p, h, c', unnest: 'x.tk_p, x.tk_h, x.tk_c' },
  sp_string: { cols: 'p, v, x', unnest: 'x.st_p, x.st_v, x.st_x' },
  sp_reference: { cols: 'p, ttype, tid', unnest: 'x.rf_p, x.rf_tt, x.rf_ti' },
  sp_date: { cols: 'p, lo, hi', unnest: 'x.dt_p, x.dt_lo, x.dt_hi' },
  sp_number: { cols: 'p, lo, hi, system, code, unit', unnest: 'x.nm_p, x.nm_lo, x.nm_hi, x.nm_sy, x.nm_co, x.nm_un' },
  sp_composite: { cols: 'p, h, lo, hi, system, code, unit', unnest: 'x.cp_p, x.cp_h, x.cp_lo, x.cp_hi, x.cp_sy, x.cp_co, x.cp_un' },
} as const;

/**
 * What CTE `x` carries of a staged row: its type and index arrays, not its content. Referenced by every index
 * insert, `x` is materialised once, and a row's text would be copied into it for nothing.
 */
const X_COLUMNS = ['type', ...INDEX_COLUMNS.map(([n]) => n)].map((c) => `s.${c}`).join(', ');

/** CTEs inserting the index rows of CTE `x` (rid, type and the staged arrays); the tenant is $1. */
function indexInserts(): string {
  return Object.entries(TABLES).map(([t, s]) => `i_${t} as (insert into fhir.${t} (tenant, rid, type, ${s.cols})
    select $1, x.rid, x.type, u.* from x cross join lateral unnest(${s.unnest}) as u)`).join(',\n');
}

/**
 * Inserts staged versions of resources as their current rows, with their index rows, returning each new
 * rid keyed `Type/id`. `lines` are stage-text.ts stageLine()s. With `skipExisting`, a resource that has a
 * current row (or gets one from a concurrent transaction, which this one then waits for) is left out of
 * the result for the caller to update; rows are then inserted in (type, id) order, so two importers
 * sharing resources wait for each other instead of deadlocking. Without it, an existing id is an error.
 * `interaction` is recorded for every row (resources.ts Interaction: a transaction's creates are all POSTs),
 * one bound value per statement rather than a staging column; without it the rows record none (import).
 */
export async function insertStaged(tx: Tx, lines: readonly string[], opts: { skipExisting: boolean; interaction?: Interaction }): Promise<Map<string, string>> {
  const rids = new Map<string, string>();
  if (lines.length === 0) return rids;
  const stage = await ensureStage(tx);
  await copyIn(tx, `copy ${stage} from stdin`, lines);
  const r = await tx.query<{ rid: string; type: string; id: string }>(
    `with moved as (
       insert into fhir.resource (tenant, type, id, version, last_updated, deleted, compartments, content, interaction)
       select $1, s.type, s.id, s.version, s.last_updated, false, s.compartments, s.content, $2::text from ${stage} s
       ${opts.skipExisting ? 'on conflict (tenant, type, id) do nothing' : ''}
       returning rid, type, id
     ), x as (select m.rid, ${X_COLUMNS} from moved m join ${stage} s on s.type = m.type and s.id = m.id),
     ${indexInserts()},
     emptied as (delete from ${stage})
     select rid, type, id from moved`,
    [tx.ctx.tenant, opts.interaction ?? null],
  );
  for (const row of r.rows) rids.set(`${row.type}/${row.id}`, row.rid);
  if (!opts.skipExisting && rids.size !== lines.length) throw new Error(`bulk insert stored ${rids.size} of ${lines.length} rows`);
  return rids;
}

/**
 * Replaces the index rows of resources whose current version the caller has just replaced: every old row
 * of these rids goes, the staged arrays come in (one statement; its CTEs all see the statement's starting
 * snapshot, so the deletes never touch the rows inserted beside them). Staged content is not used.
 */
export async function reindexStaged(tx: Tx, rows: ReadonlyArray<{ rid: string; type: string; id: string; line: string }>): Promise<void> {
  if (rows.length === 0) return;
  const stage = await ensureStage(tx);
  await copyIn(tx, `copy ${stage} from stdin`, rows.map((r) => r.line));
  const deletes = Object.keys(TABLES).map((t) => `d_${t} as (delete from fhir.${t} where rid = any($2::int8[]))`).join(',\n');
  await tx.query(
    `with x as (select u.rid, ${X_COLUMNS} from unnest($2::int8[], $3::text[], $4::text[]) as u(rid, type, id)
                join ${stage} s on s.type = u.type and s.id = u.id),
     ${deletes},
     ${indexInserts()},
     emptied as (delete from ${stage})
     select 1`,
    [tx.ctx.tenant, rows.map((r) => r.rid), rows.map((r) => r.type), rows.map((r) => r.id)],
  );
}

/**
 * The current rows of these resources, locked (FOR UPDATE) until the transaction ends, keyed `Type/id`.
 * Locks are taken in rid order so two importers touching the same resources wait instead of deadlocking.
 */
export async function lockCurrent(tx: Tx, keys: Array<{ type: string; id: string }>): Promise<Map<string, CurrentRow>> {
  const found = new Map<string, CurrentRow>();
  if (keys.length === 0) return found;
  const r = await tx.query<{ rid: string; type: string; id: string; version: number; lu: string; deleted: boolean; content: string }>(
    `select r.rid, r.type, r.id, r.version, r.last_updated as lu, r.deleted, r.content
       from fhir.resource r
       join unnest($2::text[], $3::text[]) as k(type, id) on r.type = k.type and r.id = k.id
      where r.tenant = $1
      order by r.rid
        for update of r`,
    [tx.ctx.tenant, keys.map((k) => k.type), keys.map((k) => k.id)],
  );
  for (const row of r.rows) {
    found.set(`${row.type}/${row.id}`, { rid: row.rid, type: row.type, id: row.id, version: Number(row.version), lastUpdated: row.lu, deleted: row.deleted, content: row.content });
  }
  return found;
}

/**
 * Fresh planner statistics for the resource and index tables after a bulk load: without them a read by
 * id was planned on the (tenant, type, last_updated) index and a chain took seconds instead of 1 ms.
 * Runs as the connecting role (the owner), outside any request transaction.
 */
export async function analyzeAfterLoad(db: { pool: { query(text: string): Promise<unknown> } }): Promise<void> {
  await db.pool.query(`do $$ declare t regclass; begin
    for t in select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname in ('fhir', 'deid') and c.relkind = 'r' loop
      execute format('analyze %s', t);
    end loop; end $$`);
}
