// Which patients an access touched, for entity[patient] (BALP: one AuditEvent per patient). The write
// path reports exactly (the compartments it stored, noteTouched); for reads and searches the served
// JSON is scanned for Patient references and Patient resources (stored text is compact JSON, so a
// reference is always `"Patient/<id>"` or a full URL ending in `/Patient/<id>`).

const touched = new WeakMap<object, Set<string>>();

/** Records `Patient/<id>` values touched inside the transaction `tx`. */
export function noteTouched(tx: object, compartments: readonly string[]): void {
  if (compartments.length === 0) return;
  let s = touched.get(tx);
  if (!s) {
    s = new Set();
    touched.set(tx, s);
  }
  for (const c of compartments) if (c.startsWith('Patient/')) s.add(c);
}

export function takeTouched(tx: object): string[] {
  const s = touched.get(tx);
  touched.delete(tx);
  return s ? [...s] : [];
}

// A scan for "Patient" by indexOf, then the two shapes tested at each hit: a reference `"Patient/<id>` or
// `/Patient/<id>` (id: 1–64 of [A-Za-z0-9-.], then `"` or `/`), and a Patient resource's own
// `"resourceType":"Patient","id":"<id>"`. It finds what the regular expressions
// /["/]Patient\/([A-Za-z0-9\-.]{1,64})(?=["/])/g and /"resourceType":"Patient","id":"([A-Za-z0-9\-.]{1,64})"/g
// find (test/audit/touched.test.ts holds them to it) in a third to a sixth of their time: every search's
// page is scanned, 20–70 kB of text (20 Patients: 50 → 7.8 µs; 20 Observations: 17 → 6.4 µs).
const QUOTE = 34;
const SLASH = 47;
const RESOURCE_PREFIX = '"resourceType":"';
const RESOURCE_SUFFIX = 'Patient","id":"';

function isIdChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46;
}

/** End of the id starting at `from` (1–64 id characters), or -1. */
function idEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && isIdChar(text.charCodeAt(end))) end++;
  return end > from && end - from <= 64 ? end : -1;
}

/** Patient ids referenced by, or being, the resources in a response body. */
export function patientsInText(text: string | undefined, into: Set<string> = new Set()): Set<string> {
  if (!text) return into;
  let at = text.indexOf('Patient');
  while (at >= 0) {
    let next = at + 7;
    const before = text.charCodeAt(at - 1);
    const after = text.charCodeAt(at + 7);
    if (after === SLASH && (before === QUOTE || before === SLASH)) {
      const end = idEnd(text, at + 8);
      const c = end < 0 ? -1 : text.charCodeAt(end);
      if (c === QUOTE || c === SLASH) {
        into.add(text.slice(at, end));
        next = end; // as a global expression goes on: after the match, its lookahead not consumed
      }
    } else if (after === QUOTE && text.startsWith(RESOURCE_SUFFIX, at) && text.startsWith(RESOURCE_PREFIX, at - RESOURCE_PREFIX.length)) {
      const from = at + RESOURCE_SUFFIX.length;
      const end = idEnd(text, from);
      if (end >= 0 && text.charCodeAt(end) === QUOTE) into.add(`Patient/${text.slice(from, end)}`);
    }
    at = text.indexOf('Patient', next);
  }
  return into;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const PATIENT_REF = /^Patient\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * Patient ids a query names (BALP PatientQuery: "the requestor includes a Patient id … as a query
 * parameter"): `patient=<id>|Patient/<id>`, `subject=Patient/<id>`, the type modifier
 * `patient:Patient=<id>` / `subject:Patient=<id>` (search.html#modifiers), and `_id` on Patient. Only
 * those: a chain (`patient.name=…`, `subject:Patient.birthdate=…`) and the modifiers `:missing`,
 * `:identifier`, `:text` or another type give a name, a date, an identifier or a flag, never a Patient id,
 * and read as one they would name a patient that was not asked for and put the value (a name, an MRN)
 * into entity[patient]. The patients such searches reach are found in the results (patientsInText).
 */
export function patientsInQuery(type: string | undefined, params: ReadonlyArray<[string, string]>, into: Set<string> = new Set()): Set<string> {
  for (const [k, v] of params) {
    const colon = k.indexOf(':');
    const name = colon < 0 ? k : k.slice(0, colon);
    const modifier = colon < 0 ? undefined : k.slice(colon + 1);
    if (name === 'patient' || name === 'subject') {
      if (modifier !== undefined && modifier !== 'Patient') continue;
      // A bare id is a Patient's for `patient` and for the type modifier; `subject` may point elsewhere.
      const bareIsPatient = name === 'patient' || modifier === 'Patient';
      for (const value of v.split(',')) {
        if (PATIENT_REF.test(value)) into.add(value);
        else if (bareIsPatient && ID.test(value)) into.add(`Patient/${value}`);
      }
    } else if (name === '_id' && modifier === undefined && type === 'Patient') {
      for (const value of v.split(',')) if (ID.test(value)) into.add(`Patient/${value}`);
    }
  }
  return into;
}
