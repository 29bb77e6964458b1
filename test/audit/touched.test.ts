// Which patients a response touched (src/audit/touched.ts): the indexOf scan must find exactly what the two
// regular expressions it replaced find, on ordinary bundles and on text built to trip it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patientsInQuery, patientsInText } from '../../src/audit/touched.js';

const REF = /["/]Patient\/([A-Za-z0-9\-.]{1,64})(?=["/])/g;
const RESOURCE = /"resourceType":"Patient","id":"([A-Za-z0-9\-.]{1,64})"/g;

function byRegex(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(REF)) out.add(`Patient/${m[1]}`);
  for (const m of text.matchAll(RESOURCE)) out.add(`Patient/${m[1]}`);
  return [...out].sort();
}

const scan = (text: string) => [...patientsInText(text)].sort();

test('a searchset page: references, full URLs and Patient resources', () => {
  const bundle = JSON.stringify({
    resourceType: 'Bundle',
    entry: [
      { fullUrl: 'http://h/fhir/Patient/p-1', resource: { resourceType: 'Patient', id: 'p-1', link: [{ other: { reference: 'Patient/p.2' } }] } },
      { resource: { resourceType: 'Observation', id: 'o1', subject: { reference: 'Patient/p3' }, performer: [{ reference: 'https://x/fhir/Patient/p4/_history/2' }] } },
      { resource: { resourceType: 'Observation', id: 'o2', subject: { reference: 'Patient' }, note: [{ text: 'Patient/ p5 "Patient/p6 xPatient/p7"' }] } },
    ],
  });
  assert.deepEqual(scan(bundle), ['Patient/p-1', 'Patient/p.2', 'Patient/p3', 'Patient/p4']);
  assert.deepEqual(scan(bundle), byRegex(bundle));
});

test('ids of 64 characters count, 65 do not; nothing at all in empty text', () => {
  const id64 = 'a'.repeat(64);
  const text = `"Patient/${id64}" "Patient/${id64}b" "resourceType":"Patient","id":"${id64}x"`;
  assert.deepEqual(scan(text), [`Patient/${id64}`]);
  assert.deepEqual(scan(text), byRegex(text));
  assert.deepEqual(scan(''), []);
  assert.deepEqual([...patientsInText(undefined)], []);
});

test('the same findings as the regular expressions on 5,000 random texts', () => {
  const pieces = ['Patient', 'Patient/', '/', '"', 'a', 'Z', '9', '-', '.', ' ', ',', '"resourceType":"', 'Patient","id":"', 'x', 'P', ':'];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  for (let i = 0; i < 5000; i++) {
    let text = '';
    const n = 1 + rand(40);
    for (let j = 0; j < n; j++) text += pieces[rand(pieces.length)];
    assert.deepEqual(scan(text), byRegex(text), text);
  }
});

test('the patients a query names: patient, subject=Patient/…, the :Patient type modifier and Patient?_id; never a chain or another modifier', () => {
  const named = (type: string, params: Array<[string, string]>) => [...patientsInQuery(type, params)].sort();
  assert.deepEqual(named('Observation', [['patient', 'p1,Patient/p2']]), ['Patient/p1', 'Patient/p2']);
  assert.deepEqual(named('Observation', [['subject', 'Patient/p3'], ['subject', 'Group/g1'], ['subject', 'p4']]), ['Patient/p3']);
  assert.deepEqual(named('Observation', [['subject:Patient', 'p5'], ['patient:Patient', 'Patient/p6']]), ['Patient/p5', 'Patient/p6']);
  assert.deepEqual(named('Patient', [['_id', 'p7,p8']]), ['Patient/p7', 'Patient/p8']);
  assert.deepEqual(named('Observation', [['_id', 'o1']]), []);
  // A chain's value describes the patient (a name, a birth date), a modifier's is an identifier, a flag or
  // text: none is a Patient id, and none may become an entity[patient].
  for (const p of [['patient.name', 'Smith'], ['patient.birthdate', '1970-01-01'], ['subject:Patient.name', 'Smith'], ['patient:missing', 'false'],
    ['patient:identifier', 'MRN123'], ['subject:identifier', 'MRN123'], ['patient:text', 'Smith'], ['subject:Group', 'g1'], ['_id:not', 'p1'], ['_has:Observation:patient:code', 'x']] as Array<[string, string]>) {
    assert.deepEqual(named('Observation', [p]), [], p.join('='));
    assert.deepEqual(named('Patient', [p]), [], p.join('='));
  }
});
