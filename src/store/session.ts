// One request = one transaction (PostgREST's pipeline, ../shared/STYLE.md): open it, switch to the
// caller's database role and set tenant, patient and scopes transaction-locally (set_config(..., true)),
// run the work, commit. Settings never outlive the transaction, so a pooled connection cannot carry
// one caller's context into the next request.
import type { Pool, PoolClient } from './pool.js';
import { translatePgError } from './pg-errors.js';
import { scopeTypeSettings } from './scope-types.js';
import { runPipeline, type Step } from './pipeline.js';

export type { Step } from './pipeline.js';

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
  /** Planned for these values (plan_cache_mode=force_custom_plan around it, same round trip), never cached. */
  queryCustomPlan<R = Record<string, unknown>>(text: string, values: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * Runs `step` just before COMMIT, in the same round trip. For appends that must commit with the work
   * (audit) without costing a round trip of their own.
   */
  beforeCommit(step: Step): void;
  /** Makes sure the transaction is open, for work that uses `client` directly (COPY streams). */
  open(): Promise<void>;
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
  /** Shared read transactions in flight per kind (group-tx.ts); 0 or unset: every request alone. */
  groupSlots?: number;
  /** Per kind, a number that replaces groupSlots (config.ts: searches take 2). */
  kindSlots?: Record<string, number>;
  /** After how many ms a group still reading gives up its slot (group-tx.ts SLOW_MS when unset). */
  groupSlowMs?: number;
}

/**
 * The request context as one prepared statement: role, tenant, patient, scopes. The role is set with
 * set_config('role', …, true), the same as SET LOCAL ROLE (PostgreSQL docs, "SET": SET ROLE is the
 * `role` setting). It may be sent again inside a transaction (group-tx.ts: each statement of a shared
 * transaction runs under its own request's context).
 */
export function contextStep(ctx: DbContext): Step {
  const settings: Array<[string, string | undefined]> = [
    ['role', ROLES[ctx.role]],
    ['fhirgate.tenant', ctx.tenant],
    ['fhirgate.patient', ctx.patient],
    ['fhirgate.scopes', ctx.scopes],
    ['fhirgate.actor', ctx.actor],
    ...scopeTypeSettings(ctx.role, ctx.scopes ?? ''),
  ];
  // Prepared statements (reads by id, search shapes) keep one generic plan per connection. Left to choose,
  // PostgreSQL re-planned Patient?name=&birthdate= on every execution: the policies' InitPlans make custom
  // and generic costs look alike, so planning (2.3 ms) was never saved (measured: 2.5 ms → 0.3 ms per search).
  const text = `select set_config('plan_cache_mode', 'force_generic_plan', true), ${settings.map(([name], i) => `set_config('${name}', $${i + 1}, true)`).join(', ')}`;
  return { name: `fg_ctx_${ctx.role}`, text, values: settings.map(([, v]) => v ?? '') };
}

export const BEGIN: Step = { name: 'fg_begin', text: 'begin' };
export const COMMIT: Step = { name: 'fg_commit', text: 'commit' };

/** The opening: BEGIN and the context, both sent in the pipeline of the first statement (pipeline.ts). */
function opening(ctx: DbContext, readOnly: boolean): Step[] {
  return [readOnly ? { name: 'fg_begin_ro', text: 'begin read only' } : BEGIN, contextStep(ctx)];
}

export function assertRole(ctx: DbContext): void {
  if (!(ctx.role in ROLES)) throw new Error(`unknown role ${String(ctx.role)}`);
}

export const PLAN_CUSTOM: Step = { name: 'fg_plan_custom', text: "select set_config('plan_cache_mode', 'force_custom_plan', true)" };
export const PLAN_GENERIC: Step = { name: 'fg_plan_generic', text: "select set_config('plan_cache_mode', 'force_generic_plan', true)" };

/**
 * A Tx on `client`. `pending` is the opening not sent yet: it goes in front of the first statement. A
 * caller's own transaction (audit snapshots) passes none.
 */
export function txOver(client: PoolClient, ctx: DbContext, beforeCommit: (step: Step) => void, pending: Step[] = []): Tx & { pending: Step[] } {
  const state = { pending };
  // `after` steps follow the statement in the same round trip; the statement's own result is returned.
  const run = async <R>(step: Step, before: Step[] = [], after: Step[] = []) => {
    try {
      if (state.pending.length || before.length || after.length) {
        const steps = [...state.pending, ...before, step, ...after];
        state.pending = [];
        const r = await runPipeline(client, steps);
        const own = r[r.length - 1 - after.length];
        return { rows: own.rows as R[], rowCount: own.rowCount };
      }
      const r = await client.query(step.name ? { name: step.name, text: step.text, values: step.values } : { text: step.text, values: step.values });
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    } catch (e) {
      throw translatePgError(e);
    }
  };
  return {
    client,
    ctx,
    beforeCommit,
    get pending() {
      return state.pending;
    },
    open: async () => {
      if (state.pending.length) await run({ text: 'select 1' });
    },
    query: (text, values) => run({ text, values }),
    queryPrepared: (name, text, values) => run({ name, text, values }),
    queryCustomPlan: (text, values) => run({ text, values }, [PLAN_CUSTOM], [PLAN_GENERIC]),
  };
}

export async function withTx<T>(db: Db, ctx: DbContext, fn: (tx: Tx) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
  assertRole(ctx);
  const client = await db.pool.connect();
  let broken = false;
  const deferred: Step[] = [];
  const tx = txOver(client, ctx, (step) => void deferred.push(step), opening(ctx, opts.readOnly ?? false));
  try {
    const result = await fn(tx);
    // Nothing sent and nothing to append: the transaction never began.
    if (tx.pending.length === 0 || deferred.length > 0) {
      try {
        await runPipeline(client, [...tx.pending, ...deferred, COMMIT]);
      } catch (e) {
        throw translatePgError(e);
      }
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
