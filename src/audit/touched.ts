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

const REF = /["/]Patient\/([A-Za-z0-9\-.]{1,64})(?=["/])/g;
const RESOURCE = /"resourceType":"Patient","id":"([A-Za-z0-9\-.]{1,64})"/g;

/** Patient ids referenced by, or being, the resources in a response body. */
export function patientsInText(text: string | undefined, into: Set<string> = new Set()): Set<string> {
  if (!text || !text.includes('Patient')) return into;
  for (const m of text.matchAll(REF)) into.add(`Patient/${m[1]}`);
  for (const m of text.matchAll(RESOURCE)) into.add(`Patient/${m[1]}`);
  return into;
}

/** Patient ids a query names: `patient=`, `subject=Patient/…`, or `_id` on Patient. */
export function patientsInQuery(type: string | undefined, params: ReadonlyArray<[string, string]>, into: Set<string> = new Set()): Set<string> {
  for (const [k, v] of params) {
    const name = k.split(':')[0].split('.')[0];
    for (const value of v.split(',')) {
      if ((name === 'patient' || name === 'subject') && /^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/.test(value)) {
        if (name === 'patient' || value.startsWith('Patient/')) into.add(value.startsWith('Patient/') ? value : `Patient/${value}`);
      } else if (name === '_id' && type === 'Patient' && /^[A-Za-z0-9\-.]{1,64}$/.test(value)) into.add(`Patient/${value}`);
    }
  }
  return into;
}
