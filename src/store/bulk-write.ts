// Bulk writes for import into the same tables as the REST path (migrations/001_core.sql), many rows per
// statement. New versions travel by COPY (pg-copy-streams): the measured limits
// (../shared/reference/performance.md §C) put COPY 2.4× ahead of unnest() arrays for large JSON text.
// COPY goes into a session-local staging table and from there by one INSERT … SELECT, because
// "COPY FROM is not supported for tables with row-level security" (PostgreSQL, sql-copy) while the
// INSERT is checked by the table's policies like any other write; it also hands back the rids, which
// the request role could not reserve itself (it has no privilege on the identity sequence).
import { from as copyFrom } from 'pg-copy-streams';
import type { Tx } from './session.js';
import type { StoredResource } from './resources.js';

/** The current version of a resource, as the REST path reads it. */
export type CurrentRow = StoredResource;

export interface NewRow {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  compartments: string[];
  content: string;
}

/**
 * The staging table of a request role: a temporary table belongs to the role that created it, and a pooled
 * connection may serve several roles. Role names come from DbRole, an allow-list.
 */
const stageOf = (tx: Tx) => `fhirgate_stage_${tx.ctx.role}`;

/**
 * Which of these resources have a current row (deleted or not), keyed `Type/id`, without locking: new
 * rows can then be written while another importer's transaction still holds the rows it replaces.
 */
export async function findExisting(tx: Tx, keys: Array<{ type: string; id: string }>): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const r = await tx.query<{ type: string; id: string }>(
    `select r.type, r.id from fhir.resource r
       join unnest($2::text[], $3::text[]) as k(type, id) on r.type = k.type and r.id = k.id
      where r.tenant = $1`,
    [tx.ctx.tenant, keys.map((k) => k.type), keys.map((k) => k.id)],
  );
  return new Set(r.rows.map((row) => `${row.type}/${row.id}`));
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

/** COPY text format (sql-copy "Text Format"): backslash, newline, carriage return and tab are escaped. */
function copyText(s: string): string {
  return /[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : s;
}

/** A text[] literal (arrays.html "Array Value Input"), every element quoted. */
function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

function copyIn(tx: Tx, sql: string, chunks: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = tx.client.query(copyFrom(sql));
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    // Several writes of ~1 MB rather than one huge string: the socket takes them as they come.
    let buf = '';
    for (const c of chunks) {
      buf += c;
      if (buf.length > 1 << 20) {
        stream.write(buf);
        buf = '';
      }
    }
    stream.end(buf);
  });
}

/**
 * Inserts version rows of resources that have no current row (the caller locked and checked), returning
 * each one's new rid keyed `Type/id`. One COPY and one INSERT, whatever the number of rows.
 */
export async function insertNew(tx: Tx, rows: NewRow[]): Promise<Map<string, string>> {
  const rids = new Map<string, string>();
  if (rows.length === 0) return rids;
  // Temporary: private to this session, never WAL-logged; emptied at every commit.
  const stage = stageOf(tx);
  await tx.query(
    `create temp table if not exists ${stage} (type text, id text, version integer, last_updated timestamptz,
       compartments text[], content text) on commit delete rows`,
  );
  const tenant = tx.ctx.tenant;
  await copyIn(
    tx,
    `copy ${stage} (type, id, version, last_updated, compartments, content) from stdin`,
    rows.map((r) => `${copyText(r.type)}\t${copyText(r.id)}\t${r.version}\t${r.lastUpdated}\t${copyText(arrayLiteral(r.compartments))}\t${copyText(r.content)}\n`),
  );
  const r = await tx.query<{ rid: string; type: string; id: string }>(
    `with moved as (
       insert into fhir.resource (tenant, type, id, version, last_updated, deleted, compartments, content)
       select $1, type, id, version, last_updated, false, compartments, content from ${stage}
       returning rid, type, id
     ), emptied as (delete from ${stage})
     select rid, type, id from moved`,
    [tenant],
  );
  for (const row of r.rows) rids.set(`${row.type}/${row.id}`, row.rid);
  if (rids.size !== rows.length) throw new Error(`bulk insert stored ${rids.size} of ${rows.length} rows`);
  return rids;
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
