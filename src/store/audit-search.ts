// The auditor's question in one query (issue: "who accessed this patient's data, when, and what":
// GET /fhir/AuditEvent?entity=Patient/123&date=ge…, also agent, action, outcome, type, subtype).
// Only leakproof text and timestamptz comparisons (rls-audit-deid-patterns.md §2.4), so the planner keeps
// using the indexes under row-level security: (tenant, entity|agent, recorded) on audit.event and, for
// patients, audit.patient_link (migrations/042: a row lists every patient of its access). Rows come back
// whole; the caller presents the events each stands for and re-checks them (src/audit/expand.ts).
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
  /** Keyset cursor: rows at or before (recorded, id), newest first (the cursor's row may have events left). */
  upTo?: { recorded: string; id: string };
}

/** A stored row (src/audit/expand.ts presents the events it stands for). */
export interface StoredAuditRow {
  id: string;
  /** '' (no patient), one `Patient/x`, or several separated by a space. */
  patient: string;
  /** The data entity (unversioned), '' when none. */
  entity: string;
  content: string;
}

export interface AuditHit extends StoredAuditRow {
  recorded: string;
}

const COLUMNS = `e.id, to_char(e.recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as recorded, e.patient, e.entity, e.content, e.recorded as at`;

/**
 * Rows newest first. With an entity or patient list, the first such list drives the query: the rows of
 * its patients through audit.patient_link, and for entity= also the rows whose data entity it names, each
 * branch read in (recorded, id) order from its index and cut at `count`, so a patient with years of
 * accesses costs a page, not all of them. The other lists become semi-joins.
 */
export async function searchAudit(tx: Tx, q: AuditQuery): Promise<AuditHit[]> {
  const values: unknown[] = [tx.ctx.tenant];
  const bind = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  /** Conditions on the (recorded, id) of alias `a`: the date bounds and the cursor. */
  const range: Array<(a: string) => string> = [];
  for (const d of q.dates) {
    const v = bind(d.instant);
    range.push((a) => `${a}.recorded ${d.op} ${v}::timestamptz`);
  }
  if (q.upTo) {
    const [r, i] = [bind(q.upTo.recorded), bind(q.upTo.id)];
    range.push((a) => `(${a}.recorded, ${a}.id) <= (${r}::timestamptz, ${i})`);
  }
  const within = (a: string) => range.map((f) => ` and ${f(a)}`).join('');
  const linked = (p: string) => `select l.id from audit.patient_link l where l.tenant = $1 and l.patient = any(${p}::text[])${within('l')}`;
  const named = (p: string) => `select x.id from audit.event x where x.tenant = $1 and x.entity = any(${p}::text[])${within('x')}`;

  const lists = [...q.entity.map((list) => ({ list, entity: true })), ...q.patient.map((list) => ({ list, entity: false }))];
  const driver = lists.shift();
  const where: string[] = [];
  for (const { list, entity } of lists) {
    const p = bind(list);
    where.push(entity ? `e.id in (${linked(p)} union all ${named(p)})` : `e.id in (${linked(p)})`);
  }
  const anyOf = (column: string, list: string[][]) => {
    for (const l of list) where.push(`e.${column} = any(${bind(l)}::text[])`);
  };
  anyOf('agent', q.agent);
  anyOf('action', q.action);
  for (const list of q.outcome) where.push(`e.outcome = any(${bind(list.map(Number))}::smallint[])`);
  anyOf('subtype', q.subtype);
  anyOf('type', q.type);
  const more = where.map((w) => ` and ${w}`).join('');
  const n = bind(q.count);
  const order = (a: string) => `order by ${a}.recorded desc, ${a}.id desc limit ${n}`;
  let sql: string;
  if (!driver) {
    sql = `select ${COLUMNS} from audit.event e where e.tenant = $1${within('e')}${more} ${order('e')}`;
  } else {
    const p = bind(driver.list);
    // One patient: equality, which the planner reads backwards in index order (it sorted all of = any(…)'s).
    const is = driver.list.length === 1 ? `= (${p}::text[])[1]` : `= any(${p}::text[])`;
    // distinct: a row listing two of the patients has a link for each; the page counts rows.
    const viaLinks = `(select distinct on (l.recorded, l.id) ${COLUMNS} from audit.patient_link l join audit.event e on e.tenant = l.tenant and e.id = l.id
      where l.tenant = $1 and l.patient ${is}${within('l')}${more} ${order('l')})`;
    const viaEntity = `(select ${COLUMNS} from audit.event e where e.tenant = $1 and e.entity ${is}${within('e')}${more} ${order('e')})`;
    // union, not union all: a row can list the patient and name it as its data entity.
    sql = `select id, recorded, patient, entity, content from (${driver.entity ? `${viaLinks} union ${viaEntity}` : viaLinks}) h order by h.at desc, h.id desc limit ${n}`;
  }
  const r = await tx.query<AuditHit>(sql, values);
  return r.rows.map((h) => ({ id: h.id, recorded: h.recorded, patient: h.patient, entity: h.entity, content: h.content }));
}

/** The stored row with this id, for the auditor's read. */
export async function readAuditRow(tx: Tx, id: string): Promise<StoredAuditRow | undefined> {
  const r = await tx.query<StoredAuditRow>('select id, patient, entity, content from audit.event where tenant = $1 and id = $2', [tx.ctx.tenant, id]);
  return r.rows[0];
}
