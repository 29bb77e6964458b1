// Adversarial shapes for the Safe Harbor transform (45 CFR §164.514(b)(2)(i)), one leak per test: values a
// writer can place where the walk once copied them as written. Pure: deidentify on objects, no database
// (deid-leaks-api.test.ts plants the ones the server accepts and reads them back as a researcher).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deidentify } from '../../src/deid/safe-harbor.js';
import { Pseudonyms } from '../../src/deid/pseudonym.js';

const p = new Pseudonyms(Buffer.from('unit-test-key-unit-test-key-0123456789'), 'k1', 'default');
const NOW = new Date('2026-06-01T00:00:00Z');
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function sh(resource: object, mode: 'safe-harbor' | 'date-shift' = 'safe-harbor'): J {
  return deidentify(resource as Record<string, unknown>, ['Patient/p'], { mode, pseudonyms: p, now: NOW })!.resource;
}
function assertNone(resource: unknown, planted: string[]): void {
  const text = JSON.stringify(resource);
  for (const phi of planted) assert.ok(!text.includes(phi), `'${phi}' survived: ${text}`);
}
const subject = { reference: 'Patient/p' };
const UCUM = 'http://unitsofmeasure.org';

test('C: a dateTime whose fraction of a second is long is still reduced to its year, in both modes', () => {
  const obs = { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ code: 'x' }] }, subject,
    effectiveDateTime: '2014-07-19T10:11:12.1234567890123+05:00', issued: '2013-08-20T01:02:03.12345678901234567890Z' };
  const d = sh(obs);
  assert.equal(d.effectiveDateTime, '2014');
  assert.equal(d.issued, '2013');
  const shifted = sh(obs, 'date-shift');
  assertNone(shifted, ['2014-07-19', '2013-08-20']);
});

test('C: a date element that is not a readable date is removed, not copied as written', () => {
  const d = sh({ resourceType: 'Encounter', id: 'e', status: 'finished', class: { code: 'AMB' }, subject,
    period: { start: '2019-03-04 10:00', end: 'March 5th 2019' } });
  assertNone(d, ['03-04', 'March']);
});

test('C: any date whose year reveals an age over 89 is removed (a relative\'s birth, an event in 1930, a birth date observed)', () => {
  const fmh = sh({ resourceType: 'FamilyMemberHistory', id: 'f', status: 'completed', patient: subject, relationship: { coding: [{ code: 'GRMTH' }] },
    bornDate: '1921-07-08', deceasedDate: '2001-02-03' });
  assert.equal(fmh.bornDate, undefined);
  assert.equal(fmh.deceasedDate, '2001', 'a recent date keeps its year');
  const enc = sh({ resourceType: 'Encounter', id: 'e', status: 'finished', class: { code: 'AMB' }, subject, period: { start: '1930-04-05', end: '1990-01-01' } });
  assert.deepEqual(enc.period, { end: '1990' });
  const birth = sh({ resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ code: '21112-8' }] }, subject, valueDateTime: '1931-02-03' });
  assert.equal(birth.valueDateTime, undefined);
  const med = sh({ resourceType: 'MedicationRequest', id: 'm', status: 'active', intent: 'order', subject, medicationCodeableConcept: { coding: [{ code: 'x' }] },
    dosageInstruction: [{ timing: { event: ['1935-01-02', '2020-01-02'] } }] });
  assert.deepEqual(med.dosageInstruction[0].timing.event, ['2020']);
  assert.equal(sh({ resourceType: 'Patient', id: 'y', birthDate: '1936-06-02' }).birthDate, '1936', '89 years old: kept, as before');
});

test('C: ages over 89 in any UCUM time unit, and Age values without a unit, are grouped as 90 or older', () => {
  for (const age of [{ value: 95, unit: 'years', system: UCUM, code: 'a_j' }, { value: 95, unit: 'years', system: UCUM, code: 'a_g' }, { value: 95 },
    { value: 95, unit: 'yrs' }, { value: 1200, unit: 'months', system: UCUM, code: 'mo_j' }, { value: 800000, code: 'h' }, { value: 95, unit: '{years}' }]) {
    const c = sh({ resourceType: 'Condition', id: 'c', subject, onsetAge: age });
    assert.deepEqual(c.onsetAge, { value: 90, comparator: '>=', unit: 'years', system: UCUM, code: 'a' }, JSON.stringify(age));
  }
  const obs = sh({ resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ code: '30525-0' }] }, subject,
    component: [{ code: { coding: [{ code: 'age' }] }, valueQuantity: { value: 97, unit: 'Years', system: UCUM, code: 'a_j' } }] });
  assert.equal(obs.component[0].valueQuantity.value, 90);
  assert.equal(sh({ resourceType: 'Condition', id: 'c', subject, onsetAge: { value: 40, code: 'a_j' } }).onsetAge.value, 40);
  assert.equal(sh({ resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ code: 'x' }] }, subject, valueQuantity: { value: 170, code: 'cm' } }).valueQuantity.value, 170);
});

test('R: contained resources get local pseudonyms, the same in their id and every #reference to them', () => {
  const d = sh({ resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ code: 'x' }] }, subject,
    contained: [{ resourceType: 'Practitioner', id: 'zqx-dr-lovelace-1958', name: [{ family: 'Lovelace' }] },
      { resourceType: 'Questionnaire', id: 'zqx-q', status: 'active' }],
    performer: [{ reference: '#zqx-dr-lovelace-1958' }], hasMember: [{ reference: '#zqx-dangling-name' }] });
  assertNone(d, ['zqx', 'lovelace', 'Lovelace']);
  assert.equal(d.performer[0].reference, `#${d.contained[0].id}`);
  assert.match(d.contained[0].id, /^[0-9a-f]{32}$/);
  const qr = sh({ resourceType: 'QuestionnaireResponse', id: 'q', status: 'completed', subject, questionnaire: '#zqx-q',
    contained: [{ resourceType: 'Questionnaire', id: 'zqx-q', status: 'active' }] });
  assertNone(qr, ['zqx']);
  assert.equal(qr.questionnaire, `#${qr.contained[0].id}`, 'a canonical to a contained definition follows it');
});

test('G-R: resources inside a stored Bundle get the pseudonyms of their type and id; response locations are removed', () => {
  const d = sh({ resourceType: 'Bundle', id: 'b', type: 'collection', entry: [{ fullUrl: 'https://ehr.example/fhir/Patient/zqx-bundled',
    resource: { resourceType: 'Patient', id: 'zqx-bundled', gender: 'male' }, response: { status: '201', location: 'Patient/zqx-bundled/_history/1', etag: 'W/"1"' } }] });
  assertNone(d, ['zqx']);
  assert.equal(d.entry[0].resource.id, p.id('Patient', 'zqx-bundled'));
});

test('N, R: URIs, URLs and reference versions the writer chose are removed; code systems, reference types and version numbers stay', () => {
  const plan = sh({ resourceType: 'CarePlan', id: 'c', status: 'active', intent: 'plan', subject, instantiatesUri: ['https://ehr.example/zqx-patient/plan'],
    activity: [{ detail: { status: 'completed', instantiatesUri: ['https://zqx.example/a'], code: { coding: [{ system: 'http://snomed.info/sct', code: '1' }] } } }] });
  assertNone(plan, ['zqx']);
  assert.equal(plan.activity[0].detail.code.coding[0].system, 'http://snomed.info/sct');
  const elig = sh({ resourceType: 'CoverageEligibilityResponse', id: 'e', status: 'active', purpose: ['benefits'], patient: subject, created: '2020-01-01',
    request: { reference: 'CoverageEligibilityRequest/r', type: 'CoverageEligibilityRequest' }, outcome: 'complete', insurer: { reference: 'Organization/o' },
    insurance: [{ coverage: { reference: 'Coverage/c' }, item: [{ authorizationUrl: 'https://payer.example/auth/zqx-member-77' }] }] });
  assertNone(elig, ['zqx']);
  assert.equal(elig.request.type, 'CoverageEligibilityRequest');
  const versioned = sh({ resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ code: 'x' }] }, subject: { reference: 'Patient/p/_history/zqx-ada-1958' },
    encounter: { reference: 'https://ehr.example/fhir/Encounter/e/_history/3' } });
  assertNone(versioned, ['zqx', 'ehr.example']);
  assert.equal(versioned.subject.reference, `Patient/${p.id('Patient', 'p')}`, 'a version that is not a number goes, the reference stays');
  assert.equal(versioned.encounter.reference, `Encounter/${p.id('Encounter', 'e')}/_history/3`);
  const ep = sh({ resourceType: 'Endpoint', id: 'e', status: 'active', connectionType: { code: 'hl7-fhir-rest' }, payloadType: [{ coding: [{ code: 'x' }] }],
    address: 'https://zqx-home-server.example/fhir' });
  assertNone(ep, ['zqx']);
  const dm = sh({ resourceType: 'DocumentManifest', id: 'd', status: 'current', subject, content: [{ reference: 'DocumentReference/x' }], source: 'urn:zqx:device:serial-1' });
  assertNone(dm, ['zqx']);
});

test('deny by default: elements outside the R4 definitions, whatever their JSON type, are removed', () => {
  const d = sh({ resourceType: 'Patient', id: 'x', birthDate: '1980-01-02', unknownThing: { family: 'ZQXunknown' }, aliases: ['ZQXalias'], ssnNumber: 999123456,
    gender: { text: 'ZQXgender' }, name: 'ZQX string name', generalPractitioner: [{ reference: 'Practitioner/d', display: 'Dr ZQX', system: 'x', code: 'y' }] });
  assertNone(d, ['ZQX', '999123456']);
  assert.equal(d.birthDate, '1980');
  const obs = sh({ resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '1', display: 'Glucose' }] }, subject,
    valueQuantity: { value: 1, unit: 'mg', extra: ['ZQXextra'] } });
  assertNone(obs, ['ZQX']);
  assert.equal(obs.code.coding[0].display, 'Glucose', 'a coding\'s display is terminology');
});

test('O, A: types never copied stay out when nested; a display without a code is free text', () => {
  const b = sh({ resourceType: 'Bundle', id: 'b', type: 'collection', entry: [
    { resource: { resourceType: 'AuditEvent', id: 'a', type: { code: 'rest' }, recorded: '2020-01-01T00:00:00Z', agent: [{ requestor: true, policy: ['https://zqx.example/policy'],
      network: { address: '10.1.2.3', type: '2' } }], source: { observer: { reference: 'Device/d' } } } },
    { resource: { resourceType: 'Provenance', id: 'pv', recorded: '2020-01-01T00:00:00Z', target: [{ reference: 'Patient/p' }], agent: [{ who: { reference: 'Practitioner/x' } }] } }] });
  assert.equal(b.entry, undefined, JSON.stringify(b));
  const obs = sh({ resourceType: 'Observation', id: 'o', status: 'final', subject,
    code: { coding: [{ system: 'http://loinc.org', code: '1', display: 'Glucose' }, { system: 'http://hospital.example/free', display: 'ZQX said Ada fainted' }] } });
  assertNone(obs, ['ZQX']);
  assert.equal(obs.code.coding[0].display, 'Glucose');
});

test('R: the writer\'s meta.security labels are kept as codes only, without element ids or extensions', () => {
  const d = sh({ resourceType: 'Patient', id: 'x', meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', id: 'zqx-el',
    extension: [{ url: 'https://zqx.example/e', valueString: 'ZQX-ext' }] }, { display: 'ZQX no code' }], tag: [{ code: 'ZQX' }], source: 'https://zqx.example' } });
  assertNone(d, ['ZQX', 'zqx']);
  assert.deepEqual(d.meta.security.map((s: J) => s.code), ['R', 'PSEUDED', 'REDACTED']);
});
