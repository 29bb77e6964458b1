// Appending AuditEvents (issue "Audit"; patterns §3.2–3.4): only through audit.append(), the one
// SECURITY DEFINER function request roles may execute. On success it is the request transaction's last
// statement, sent with the COMMIT in one round trip (tx.beforeCommit): the stripe head it locks is held
// for the append and the commit only, and if the append fails nothing commits. A refusal or failure is
// appended in a new transaction after the rollback, because ROLLBACK would erase it.
import type { Db, DbContext, Tx, Step } from './session.js';
import { withTx } from './session.js';

const APPEND = { name: 'fg_audit_append', text: 'select audit.append($1::jsonb)' };

/** One event as the store receives it (built by src/audit/balp.ts). */
export interface AuditRowIn {
  id: string;
  recorded: string;
  type: string;
  subtype: string;
  action: string;
  outcome: number;
  agent: string;
  patient: string;
  entity: string;
  content: string;
}

/**
 * Appends the request's events, last in its transaction: they ride the COMMIT's round trip as a bound
 * parameter of a prepared statement (tx.beforeCommit, src/store/pipeline.ts).
 */
export async function appendAudit(tx: Tx, rows: readonly AuditRowIn[]): Promise<void> {
  if (rows.length === 0) return;
  tx.beforeCommit({ ...APPEND, values: [JSON.stringify(rows)] });
}

/**
 * The deferred steps of a shared transaction's members (group-tx.ts), each to run under the context
 * given with it: the AuditEvent appends of one tenant become ONE append (audit.append reads only the
 * tenant from the context; each event names its own agent and patient), other steps stay with their
 * member. One append of n events chains them in one pass (037's general path) instead of n.
 */
export function mergeAuditAppends(members: ReadonlyArray<{ ctx: DbContext; deferred: Step[] }>): Array<{ ctx: DbContext; deferred: Step[] }> {
  const out: Array<{ ctx: DbContext; deferred: Step[] }> = [];
  const byTenant = new Map<string, { ctx: DbContext; arrays: string[] }>();
  for (const m of members) {
    const others = m.deferred.filter((s) => s.name !== APPEND.name);
    if (others.length) out.push({ ctx: m.ctx, deferred: others });
    for (const s of m.deferred) {
      if (s.name !== APPEND.name) continue;
      let t = byTenant.get(m.ctx.tenant);
      if (!t) byTenant.set(m.ctx.tenant, (t = { ctx: m.ctx, arrays: [] }));
      t.arrays.push(String(s.values![0]));
    }
  }
  // Each value is a JSON array written by appendAudit: their elements joined make one array.
  for (const { ctx, arrays } of byTenant.values()) {
    const joined = arrays.length === 1 ? arrays[0] : `[${arrays.map((a) => a.slice(1, -1)).filter((a) => a.trim()).join(',')}]`;
    out.push({ ctx, deferred: [{ ...APPEND, values: [joined] }] });
  }
  return out;
}

/** A refusal or failure: its own short transaction under the caller's role and tenant. */
export async function appendAuditAlone(db: Db, ctx: DbContext, rows: readonly AuditRowIn[]): Promise<void> {
  if (rows.length === 0) return;
  await withTx(db, ctx, (tx) => appendAudit(tx, rows));
}

/** The compartments of a version just superseded (a delete reports whose data it removed). */
export async function compartmentsOf(tx: Tx, type: string, id: string, version: number): Promise<string[]> {
  const r = await tx.query<{ compartments: string[] }>(
    'select compartments from fhir.resource_history where tenant = $1 and type = $2 and id = $3 and version = $4', [tx.ctx.tenant, type, id, version]);
  return r.rows[0]?.compartments ?? [];
}
