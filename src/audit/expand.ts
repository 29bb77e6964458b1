// A stored audit row as the AuditEvents it stands for (balp.ts stores one row per access: IHE BALP asks for
// one AuditEvent per patient, patterns §3.5). A row whose `patient` lists several patients holds the event
// of the first; the event of patient k (k = 2, 3, … in the row's sorted order) is the same text with its
// entity[patient] and its id swapped, and its id is `<row id>.<k>` (R4 ids allow '.'; row ids are UUIDs,
// which never contain one). Pure string work on the canonical text balp.ts wrote: inside a JSON string
// every '"' is escaped, so `,"id":"…"` and `"entity":[{…` can only be the event's own keys.
// Events written before balp.ts left out an empty `entity` hold `"entity":[]`, which FHIR JSON forbids
// (json.html: "arrays SHALL NOT be empty"): they are served without it. Only the presentation changes; the
// stored text, the one the chain hashes, stays as written, so those events still verify.
import { patientEntityJson, PATIENT_SEPARATOR } from './balp.js';
import type { StoredAuditRow } from '../store/audit-search.js';

export interface PresentedAuditEvent {
  id: string;
  /** 1-based position of the event's patient in the row (1 for a row of one or no patient). */
  k: number;
  patient: string;
  content: string;
}

export function rowPatients(patient: string): string[] {
  return patient === '' ? [] : patient.split(PATIENT_SEPARATOR);
}

/** `<row id>` → k 1, `<row id>.<k>` → k (k ≥ 2); anything else is not an event id this server made. */
export function parseEventId(id: string): { rowId: string; k: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot < 0) return { rowId: id, k: 1 };
  const k = id.slice(dot + 1);
  return /^[1-9]\d{0,5}$/.test(k) && Number(k) >= 2 ? { rowId: id.slice(0, dot), k: Number(k) } : undefined;
}

export const eventId = (rowId: string, k: number): string => (k === 1 ? rowId : `${rowId}.${k}`);

const EMPTY_ENTITY = ',"entity":[],"id":';

/** The stored text as a valid R4 AuditEvent (an empty `entity` left out). */
function served(content: string): string {
  return content.includes(EMPTY_ENTITY) ? content.replace(EMPTY_ENTITY, ',"id":') : content;
}

/** The event of the row's k-th patient (1-based), or undefined when the row has no such patient. */
export function presentEvent(row: StoredAuditRow, k: number): PresentedAuditEvent | undefined {
  const patients = rowPatients(row.patient);
  if (k === 1) return { id: row.id, k, patient: patients[0] ?? '', content: served(row.content) };
  if (k > patients.length) return undefined;
  const idKey = `,"id":${JSON.stringify(row.id)},`;
  const first = `"entity":[${patientEntityJson(patients[0])}`;
  const e = row.content.indexOf(first);
  const i = row.content.indexOf(idKey);
  if (e < 0 || i < e) throw new Error(`audit row ${row.id} does not hold the event of its first patient`);
  const id = eventId(row.id, k);
  const c = row.content;
  const content = `${c.slice(0, e)}"entity":[${patientEntityJson(patients[k - 1])}${c.slice(e + first.length, i)},"id":${JSON.stringify(id)},${c.slice(i + idKey.length)}`;
  return { id, k, patient: patients[k - 1], content };
}

/** Every event the row stands for, in patient order. */
export function presentEvents(row: StoredAuditRow): PresentedAuditEvent[] {
  const n = Math.max(1, rowPatients(row.patient).length);
  const out: PresentedAuditEvent[] = [];
  for (let k = 1; k <= n; k++) out.push(presentEvent(row, k)!);
  return out;
}
