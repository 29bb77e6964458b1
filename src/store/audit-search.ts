// The auditor's question in one query (issue: "who accessed this patient's data, when, and what":
// GET /fhir/AuditEvent?entity=Patient/123&date=ge…, also agent, action, outcome, type, subtype).
// Only text and timestamptz comparisons (leakproof, rls-audit-deid-patterns.md §2.4), so the planner
// keeps using the (tenant, patient|entity|agent, recorded) indexes under row-level security.
import type { Tx } from './session.js';

export interface DateBound {
  op: '>=' | '<';
  instant: string;
}

export interface AuditQuery {
  /** Each inner list is OR'd (comma-separated values); lists are AND'd (repeated parameters). */
  entity: string[][];
  patient: string[][];
  agent: string[][];
  action: string[][];
  outcome: string[][];
  subtype: string[][];
  type: string[][];
  dates: DateBound[];
  count: number;
  /** Keyset cursor: events strictly before (recorded, id), newest first. */
  after?: { recorded: string; id: string };
}

export interface AuditHit {
  id: string;
  recorded: string;
  content: string;
}

export async function searchAudit(tx: Tx, q: AuditQuery): Promise<AuditHit[]> {
  const values: unknown[] = [tx.ctx.tenant];
  const where: string[] = ['tenant = $1'];
  const bind = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const anyOf = (column: string, lists: string[][]) => {
    for (const list of lists) where.push(`${column} = any(${bind(list)}::text[])`);
  };
  // entity= matches the patient entity or the data entity (both are `entity.what`).
  for (const list of q.entity) {
    const p = bind(list);
    where.push(`(patient = any(${p}::text[]) or entity = any(${p}::text[]))`);
  }
  anyOf('patient', q.patient);
  anyOf('agent', q.agent);
  anyOf('action', q.action);
  for (const list of q.outcome) where.push(`outcome = any(${bind(list.map(Number))}::smallint[])`);
  anyOf('subtype', q.subtype);
  anyOf('type', q.type);
  for (const d of q.dates) where.push(`recorded ${d.op} ${bind(d.instant)}::timestamptz`);
  if (q.after) where.push(`(recorded, id) < (${bind(q.after.recorded)}::timestamptz, ${bind(q.after.id)})`);
  const r = await tx.query<{ id: string; recorded: string; content: string }>(
    `select id, to_char(recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as recorded, content
     from audit.event where ${where.join(' and ')} order by recorded desc, id desc limit ${bind(q.count)}`, values);
  return r.rows;
}

/** The AuditEvent with this id, for the auditor's read. */
export async function readAuditEvent(tx: Tx, id: string): Promise<string | undefined> {
  const r = await tx.query<{ content: string }>('select content from audit.event where tenant = $1 and id = $2', [tx.ctx.tenant, id]);
  return r.rows[0]?.content;
}
