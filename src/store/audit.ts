// Appending AuditEvents (issue "Audit"; patterns §3.2–3.4): only through audit.append(), the one
// SECURITY DEFINER function request roles may execute. On success it is the request transaction's last
// statement, sent with the COMMIT in one round trip (tx.beforeCommit): the stripe head it locks is held
// for the append and the commit only, and if the append fails nothing commits. A refusal or failure is
// appended in a new transaction after the rollback, because ROLLBACK would erase it.
import type { Db, DbContext, Tx } from './session.js';
import { withTx } from './session.js';

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
  tx.beforeCommit({ name: 'fg_audit_append', text: 'select audit.append($1::jsonb)', values: [JSON.stringify(rows)] });
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
