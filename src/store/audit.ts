// Appending AuditEvents (issue "Audit"; patterns §3.2–3.4): only through audit.append_rows() (and audit.append(), its jsonb form), the
// SECURITY DEFINER function request roles may execute. On success it is the request transaction's last
// statement, sent with the COMMIT in one round trip (tx.beforeCommit): the stripe head it locks is held
// for the append and the commit only, and if the append fails nothing commits. A refusal or failure is
// appended in a new transaction after the rollback, because ROLLBACK would erase it.
import type { Db, DbContext, Tx, Step } from './session.js';
import { withTx } from './session.js';

/** The columns of an event, in audit.append_rows' argument order, with each one's SQL type. */
const FIELDS: ReadonlyArray<[keyof AuditRowIn, string]> = [
  ['id', 'text'], ['recorded', 'timestamptz'], ['type', 'text'], ['subtype', 'text'], ['action', 'text'],
  ['outcome', 'smallint'], ['agent', 'text'], ['patient', 'text'], ['entity', 'text'], ['content', 'text'],
];
/** Events per call: 640 parameters, well under the protocol's 65,535. */
const MAX_ROWS = 64;
const appendText = new Map<number, string>();

/** A step that appends `rows` (at most MAX_ROWS) and carries them, so a group can merge its members' steps. */
type AppendStep = Step & { auditRows: readonly AuditRowIn[] };

/**
 * audit.append_rows (migrations/041) with one bound parameter per field of each event, gathered by
 * ARRAY[…] in the statement: nothing is encoded as JSON or as an array literal on either side.
 * One prepared statement per number of events.
 */
function appendSteps(rows: readonly AuditRowIn[]): AppendStep[] {
  const steps: AppendStep[] = [];
  for (let at = 0; at < rows.length; at += MAX_ROWS) {
    const part = rows.slice(at, at + MAX_ROWS);
    const n = part.length;
    let text = appendText.get(n);
    if (!text) {
      const arrays = FIELDS.map(([, type], j) => `array[${part.map((_, i) => `$${j * n + i + 1}::${type}`).join(',')}]`);
      appendText.set(n, (text = `select audit.append_rows(${arrays.join(', ')})`));
    }
    const values: unknown[] = [];
    for (const [field] of FIELDS) for (const r of part) values.push(r[field]);
    steps.push({ name: `fg_audit_rows_${n}`, text, values, auditRows: part });
  }
  return steps;
}

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
  for (const step of appendSteps(rows)) tx.beforeCommit(step);
}

/**
 * The deferred steps of a shared transaction's members (group-tx.ts), each to run under the context
 * given with it: the AuditEvent appends of one tenant become one append (audit.append_rows reads only
 * the tenant from the context; each event names its own agent and patient), other steps stay with their
 * member. One call chains all its events in one pass and one INSERT.
 */
export function mergeAuditAppends(members: ReadonlyArray<{ ctx: DbContext; deferred: Step[] }>): Array<{ ctx: DbContext; deferred: Step[] }> {
  const out: Array<{ ctx: DbContext; deferred: Step[] }> = [];
  const byTenant = new Map<string, { ctx: DbContext; rows: AuditRowIn[] }>();
  for (const m of members) {
    const others = m.deferred.filter((s) => !('auditRows' in s));
    if (others.length) out.push({ ctx: m.ctx, deferred: others });
    for (const s of m.deferred) {
      if (!('auditRows' in s)) continue;
      let t = byTenant.get(m.ctx.tenant);
      if (!t) byTenant.set(m.ctx.tenant, (t = { ctx: m.ctx, rows: [] }));
      t.rows.push(...(s as AppendStep).auditRows);
    }
  }
  for (const { ctx, rows } of byTenant.values()) out.push({ ctx, deferred: appendSteps(rows) });
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
