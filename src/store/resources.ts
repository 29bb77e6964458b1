// Versioned resource storage (FHIR R4 http.html "read", "vread", "update", "delete", "history"):
// the current version lives in fhir.resource, each superseded version moves to fhir.resource_history
// in the same statement that replaces it. Updates lock the current row (FOR UPDATE) so concurrent
// writers serialise and never lose an update. Single-row writes are prepared statements (planned once per
// connection and role: session.ts queryPrepared).
import type { Tx } from './session.js';

export interface StoredResource {
  rid: string;
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  content: string;
}

/**
 * How a version came to be (migrations/043_version_interaction.sql; http.html#history): `create` a POST,
 * `upsert` a PUT that created the resource or revived a deleted one (#upsert), `update` a PUT or PATCH of a
 * live one, `delete` a DELETE. Null for versions written before it was kept, or by import.
 */
export type Interaction = 'create' | 'upsert' | 'update' | 'delete';

export interface NewVersion {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  deleted: boolean;
  /** null: keep the current row's (tombstones). */
  compartments: string[] | null;
  content: string;
  /**
   * Inserted versions: `create` (POST) or `upsert` (PUT); unset is not recorded. A replacing version is
   * derived from the versions themselves (replaceResource).
   */
  interaction?: Interaction;
}

const COLUMNS = 'rid, type, id, version, last_updated as "lastUpdated", deleted, content';

function row(r: Record<string, unknown>): StoredResource {
  return {
    rid: String(r.rid),
    type: r.type as string,
    id: r.id as string,
    version: Number(r.version),
    lastUpdated: toInstant(r.lastUpdated as string),
    deleted: r.deleted as boolean,
    content: r.content as string,
  };
}

/** PostgreSQL prints `2026-01-02 03:04:05.678+00`; FHIR instants are ISO 8601 with a `T` and `Z`. */
export function toInstant(pgText: string): string {
  return new Date(pgText.replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString();
}

export async function readCurrent(tx: Tx, type: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<StoredResource | undefined> {
  const r = await tx.queryPrepared(
    opts.forUpdate ? 'fg_read_current_for_update' : 'fg_read_current',
    `select ${COLUMNS} from fhir.resource where tenant = $1 and type = $2 and id = $3${opts.forUpdate ? ' for update' : ''}`,
    [tx.ctx.tenant, type, id],
  );
  return r.rows[0] ? row(r.rows[0]) : undefined;
}

export async function readByRids(tx: Tx, rids: string[]): Promise<StoredResource[]> {
  if (rids.length === 0) return [];
  const r = await tx.query(`select ${COLUMNS} from fhir.resource where rid = any($1::bigint[]) and tenant = $2`, [rids, tx.ctx.tenant]);
  return r.rows.map(row);
}

export async function readVersion(tx: Tx, type: string, id: string, version: number): Promise<StoredResource | undefined> {
  const r = await tx.query(
    `select ${COLUMNS} from fhir.resource where tenant = $1 and type = $2 and id = $3 and version = $4
     union all
     select ${COLUMNS} from fhir.resource_history where tenant = $1 and type = $2 and id = $3 and version = $4`,
    [tx.ctx.tenant, type, id, version],
  );
  return r.rows[0] ? row(r.rows[0]) : undefined;
}

/** Inserts version 1 (or a later one after a purge); undefined when the id is already taken. */
export async function insertResource(tx: Tx, v: NewVersion): Promise<string | undefined> {
  const r = await tx.queryPrepared<{ rid: string }>(
    'fg_insert_resource',
    `insert into fhir.resource (tenant, type, id, version, last_updated, deleted, compartments, content, interaction)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (tenant, type, id) do nothing returning rid`,
    [tx.ctx.tenant, v.type, v.id, v.version, v.lastUpdated, v.deleted, v.compartments, v.content, v.interaction ?? null],
  );
  return r.rows[0]?.rid;
}

/**
 * Replaces the current version `prior` (locked by the caller) with `next`, keeping `prior` in history. What
 * made `next` follows from the two: a tombstone is a delete, a version over a tombstone an update-as-create
 * (it answered 201, http.html#update), any other an update; the caller's `prior` is read, no query is added.
 */
export async function replaceResource(tx: Tx, prior: StoredResource, next: NewVersion): Promise<void> {
  const interaction: Interaction = next.deleted ? 'delete' : prior.deleted ? 'upsert' : 'update';
  await tx.queryPrepared(
    'fg_replace_resource',
    `with kept as (
       insert into fhir.resource_history (tenant, type, id, version, rid, last_updated, deleted, compartments, content, superseded, interaction)
       select tenant, type, id, version, rid, last_updated, deleted, compartments, content, $3, interaction from fhir.resource where rid = $1
     )
     update fhir.resource set version = $2, last_updated = $3, deleted = $4, compartments = coalesce($5, compartments), content = $6, interaction = $7 where rid = $1`,
    [prior.rid, next.version, next.lastUpdated, next.deleted, next.compartments, next.content, interaction],
  );
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /**
   * Only versions written at or after this instant (`_since`, R4 http.html#history: "Only include resource
   * versions that were created at or after the given instant in time").
   */
  since?: string;
  /**
   * Only versions current at some point during [from, to) (`_at`, http.html#history: "current at some point
   * during the time period specified in the date time value"): written before `to`, superseded after `from`.
   * An absent bound is open (a prefix such as `_at=ge2024` or `_at=lt2024`, search.html#prefix).
   */
  at?: { from?: string; to?: string };
  count: number;
  /** Keyset cursor: versions strictly older than (lastUpdated, rid, version). */
  after?: { lastUpdated: string; rid: string; version: number };
}

export interface HistoryEntry extends StoredResource {
  interaction: Interaction | null;
}

const HISTORY_COLUMNS = `${COLUMNS}, interaction`;

/** History newest first (http.html#history: "sorted with oldest versions last"). */
export async function history(tx: Tx, q: HistoryQuery): Promise<HistoryEntry[]> {
  const where: string[] = ['tenant = $1'];
  const values: unknown[] = [tx.ctx.tenant];
  const add = (sql: string, v: unknown) => {
    values.push(v);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (q.type) add('type = ?', q.type);
  if (q.id) add('id = ?', q.id);
  if (q.since) add('last_updated >= ?', q.since);
  if (q.at?.to) add('last_updated < ?', q.at.to);
  if (q.after) {
    values.push(q.after.lastUpdated, q.after.rid, q.after.version);
    const n = values.length;
    where.push(`(last_updated, rid, version) < ($${n - 2}::timestamptz, $${n - 1}::bigint, $${n}::int)`);
  }
  values.push(q.count);
  const limit = `$${values.length}`;
  const cond = where.join(' and ');
  if (q.at?.from) values.push(q.at.from);
  const atCond = q.at?.from ? ` and superseded > $${values.length}` : '';
  const r = await tx.query(
    `select * from (
       (select ${HISTORY_COLUMNS} from fhir.resource where ${cond} order by last_updated desc, rid desc, version desc limit ${limit})
       union all
       (select ${HISTORY_COLUMNS} from fhir.resource_history where ${cond}${atCond} order by last_updated desc, rid desc, version desc limit ${limit})
     ) h order by "lastUpdated" desc, rid desc, version desc limit ${limit}`,
    values,
  );
  return r.rows.map((r) => ({ ...row(r), interaction: (r.interaction as Interaction | null) ?? null }));
}

export async function countHistory(tx: Tx, q: Omit<HistoryQuery, 'count' | 'after'>): Promise<number> {
  const where: string[] = ['tenant = $1'];
  const values: unknown[] = [tx.ctx.tenant];
  if (q.type) { values.push(q.type); where.push(`type = $${values.length}`); }
  if (q.id) { values.push(q.id); where.push(`id = $${values.length}`); }
  if (q.since) { values.push(q.since); where.push(`last_updated >= $${values.length}`); }
  if (q.at?.to) { values.push(q.at.to); where.push(`last_updated < $${values.length}`); }
  const cond = where.join(' and ');
  if (q.at?.from) values.push(q.at.from);
  const atCond = q.at?.from ? ` and superseded > $${values.length}` : '';
  const r = await tx.query<{ n: string }>(
    `select (select count(*) from fhir.resource where ${cond}) + (select count(*) from fhir.resource_history where ${cond}${atCond}) as n`,
    values,
  );
  return Number(r.rows[0].n);
}
