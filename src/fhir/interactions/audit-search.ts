// AuditEvent search and read for the auditor role (issue "Audit": "The auditor role answers 'who
// accessed this patient's data, when, and what' with one search"; R4 auditevent.html search parameters
// entity, patient, agent, action, outcome, type, subtype, date). The events live in schema audit, which
// only the auditor role can read (RLS); any other role gets 403 from the database itself.
// Routes (the lead adds them before the generic search/read): GET AuditEvent → auditSearch,
// GET AuditEvent/:id → auditRead.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import type { Services } from '../services.js';
import { searchAudit, readAuditRow, type AuditHit, type AuditQuery, type DateBound } from '../../store/audit-search.js';
import { parseEventId, presentEvent, presentEvents, type PresentedAuditEvent } from '../../audit/expand.js';
import { badRequest, notFound } from '../../errors.js';
import { decodeCursor, encodeCursor, pageUrl, parseCount } from '../bundle-links.js';
import { dateRange, isoOf } from '../../search/dates.js';
import { isTimestamp } from '../../search/cursor.js';

const IGNORED = new Set(['_format', '_pretty', '_count', '_cursor']);
const REF = /(?:^|\/)([A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64})$/;
const PREFIX = /^(eq|ge|gt|le|lt)?(.*)$/;

function reference(v: string, name: string): string {
  const m = REF.exec(v);
  if (!m) throw badRequest(`${name}: '${v.slice(0, 80)}' is not a reference`, [name]);
  return m[1];
}

function token(v: string): string {
  const bar = v.lastIndexOf('|');
  return bar >= 0 ? v.slice(bar + 1) : v;
}

/**
 * R4 search.html "date": the value's implicit range [lo, hi) (search/dates.ts, as every other date search
 * reads it, including days, hours and offsets that do not exist) and the prefix's comparison on an instant.
 */
export function dateBounds(v: string): DateBound[] {
  const m = PREFIX.exec(v)!;
  const prefix = m[1] ?? 'eq';
  const r = m[2].startsWith('0000') ? undefined : dateRange(m[2]);
  if (!r) throw badRequest(`date: '${v.slice(0, 40)}' is not a valid date, or its prefix is not supported (eq, ge, gt, le, lt)`, ['date']);
  const L = isoOf(r.lo);
  const H = isoOf(r.hi);
  switch (prefix) {
    case 'ge': return [{ op: '>=', instant: L }];
    case 'gt': return [{ op: '>=', instant: H }];
    case 'lt': return [{ op: '<', instant: L }];
    case 'le': return [{ op: '<', instant: H }];
    default: return [{ op: '>=', instant: L }, { op: '<', instant: H }];
  }
}

/** The search parameters this search implements: the CapabilityStatement declares these (operations/metadata.ts). */
export const AUDIT_SEARCH_PARAMS: readonly string[] = ['date', 'entity', 'patient', 'agent', 'action', 'outcome', 'type', 'subtype'];

export function parseAuditQuery(params: Array<[string, string]>, count: number): AuditQuery {
  const q: AuditQuery = { entity: [], patient: [], agent: [], action: [], outcome: [], subtype: [], type: [], dates: [], count };
  for (const [k, v] of params) {
    if (IGNORED.has(k)) continue;
    // An empty value would match the events that have none (agent= matched every event without an agent).
    if (v.split(',').some((x) => x === '')) throw badRequest(`${k.slice(0, 40)}: a value is empty`, [k]);
    const values = v.split(',');
    switch (k) {
      case 'entity': q.entity.push(values.map((x) => reference(x, k))); break;
      case 'patient': q.patient.push(values.map((x) => `Patient/${/^[A-Za-z0-9\-.]{1,64}$/.test(x) ? x : reference(x, k).replace(/^Patient\//, '')}`)); break;
      case 'agent': q.agent.push(values.map((x) => (REF.test(x) ? reference(x, k) : x))); break;
      case 'action':
        if (!values.every((x) => /^[CRUDE]$/.test(x))) throw badRequest('action must be C, R, U, D or E', ['action']);
        q.action.push(values);
        break;
      case 'outcome':
        if (!values.every((x) => /^(0|4|8|12)$/.test(x))) throw badRequest('outcome must be 0, 4, 8 or 12', ['outcome']);
        q.outcome.push(values);
        break;
      case 'subtype': q.subtype.push(values.map(token)); break;
      case 'type': q.type.push(values.map(token)); break;
      case 'date': q.dates.push(...dateBounds(v)); break;
      default: throw badRequest(`AuditEvent search does not support the parameter '${k.slice(0, 40)}'`, [k]);
    }
  }
  return q;
}

/** The last event served: its row's (recorded, id) and the position k of its patient in the row. */
interface Cursor { r: string; i: string; k?: number }

/** A cursor as auditSearch writes it; anything else (edited by hand) is the client's error, not a database one. */
function validCursor(c: Cursor): Cursor {
  const ok = typeof c === 'object' && c !== null && typeof c.r === 'string' && isTimestamp(c.r)
    && typeof c.i === 'string' && /^[A-Za-z0-9\-.]{1,64}$/.test(c.i) && (c.k === undefined || (Number.isInteger(c.k) && c.k >= 1));
  if (!ok) throw badRequest('_cursor is not a cursor this server issued', ['_cursor']);
  return c;
}

/** A presented event meets every patient and entity list itself, not only its row (which lists all its patients). */
function eventMatches(q: AuditQuery, row: AuditHit, e: PresentedAuditEvent): boolean {
  return q.patient.every((list) => list.includes(e.patient)) && q.entity.every((list) => list.includes(e.patient) || list.includes(row.entity));
}

export async function auditSearch(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const count = parseCount(req.params, 50, 1000);
  const q = parseAuditQuery(req.params, count + 1);
  const cursorText = req.params.find(([k]) => k === '_cursor')?.[1];
  const cursor = cursorText ? validCursor(decodeCursor<Cursor>(cursorText)) : undefined;
  if (cursor) q.upTo = { recorded: cursor.r, id: cursor.i };
  // Rows, newest first; each stands for one event per patient it lists (src/audit/expand.ts). count + 1
  // rows hold at least count + 1 events unless the lists match different patients of one row.
  const rows = await searchAudit(tx, q);
  const events: Array<{ row: AuditHit; e: PresentedAuditEvent }> = [];
  for (const row of rows) {
    for (const e of presentEvents(row)) {
      if (cursor && row.id === cursor.i && e.k <= (cursor.k ?? Infinity)) continue; // served on an earlier page
      if (eventMatches(q, row, e)) events.push({ row, e });
    }
  }
  const page = events.slice(0, count);
  const base = svc.config.fhirBase;
  const links = [`{"relation":"self","url":${JSON.stringify(pageUrl(base, 'AuditEvent', req.params, {}))}}`];
  const last = events.length > count ? page[page.length - 1] : rows.length > count ? { row: rows[rows.length - 1], e: { k: Infinity } } : undefined;
  if (last && count > 0) {
    const next: Cursor = { r: last.row.recorded, i: last.row.id, k: Number.isFinite(last.e.k) ? last.e.k : 1e9 };
    links.push(`{"relation":"next","url":${JSON.stringify(pageUrl(base, 'AuditEvent', req.params, { _cursor: encodeCursor(next) }))}}`);
  }
  const entries = page.map(({ e }) => `{"fullUrl":${JSON.stringify(`${base}/AuditEvent/${e.id}`)},"resource":${e.content},"search":{"mode":"match"}}`);
  // Reading the audit trail is itself audited, but it touches no patient's clinical data.
  return { status: 200, raw: `{"resourceType":"Bundle","type":"searchset","link":[${links.join(',')}],"entry":[${entries.join(',')}]}`, audit: { patients: [] } };
}

export async function auditRead(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  const id = req.segments[1];
  const at = parseEventId(id);
  const row = at && (await readAuditRow(tx, at.rowId));
  const event = row && presentEvent(row, at.k);
  if (!event) throw notFound(`AuditEvent/${id} is not known`);
  return { status: 200, raw: event.content, audit: { patients: [], entity: `AuditEvent/${id}` } };
}
