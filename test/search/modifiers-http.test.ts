// uri :above/:below, token :above/:below and every shape of composite parameter in the registry, against the
// real server (R4 search.html#uri, #token, #composite): path-segment matching, URNs refused, subsumption
// refused with not-supported, and one stored resource per composite signature found through its parameter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const cc = (system: string, code: string) => ({ coding: [{ system, code }] });
const NUCCORE = 'http://www.ncbi.nlm.nih.gov/nuccore';
const CHROMOSOME = 'http://terminology.hl7.org/CodeSystem/chromosome-human';

const resources = [
  ...[['vs1', 'http://acme.org/fhir/ValueSet/123'], ['vs2', 'http://acme.org/fhir/ValueSetOther/1'], ['vs3', 'http://acme.org/fhir'],
    ['vs4', 'http://other.org/fhir/ValueSet/123'], ['vs5', 'urn:oid:1.2.3.4.5'], ['vs6', 'http://acme.org/fhir/ValueSet/123/x']]
    .map(([id, url]) => ({ resourceType: 'ValueSet', id, url, status: 'draft' })),
  { resourceType: 'ValueSet', id: 'ctx', status: 'draft', useContext: [
    { code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'age' }, valueRange: { low: { value: 18 }, high: { value: 65 } } },
    { code: { code: 'focus' }, valueCodeableConcept: cc(SCT, '408934002') }] },
  { resourceType: 'Observation', id: 'o-qty', status: 'final', code: cc(LOINC, '8480-6'), valueQuantity: { value: 120, unit: 'mmHg' } },
  { resourceType: 'Observation', id: 'o-concept', status: 'final', code: cc('urn:x', 'c2'), valueCodeableConcept: cc(SCT, 's1') },
  { resourceType: 'Observation', id: 'o-date', status: 'final', code: cc('urn:x', 'c3'), valueDateTime: '2020-05-01' },
  { resourceType: 'Observation', id: 'o-string', status: 'final', code: cc('urn:x', 'c4'), valueString: 'Positive result' },
  { resourceType: 'Observation', id: 'o-comp', status: 'final', code: cc(LOINC, '85354-9'), component: [
    { code: cc(LOINC, '8462-4'), valueQuantity: { value: 85, unit: 'mmHg' } }, { code: cc('urn:x', 'mood'), valueCodeableConcept: cc(SCT, 'happy') }] },
  { resourceType: 'Group', id: 'g1', type: 'person', actual: false, characteristic: [{ code: cc('urn:x', 'gender'), valueCodeableConcept: cc('urn:x', 'mixed'), exclude: false }] },
  { resourceType: 'DocumentReference', id: 'd1', status: 'current', content: [{ attachment: { contentType: 'text/plain' } }],
    relatesTo: [{ code: 'replaces', target: { reference: 'DocumentReference/d0' } }] },
  { resourceType: 'MolecularSequence', id: 'ms1', coordinateSystem: 1, referenceSeq: { chromosome: cc(CHROMOSOME, '1'),
    referenceSeqId: cc(NUCCORE, 'NC_000001.11'), windowStart: 22125500, windowEnd: 22125510 }, variant: [{ start: 22125503, end: 22125504 }] },
  { resourceType: 'MolecularSequence', id: 'ms2', coordinateSystem: 1, referenceSeq: { chromosome: cc(CHROMOSOME, '2'),
    referenceSeqId: cc(NUCCORE, 'NC_000002.12'), windowStart: 100, windowEnd: 200 }, variant: [{ start: 150, end: 151 }] },
];

before(async () => {
  server = await startTestServer();
  for (const r of resources) {
    const res = await call(server.fhirBase, 'PUT', `${r.resourceType}/${r.id}`, r);
    assert.ok(res.status === 201 || res.status === 200, `${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
  }
});
after(async () => server?.stop());

async function ids(path: string): Promise<string[]> {
  const r = await call(server.fhirBase, 'GET', path);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return (r.json.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
}
const q = (s: string) => encodeURIComponent(s);

test('uri :below matches on path segments; :above finds the URLs a given URL is under', async () => {
  assert.deepEqual(await ids(`ValueSet?url:below=${q('http://acme.org/fhir/ValueSet')}`), ['vs1', 'vs6']);
  assert.deepEqual(await ids(`ValueSet?url:below=${q('http://acme.org/fhir/')}`), ['vs1', 'vs2', 'vs3', 'vs6']);
  assert.deepEqual(await ids(`ValueSet?url:above=${q('http://acme.org/fhir/ValueSet/123/_history/5')}`), ['vs1', 'vs3']);
  assert.deepEqual(await ids(`ValueSet?url=${q('urn:oid:1.2.3.4.5')}`), ['vs5']);
  // _filter's sw is a plain string prefix.
  assert.deepEqual(await ids(`ValueSet?_filter=${q('url sw "http://acme.org/fhir/ValueSet"')}`), ['vs1', 'vs2', 'vs6']);
});

test(':above/:below on a URN, and token subsumption, are 400 OperationOutcomes naming the parameter', async () => {
  for (const [path, param, code] of [[`ValueSet?url:below=${q('urn:oid:1.2')}`, 'url:below', 'invalid'],
    [`Condition?code:below=${q(`${SCT}|404684003`)}`, 'code:below', 'not-supported'],
    [`Observation?code:above=${q(`${LOINC}|8480-6`)}`, 'code:above', 'not-supported']]) {
    const r = await call(server.fhirBase, 'GET', path);
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.equal(r.json.issue[0].code, code);
    assert.deepEqual(r.json.issue[0].expression, [param]);
  }
});

test('every composite signature: token$quantity/date/string/token, reference$token, token$number$number', async () => {
  assert.deepEqual(await ids(`Observation?code-value-quantity=${q(`${LOINC}|8480-6$gt100`)}`), ['o-qty']);
  assert.deepEqual(await ids(`Observation?code-value-quantity=${q(`${LOINC}|8480-6$lt100`)}`), []);
  assert.deepEqual(await ids(`Observation?code-value-concept=${q(`urn:x|c2$${SCT}|s1`)}`), ['o-concept']);
  assert.deepEqual(await ids(`Observation?code-value-date=${q('urn:x|c3$ge2020-05')}`), ['o-date']);
  assert.deepEqual(await ids(`Observation?code-value-string=${q('urn:x|c4$positive result')}`), ['o-string']);
  assert.deepEqual(await ids(`Observation?component-code-value-quantity=${q(`${LOINC}|8462-4$gt80`)}`), ['o-comp']);
  assert.deepEqual(await ids(`Observation?component-code-value-concept=${q(`mood$${SCT}|happy`)}`), ['o-comp']);
  assert.deepEqual(await ids(`Observation?combo-code-value-quantity=${q(`${LOINC}|8480-6$120`)}`), ['o-qty']);
  assert.deepEqual(await ids(`Observation?combo-code-value-concept=${q(`mood$happy`)}`), ['o-comp']);
  assert.deepEqual(await ids(`ValueSet?context-type-quantity=${q('age$gt20')}`), ['ctx']);
  assert.deepEqual(await ids(`ValueSet?context-type-value=${q(`focus$${SCT}|408934002`)}`), ['ctx']);
  assert.deepEqual(await ids(`Group?characteristic-value=${q('gender$mixed')}`), ['g1']);
  assert.deepEqual(await ids(`DocumentReference?relationship=${q('replaces$DocumentReference/d0')}`), ['d1']);
});

test('three components: chromosome or reference sequence, then window or variant start and end', async () => {
  assert.deepEqual(await ids(`MolecularSequence?chromosome-window-coordinate=${q('1$lt22125501$gt22125505')}`), ['ms1']);
  assert.deepEqual(await ids(`MolecularSequence?chromosome-window-coordinate=${q('2$lt22125501$gt22125505')}`), []);
  assert.deepEqual(await ids(`MolecularSequence?chromosome-window-coordinate=${q('1$gt22125501$gt22125505')}`), []);
  assert.deepEqual(await ids(`MolecularSequence?chromosome-variant-coordinate=${q('1$ge22125503$le22125504,2$150$151')}`), ['ms1', 'ms2']);
  assert.deepEqual(await ids(`MolecularSequence?referenceseqid-window-coordinate=${q(`${NUCCORE}|NC_000001.11$22125500$22125510`)}`), ['ms1']);
  assert.deepEqual(await ids(`MolecularSequence?referenceseqid-variant-coordinate=${q('NC_000002.12$lt151$gt150')}`), ['ms2']);
  const bad = await call(server.fhirBase, 'GET', `MolecularSequence?chromosome-window-coordinate=${q('1$lt5')}`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.json.issue[0].expression, ['chromosome-window-coordinate']);
});
