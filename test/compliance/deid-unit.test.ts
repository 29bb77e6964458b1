// Safe Harbor (45 CFR §164.514(b)(2)(i)) over FHIR resources, one identifier kind at a time, plus the
// pseudonyms (references still resolve; deterministic per key and tenant), the date-shift mode and
// the k-anonymity summary. Pure: no database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deidentify, AGE_GROUP_EXTENSION } from '../../src/deid/safe-harbor.js';
import { Pseudonyms } from '../../src/deid/pseudonym.js';
import { zip3, RESTRICTED_ZIP3 } from '../../src/deid/geo.js';
import { summarize } from '../../src/deid/k-anonymity.js';

const KEY = Buffer.from('unit-test-key-unit-test-key-0123456789');
const NOW = new Date('2026-06-01T00:00:00Z');
const p = new Pseudonyms(KEY, 'k1', 'default');
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function sh(resource: object, compartments: string[] = [], pseudonyms = p): J {
  return deidentify(resource as Record<string, unknown>, compartments, { mode: 'safe-harbor', pseudonyms, now: NOW });
}

const patient = {
  resourceType: 'Patient', id: 'pat-1', meta: { versionId: '3', lastUpdated: '2026-01-02T03:04:05.678Z', source: 'http://hospital.example/ehr' },
  text: { status: 'generated', div: '<div>Ada Lovelace, 12 Main St</div>' },
  extension: [
    { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [{ url: 'text', valueString: 'White' }] },
    { url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: 'Byron' },
    { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'London', country: 'GB' } },
  ],
  identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-12-3456' }, { system: 'urn:mrn', value: 'MRN-77' }],
  name: [{ use: 'official', family: 'Lovelace', given: ['Ada'] }],
  telecom: [{ system: 'phone', value: '555-123-4567' }, { system: 'email', value: 'ada@example.org' }, { system: 'url', value: 'https://ada.example' }],
  gender: 'female', birthDate: '1980-12-10', deceasedDateTime: '2025-03-04T05:06:07Z',
  address: [{ line: ['12 Main St'], city: 'Peabody', district: 'Essex', state: 'MA', postalCode: '01940-1234', country: 'US', period: { start: '2001-02-03' } }],
  photo: [{ contentType: 'image/png', data: 'iVBORw0KGgo=', url: 'https://photos.example/ada.png' }],
  contact: [{ name: { family: 'Babbage' }, telecom: [{ system: 'phone', value: '555-000-1111' }] }],
  generalPractitioner: [{ reference: 'Practitioner/doc-1', display: 'Dr. Charles Babbage' }],
  maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M', display: 'Married' }], text: 'married to W. King' },
};

test('names, telecom, identifiers, photos, narratives, contacts and unlisted extensions are removed', () => {
  const d = sh(patient, ['Patient/pat-1']);
  const text = JSON.stringify(d.resource);
  for (const phi of ['Lovelace', 'Ada', '999-12-3456', 'MRN-77', '555-123-4567', 'ada@example.org', 'ada.example', 'iVBORw0KGgo', 'Babbage',
    'Byron', 'London', '12 Main St', 'Peabody', 'Essex', 'married to', 'hospital.example', 'pat-1', 'doc-1', '01940']) {
    assert.ok(!text.includes(phi), `${phi} must not survive`);
  }
  assert.equal(d.resource.name, undefined);
  assert.equal(d.resource.telecom, undefined);
  assert.equal(d.resource.identifier, undefined);
  assert.equal(d.resource.photo, undefined);
  assert.equal(d.resource.text, undefined);
  assert.deepEqual(d.resource.extension.map((e: J) => e.url), ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-race']);
  assert.deepEqual(d.resource.maritalStatus.coding[0].display, 'Married', 'terminology displays stay');
  assert.deepEqual(d.resource.generalPractitioner, [{ reference: `Practitioner/${p.id('Practitioner', 'doc-1')}` }], 'a reference loses its display');
  assert.deepEqual(d.resource.meta.security.map((s: J) => s.code), ['PSEUDED', 'REDACTED']);
  assert.equal(d.resource.meta.versionId, '3');
  assert.equal(d.resource.meta.lastUpdated, undefined);
});

test('geography: state and country stay, ZIP to its 3 digits, restricted ZIP3 areas zeroed', () => {
  const d = sh(patient);
  assert.deepEqual(d.resource.address, [{ state: 'MA', postalCode: '019', country: 'US' }]);
  assert.equal(zip3('03601'), '000');
  assert.equal(zip3('89301-1234'), '000');
  for (const z of RESTRICTED_ZIP3) assert.equal(zip3(`${z}99`), '000', z);
  assert.equal(zip3('10001'), '100');
  assert.equal(zip3('1234'), undefined);
  assert.equal(zip3('SW1A 1AA'), undefined);
  const uk = sh({ resourceType: 'Patient', id: 'x', address: [{ city: 'London', postalCode: 'SW1A 1AA', country: 'GB' }] });
  assert.deepEqual(uk.resource.address, [{ country: 'GB' }]);
  const loc = sh({ resourceType: 'Location', id: 'l', name: 'Home of A. Lovelace', position: { latitude: 42.5, longitude: -70.9 }, address: { line: ['x'], state: 'MA' } });
  assert.equal(loc.resource.name, undefined);
  assert.equal(loc.resource.position, undefined);
  assert.deepEqual(loc.resource.address, { state: 'MA' });
  assert.equal(sh({ resourceType: 'Organization', id: 'o', name: 'General Hospital' }).resource.name, 'General Hospital');
});

test('every date is reduced to its year; quasi-identifiers are recorded', () => {
  const d = sh(patient);
  assert.equal(d.resource.birthDate, '1980');
  assert.equal(d.resource.deceasedDateTime, '2025');
  assert.deepEqual(d.qi, { birth: '1980', sex: 'female', zip3: '019' });
  const obs = sh({ resourceType: 'Observation', id: 'o', status: 'final', effectivePeriod: { start: '2019-03-04T10:00:00-05:00', end: '2019-03-05' }, issued: '2019-03-05T11:22:33.444Z',
    valueQuantity: { value: 7.2, unit: '%' }, component: [{ valueDateTime: '2018-07' }] });
  assert.deepEqual(obs.resource.effectivePeriod, { start: '2019', end: '2019' });
  assert.equal(obs.resource.issued, '2019');
  assert.equal(obs.resource.component[0].valueDateTime, '2018');
  assert.deepEqual(obs.resource.valueQuantity, { value: 7.2, unit: '%' }, 'measurements stay');
});

test('ages over 89 are grouped as 90 or older, with the birth year that reveals them', () => {
  const old = sh({ resourceType: 'Patient', id: 'old', birthDate: '1935-08-01', gender: 'male' });
  assert.equal(old.resource.birthDate, undefined);
  assert.deepEqual(old.resource.extension, [{ url: AGE_GROUP_EXTENSION, valueString: '90+' }]);
  assert.equal(old.qi.birth, '90+');
  assert.equal(sh({ resourceType: 'Patient', id: 'y', birthDate: '1936-06-02' }).resource.birthDate, '1936', '89 years old: kept');
  const cond = sh({ resourceType: 'Condition', id: 'c', onsetAge: { value: 95, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' } });
  assert.deepEqual(cond.resource.onsetAge, { value: 90, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a', comparator: '>=' });
  assert.equal(sh({ resourceType: 'Condition', id: 'c', onsetAge: { value: 89, code: 'a' } }).resource.onsetAge.value, 89);
});

test('free text, attachments and URLs are removed', () => {
  const doc = sh({ resourceType: 'DocumentReference', id: 'd', status: 'current', description: 'letter to Ada',
    content: [{ attachment: { contentType: 'text/plain', url: 'https://files.example/ada.txt', data: 'QWRh' }, format: { code: 'urn:x' } }] });
  assert.deepEqual(doc.resource.content, [{ format: { code: 'urn:x' } }]);
  assert.equal(doc.resource.description, undefined);
  const obs = sh({ resourceType: 'Observation', id: 'o', status: 'final', valueString: 'patient says Ada', note: [{ text: 'called Ada' }],
    code: { coding: [{ system: 'http://loinc.org', code: '1234-5', display: 'Glucose' }], text: 'sugar for Ada' } });
  assert.equal(obs.resource.valueString, undefined);
  assert.equal(obs.resource.note, undefined);
  assert.deepEqual(obs.resource.code, { coding: [{ system: 'http://loinc.org', code: '1234-5', display: 'Glucose' }] });
  const media = sh({ resourceType: 'Media', id: 'm', status: 'completed', content: { url: 'https://x/y.png' } });
  assert.equal(media.resource.content, undefined);
  const dev = sh({ resourceType: 'Device', id: 'd', serialNumber: 'SN1', lotNumber: 'L1', udiCarrier: [{ deviceIdentifier: 'U1' }], deviceName: [{ name: 'pump', type: 'user-friendly-name' }] });
  assert.deepEqual(Object.keys(dev.resource).sort(), ['id', 'meta', 'resourceType']);
});

test('ids and references become keyed pseudonyms that still resolve; deterministic per key and tenant', () => {
  const pat = sh(patient, ['Patient/pat-1']);
  const obs = sh({ resourceType: 'Observation', id: 'obs-1', status: 'final', subject: { reference: 'Patient/pat-1', display: 'Ada' },
    encounter: { reference: 'https://ehr.example/fhir/Encounter/enc-9/_history/2' }, hasMember: [{ reference: '#c1' }, { reference: 'urn:uuid:1234' }],
    performer: [{ identifier: { value: 'NPI-1' } }] }, ['Patient/pat-1']);
  assert.match(pat.id, /^[0-9a-f]{32}$/);
  assert.equal(obs.resource.subject.reference, `Patient/${pat.id}`, 'the reference resolves to the de-identified Patient');
  assert.equal(obs.resource.encounter.reference, `Encounter/${p.id('Encounter', 'enc-9')}/_history/2`);
  assert.deepEqual(obs.resource.hasMember, [{ reference: `#${p.local('c1')}` }], 'contained references kept as local pseudonyms, urn:uuid dropped');
  assert.equal(obs.resource.performer, undefined);
  assert.deepEqual(obs.compartments, [`Patient/${pat.id}`]);
  assert.equal(sh(patient).id, pat.id, 'deterministic');
  assert.notEqual(sh(patient, [], new Pseudonyms(Buffer.from('another-key-another-key-0123456789'), 'k2', 'default')).id, pat.id, 'key-dependent');
  assert.notEqual(sh(patient, [], new Pseudonyms(KEY, 'k1', 'other-tenant')).id, pat.id, 'tenant-dependent');
});

test('never copied: AuditEvent, Provenance, Binary; definitions are copied as they are', () => {
  assert.equal(sh({ resourceType: 'AuditEvent', id: 'a' }), undefined);
  assert.equal(sh({ resourceType: 'Provenance', id: 'p' }), undefined);
  assert.equal(sh({ resourceType: 'Binary', id: 'b', data: 'QQ==' }), undefined);
  const vs = sh({ resourceType: 'ValueSet', id: 'vs', url: 'http://example.org/vs', title: 'Diabetes codes', date: '2020-01-02' });
  assert.equal(vs.resource.url, 'http://example.org/vs');
  assert.equal(vs.resource.date, '2020-01-02');
});

test('date-shift mode: one constant shift per patient, precision kept, identifiers still removed', () => {
  const opts = { mode: 'date-shift' as const, pseudonyms: p, now: NOW };
  const a = deidentify({ resourceType: 'Encounter', id: 'e1', period: { start: '2020-01-10T08:00:00Z' } }, ['Patient/pat-1'], opts)!;
  const b = deidentify({ resourceType: 'Observation', id: 'o1', effectiveDateTime: '2020-01-20' }, ['Patient/pat-1'], opts)!;
  const shiftedStart = (a.resource.period as J).start as string;
  assert.match(shiftedStart, /^\d{4}-\d{2}-\d{2}T08:00:00Z$/);
  assert.notEqual(shiftedStart.slice(0, 10), '2020-01-10');
  const days = (x: string) => Date.parse(x.slice(0, 10)) / 86_400_000;
  assert.equal(days(b.resource.effectiveDateTime as string) - days(shiftedStart), 10, 'intervals between a patient\'s events are kept');
  const other = deidentify({ resourceType: 'Observation', id: 'o2', effectiveDateTime: '2020-01-20' }, ['Patient/someone-else'], opts)!;
  assert.notEqual(other.resource.effectiveDateTime, b.resource.effectiveDateTime);
  const pat = deidentify(patient as Record<string, unknown>, ['Patient/pat-1'], opts)!;
  assert.equal(JSON.stringify(pat.resource).includes('Lovelace'), false);
  assert.match(pat.resource.birthDate as string, /^\d{4}-\d{2}-\d{2}$/);
});

test('k-anonymity summary: smallest class and the records below k', () => {
  const r = summarize([{ birth: '1980', sex: 'female', zip3: '019', n: 1 }, { birth: '1980', sex: 'male', zip3: '019', n: 3 }, { birth: '90+', sex: 'male', zip3: '021', n: 7 }], 5);
  assert.deepEqual({ smallestK: r.smallestK, belowK: r.belowK, classesBelowK: r.classesBelowK, patients: r.patients, kAnonymous: r.kAnonymous }, { smallestK: 1, belowK: 4, classesBelowK: 2, patients: 11, kAnonymous: false });
  assert.equal(summarize([], 5).smallestK, 0);
});

test('by data type, whatever the element is called: identifiers, UIDs, addresses, free text, element ids, old ages', () => {
  const spec = sh({ resourceType: 'Specimen', id: 's', accessionIdentifier: { value: 'ACCESSION-SECRET-2' }, type: { coding: [{ system: 'http://snomed.info/sct', code: '119297000', display: 'Blood' }] } });
  assert.equal(spec.resource.accessionIdentifier, undefined);
  assert.equal(spec.resource.type.coding[0].display, 'Blood');
  const doc = sh({ resourceType: 'DocumentReference', id: 'd', status: 'current', masterIdentifier: { value: 'MASTERID-SECRET-1' }, content: [{ attachment: { contentType: 'text/plain' } }] });
  assert.ok(!JSON.stringify(doc.resource).includes('MASTERID'));
  const enc = sh({ resourceType: 'Encounter', id: 'e', status: 'finished', class: { code: 'AMB' }, hospitalization: { preAdmissionIdentifier: { value: 'PREADM-SECRET-7788' } } });
  assert.ok(!JSON.stringify(enc.resource).includes('PREADM'));
  const img = sh({ resourceType: 'ImagingStudy', id: 'i', status: 'available', subject: { reference: 'Patient/p' }, series: [{ uid: '1.2.840.99999.5', modality: { code: 'CT' }, instance: [{ uid: '1.2.840.99999.6', sopClass: { code: 'x' } }] }] });
  assert.ok(!JSON.stringify(img.resource).includes('1.2.840.99999'), JSON.stringify(img.resource));
  assert.equal(img.resource.series[0].modality.code, 'CT');
  const cov = sh({ resourceType: 'Coverage', id: 'c', status: 'active', beneficiary: { reference: 'Patient/p' }, payor: [{ reference: 'Organization/o' }], dependent: 'DEPENDENT-55',
    class: [{ type: { coding: [{ code: 'group' }] }, value: 'COVCLASS-MEMBER-998877', name: 'Plan of Ada' }] });
  const covText = JSON.stringify(cov.resource);
  for (const phi of ['DEPENDENT-55', 'COVCLASS', 'Plan of Ada']) assert.ok(!covText.includes(phi), phi);
  const claim = sh({ resourceType: 'Claim', id: 'cl', status: 'active', accident: { date: '2020-01-02', locationAddress: { line: ['99 ACCIDENT Road'], city: 'AccidentCity', state: 'MA', postalCode: '02139' } },
    item: [{ sequence: 1, productOrService: { coding: [{ code: 'x' }] }, locationAddress: { line: ['77 ITEMLOC Street'], postalCode: '02139' } }] });
  const claimText = JSON.stringify(claim.resource);
  for (const phi of ['ACCIDENT', 'AccidentCity', 'ITEMLOC', '02139']) assert.ok(!claimText.includes(phi), phi);
  assert.equal(claim.resource.accident.locationAddress.postalCode, '021');
  const cond = sh({ resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/p' }, onsetString: 'after visit with John Smith', abatementString: 'ABATE-03/04/2020' });
  assert.equal(cond.resource.onsetString, undefined);
  assert.equal(cond.resource.abatementString, undefined);
  const proc = sh({ resourceType: 'Procedure', id: 'pr', status: 'completed', subject: { reference: 'Patient/p' }, performedString: '2020/02/03' });
  assert.equal(proc.resource.performedString, undefined);
  const fmh = sh({ resourceType: 'FamilyMemberHistory', id: 'f', status: 'completed', patient: { reference: 'Patient/p' }, relationship: { coding: [{ code: 'MTH' }] }, name: 'Mary Oldfellow', bornString: 'in 1920', ageString: 'ninety-six' });
  assert.ok(!/Oldfellow|1920|ninety/.test(JSON.stringify(fmh.resource)));
  const old = sh({ resourceType: 'Patient', id: 'o', birthDate: '1930-05-05', _birthDate: { id: 'born-1930-05-05-Zebulon' } });
  assert.ok(!JSON.stringify(old.resource).includes('Zebulon'));
  const rp = sh({ resourceType: 'RelatedPerson', id: 'r', patient: { reference: 'Patient/p' }, birthDate: '1925-01-01' });
  assert.equal(rp.resource.birthDate, undefined, 'anyone over 89');
  for (const q of [{ value: 96, unit: 'Years' }, { value: 1152, code: 'mo' }, { value: 5000, unit: 'wk' }]) {
    const obs = sh({ resourceType: 'Observation', id: 'a', status: 'final', code: { coding: [{ code: 'age' }] }, valueQuantity: q });
    assert.equal(obs.resource.valueQuantity.value, 90, JSON.stringify(q));
    assert.equal(obs.resource.valueQuantity.comparator, '>=');
  }
  assert.equal(sh({ resourceType: 'Observation', id: 'a', status: 'final', code: { coding: [{ code: 'age' }] }, valueQuantity: { value: 600, code: 'mo' } }).resource.valueQuantity.value, 600);
  const race = sh({ resourceType: 'Patient', id: 'x', extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [
    { url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3', display: 'White', id: 'ada-el' } },
    { url: 'text', valueString: 'White' }, { url: 'note', valueString: 'Ada said so' }, { url: 'text', valueAddress: { city: 'London' } }] }] });
  assert.deepEqual(race.resource.extension[0].extension, [{ url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3', display: 'White' } }, { url: 'text', valueString: 'White' }]);
});
