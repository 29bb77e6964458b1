// One request = one transaction (PostgREST's pipeline, ../shared/STYLE.md): open it, switch to the
// caller's database role and set tenant, patient and scopes transaction-locally (set_config(..., true)),
// run the work, commit. Settings never outlive the transaction, so a pooled connection cannot carry
// one caller's context into the next request.
import type { Pool, PoolClient } from './pool.js';
import { translatePgError } from './pg-errors.js';
import { scopeTypeSettings } from './scope-types.js';

export type DbRole = 'clinician' | 'patient' | 'researcher' | 'auditor' | 'admin' | 'system';

export interface DbContext {
  tenant: string;
  role: DbRole;
  /** The launch patient for patient-context tokens: RLS confines reads and writes to its compartment. */
  patient?: string;
  /** Granted scopes, space-separated, for per-type policies. */
  scopes?: string;
  /** Who acts: user or client id, for audit. */
  actor?: string;
}

export interface Tx {
  client: PoolClient;
  ctx: DbContext;
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * The same as a prepared statement named `name` (text fixed per name): planned once per connection and
   * role instead of on every call — planning a read by id costs as much as running it (measured 0.3 ms).
   */
  queryPrepared<R = Record<string, unknown>>(name: string, text: string, values: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * Runs `sql` (no bound parameters: literals via `literal`) just before COMMIT, in the same round trip.
   * For appends that must commit with the work (audit) without costing a round trip of their own.
   */
  beforeCommit(sql: string): void;
  /** A value quoted as an SQL literal, for beforeCommit statements. */
  literal(value: string): string;
}

const ROLES: Record<DbRole, string> = {
  clinician: 'fhirgate_clinician',
  patient: 'fhirgate_patient',
  researcher: 'fhirgate_researcher',
  auditor: 'fhirgate_auditor',
  admin: 'fhirgate_admin',
  system: 'fhirgate_system',
};

export interface Db {
  pool: Pool;
}

/**
 * The opening: one round trip of two statements that begins and sets role and context. The role is set
 * with set_config('role', …, true), the same as SET LOCAL ROLE (PostgreSQL docs, "SET": SET ROLE is the
 * `role` setting), so everything after BEGIN is a single statement to parse and run.
 */
function opening(client: PoolClient, ctx: DbContext, readOnly: boolean): string {
  const lit = (v: string | undefined) => client.escapeLiteral(v ?? '');
  const settings: Array<[string, string | undefined]> = [
    ['role', ROLES[ctx.role]],
    // Prepared statements (reads by id, search shapes) keep one generic plan per connection. Left to choose,
    // PostgreSQL re-planned Patient?name=&birthdate= on every execution: the policies' InitPlans make custom
    // and generic costs look alike, so planning (2.3 ms) was never saved (measured: 2.5 ms → 0.3 ms per search).
    ['plan_cache_mode', 'force_generic_plan'],
    ['fhirgate.tenant', ctx.tenant],
    ['fhirgate.patient', ctx.patient],
    ['fhirgate.scopes', ctx.scopes],
    ['fhirgate.actor', ctx.actor],
    ...scopeTypeSettings(ctx.role, ctx.scopes ?? ''),
  ];
  return `${readOnly ? 'begin read only' : 'begin'};select ${settings.map(([name, value]) => `set_config(${lit(name)}, ${lit(value)}, true)`).join(', ')}`;
}

/** A Tx over an open transaction on `client` (withTx's, or a caller's own such as audit snapshots). */
export function txOver(client: PoolClient, ctx: DbContext, beforeCommit: (sql: string) => void): Tx {
  const run = async <R>(q: string | { name: string; text: string; values: unknown[] }, values?: unknown[]) => {
    try {
      const r = typeof q === 'string' ? await client.query(q, values) : await client.query(q);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    } catch (e) {
      throw translatePgError(e);
    }
  };
  return {
    client,
    ctx,
    beforeCommit,
    literal: (value) => client.escapeLiteral(value),
    query: (text, values) => run(text, values),
    queryPrepared: (name, text, values) => run({ name, text, values }),
  };
}

export async function withTx<T>(db: Db, ctx: DbContext, fn: (tx: Tx) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  if (!(ctx.role in ROLES)) throw new Error(`unknown role ${String(ctx.role)}`);
  const client = await db.pool.connect();
  let broken = false;
  try {
    await client.query(opening(client, ctx, opts.readOnly ?? false));
    const deferred: string[] = [];
    const tx = txOver(client, ctx, (sql) => void deferred.push(sql));
    const result = await fn(tx);
    try {
      await client.query(deferred.length ? `${deferred.join(';')};commit` : 'commit');
    } catch (e) {
      throw translatePgError(e);
    }
    return result;
  } catch (e) {
    try {
      await client.query('rollback');
    } catch {
      broken = true;
    }
    throw e;
  } finally {
    client.release(broken);
  }
}
