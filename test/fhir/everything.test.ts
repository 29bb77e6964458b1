// Patient/[id]/$everything over HTTP as R4 defines it (patient-operation-everything.html, OperationDefinition
// Patient-everything): start/end select by care dates, _type returns only the types named, _since only what
// was updated since, _count pages, and walking the next links returns every resource exactly once, also
// while resources are written between pages. GET and POST (a Parameters body) alike; bad input is a 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Reply } from '../helpers/http.js';

let server: TestServer;

const put = async (r: Record<string, unknown>) => {
  const res = await call(server.fhirBase, 'PUT', `${r.resourceType}/${r.id}`, r);
  assert.ok(res.status === 200 || res.status === 201, res.text);
  return res;
};
const ref = (s: string) => ({ reference: s });
const obs = (id: string, subject: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation', id, status: 'final', code: { text: 'weight' }, subject: ref(subject), ...extra,
});

before(async () => {
  server = await startTestServer();
  for (const r of [
    { resourceType: 'Organization', id: 'org', name: 'Clinic' },
    { resourceType: 'Practitioner', id: 'dr-old', name: [{ family: 'Old' }] },
    { resourceType: 'Practitioner', id: 'dr-new', name: [{ family: 'New' }] },
    { resourceType: 'Medication', id: 'med', code: { text: 'aspirin' } },
    { resourceType: 'Patient', id: 'p1', managingOrganization: ref('Organization/org') },
    { resourceType: 'Patient', id: 'p2' },
    { resourceType: 'Encounter', id: 'e2019', status: 'finished', class: { code: 'AMB' }, subject: ref('Patient/p1'),
      period: { start: '2019-05-01T10:00:00Z', end: '2019-05-01T11:00:00Z' }, participant: [{ individual: ref('Practitioner/dr-old') }] },
    { resourceType: 'Encounter', id: 'e2021', status: 'finished', class: { code: 'AMB' }, subject: ref('Patient/p1'),
      period: { start: '2021-06-01T10:00:00Z', end: '2021-06-01T11:00:00Z' }, participant: [{ individual: ref('Practitioner/dr-new') }] },
    obs('o2019', 'Patient/p1', { effectiveDateTime: '2019-05-01T10:30:00Z', encounter: ref('Encounter/e2019') }),
    obs('o2021', 'Patient/p1', { effectiveDateTime: '2021-06-01T10:30:00Z', encounter: ref('Encounter/e2021') }),
    obs('o-nodate', 'Patient/p1'),
    // Active from 2010 to 2022: its care dates span the 2020–2021 range though none falls in it.
    { resourceType: 'Condition', id: 'c-span', subject: ref('Patient/p1'), onsetDateTime: '2010-01-01', abatementDateTime: '2022-01-01' },
    { resourceType: 'Condition', id: 'c-old', subject: ref('Patient/p1'), onsetDateTime: '2010-01-01', abatementDateTime: '2012-01-01' },
    { resourceType: 'MedicationRequest', id: 'mr2021', status: 'active', intent: 'order', subject: ref('Patient/p1'),
      medicationReference: ref('Medication/med'), authoredOn: '2021-03-01' },
    { resourceType: 'Coverage', id: 'cov', status: 'active', beneficiary: ref('Patient/p1'), payor: [ref('Organization/org')] },
    obs('o-p2', 'Patient/p2', { effectiveDateTime: '2021-06-01', performer: [ref('Practitioner/dr-old')] }),
  ]) await put(r);
});
after(async () => server?.stop());

type Entry = { resource: { resourceType: string; id: string }; search: { mode: string } };
const key = (e: Entry) => `${e.resource.resourceType}/${e.resource.id}`;
const byMode = (b: { entry?: Entry[] }, mode: string) => (b.entry ?? []).filter((e) => e.search.mode === mode).map(key).sort();
const get = (q: string) => call(server.fhirBase, 'GET', `Patient/p1/$everything${q ? `?${q}` : ''}`);

/** Follows next links to the end; every entry as Type/id (mode too), in order. `between` runs after each page. */
async function walk(first: Reply, between?: (page: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let r = first;
  for (let page = 0; page < 100; page++) {
    assert.equal(r.status, 200, r.text);
    for (const e of r.json.entry ?? []) seen.push(key(e));
    const next = r.json.link.find((l: { relation: string }) => l.relation === 'next');
    if (!next) return seen;
    assert.ok(next.url.startsWith(`${server.fhirBase}/Patient/p1/$everything?`), next.url);
    if (between) await between(page);
    r = await call(server.fhirBase, 'GET', next.url.slice(server.fhirBase.length + 1));
  }
  throw new Error('more than 100 pages');
}

const MATCHES = ['Condition/c-old', 'Condition/c-span', 'Coverage/cov', 'Encounter/e2019', 'Encounter/e2021', 'MedicationRequest/mr2021',
  'Observation/o-nodate', 'Observation/o2019', 'Observation/o2021', 'Patient/p1'];
const SUPPORTING = ['Medication/med', 'Organization/org', 'Practitioner/dr-new', 'Practitioner/dr-old'];

test('the compartment is returned as matches and what it refers to outside it as includes, once each', async () => {
  const r = await get('');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(byMode(r.json, 'match'), MATCHES);
  assert.deepEqual(byMode(r.json, 'include'), SUPPORTING);
  assert.equal(r.json.total, MATCHES.length);
});

test('start and end select by care dates; records without a care date stay in (R4: "care dates, not record currency dates")', async () => {
  const both = await get('start=2020-01-01&end=2021-12-31');
  assert.deepEqual(byMode(both.json, 'match'), ['Condition/c-span', 'Coverage/cov', 'Encounter/e2021', 'MedicationRequest/mr2021', 'Observation/o-nodate', 'Observation/o2021', 'Patient/p1']);
  // Only what the records in range refer to: dr-old attended the 2019 encounter only.
  assert.deepEqual(byMode(both.json, 'include'), ['Medication/med', 'Organization/org', 'Practitioner/dr-new']);
  // "If no start date is provided, all records prior to the end date are in scope" (end's whole day included).
  const untilEnd = await get('end=2019-05-01');
  assert.deepEqual(byMode(untilEnd.json, 'match'), ['Condition/c-old', 'Condition/c-span', 'Coverage/cov', 'Encounter/e2019', 'Observation/o-nodate', 'Observation/o2019', 'Patient/p1']);
  assert.deepEqual(byMode(untilEnd.json, 'include'), ['Organization/org', 'Practitioner/dr-old']);
  // "If no end date is provided, all records subsequent to the start date are in scope".
  const fromStart = await get('start=2021-06');
  assert.deepEqual(byMode(fromStart.json, 'match'), ['Condition/c-span', 'Coverage/cov', 'Encounter/e2021', 'Observation/o-nodate', 'Observation/o2021', 'Patient/p1']);
  const after = await get('start=2021-06-02');
  assert.ok(!byMode(after.json, 'match').includes('Encounter/e2021'));
});

test('bad start, end and other parameters are a 400 naming the parameter', async () => {
  for (const [q, name] of [['start=2020-13-01', 'start'], ['end=yesterday', 'end'], ['start=2021-02-30', 'start'], ['end=0000-01-01', 'end'],
    ['start=2020-01-01T00:00:00Z', 'start'], ['start=2022-01-01&end=2021-12-31', 'start'], ['start=2020&start=2021', 'start'],
    ['_since=2021-02-30', '_since'], ['_since=Tuesday', '_since'], ['_type=Banana', '_type'], ['_count=-1', '_count'], ['_count=ten', '_count'],
    ['_cursor=m1x', '_cursor'], ['_cursor=99999999999999999999', '_cursor']]) {
    const r = await get(q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.ok(r.json.issue[0].expression?.includes(name), `${q}: ${r.text}`);
  }
});

test('_type returns only the types it names, the Patient included only when named', async () => {
  const observations = await get('_type=Observation');
  assert.deepEqual((observations.json.entry as Entry[]).map(key).sort(), ['Observation/o-nodate', 'Observation/o2019', 'Observation/o2021']);
  // Types outside the compartment come from what the compartment refers to (this was a 500).
  const practitioners = await get('_type=Practitioner');
  assert.equal(practitioners.status, 200, practitioners.text);
  assert.deepEqual(byMode(practitioners.json, 'include'), ['Practitioner/dr-new', 'Practitioner/dr-old']);
  assert.deepEqual(byMode(practitioners.json, 'match'), []);
  const repeated = await get('_type=Patient&_type=Organization,Encounter&start=2021-01-01');
  assert.deepEqual((repeated.json.entry as Entry[]).map(key).sort(), ['Encounter/e2021', 'Organization/org', 'Patient/p1']);
});

test('_count=0 answers the number of matches alone; _count pages', async () => {
  const r = await get('_count=0');
  assert.equal(r.json.total, MATCHES.length);
  assert.equal(r.json.entry, undefined);
  assert.equal(r.json.link.find((l: { relation: string }) => l.relation === 'next'), undefined);
  const page = await get('_count=3');
  assert.equal(page.json.entry.length, 3);
  assert.equal(page.json.total, undefined);
});

test('walking the next links returns each resource exactly once, whatever the page size', async () => {
  const all = [...MATCHES, ...SUPPORTING].sort();
  for (const count of [1, 2, 3, 9, 10, 11, 14, 15]) {
    const seen = await walk(await get(`_count=${count}`));
    assert.deepEqual([...seen].sort(), all, `_count=${count}`);
  }
  const inRange = await walk(await get('_count=2&start=2020-01-01&end=2021-12-31&_type=Encounter,Practitioner,Organization'));
  assert.deepEqual(inRange.sort(), ['Encounter/e2021', 'Organization/org', 'Practitioner/dr-new']);
});

test('POST with a Parameters body: the same result, and next links carry the parameters', async () => {
  const body = { resourceType: 'Parameters', parameter: [
    { name: 'start', valueDate: '2020-01-01' }, { name: 'end', valueDate: '2021-12-31' }, { name: '_count', valueInteger: 2 }] };
  const first = await call(server.fhirBase, 'POST', 'Patient/p1/$everything', body);
  const viaPost = await walk(first);
  const viaGet = await walk(await get('start=2020-01-01&end=2021-12-31&_count=2'));
  assert.deepEqual(viaPost, viaGet);
  assert.equal(viaPost.length, 10);
  assert.equal((await call(server.fhirBase, 'POST', 'Patient/p1/$everything', { resourceType: 'Patient' })).status, 400);
  const unknown = await call(server.fhirBase, 'POST', 'Patient/p1/$everything', { resourceType: 'Parameters', parameter: [{ name: 'since', valueInstant: '2020-01-01T00:00:00Z' }] });
  assert.equal(unknown.status, 400, unknown.text);
  const wrongType = await call(server.fhirBase, 'POST', 'Patient/p1/$everything', { resourceType: 'Parameters', parameter: [{ name: 'start', valueString: 'soon' }] });
  assert.equal(wrongType.status, 400, wrongType.text);
});

test('_since returns what was updated since, supporting resources included, whatever refers to them', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  const since = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await put(obs('o2019', 'Patient/p1', { effectiveDateTime: '2019-05-01T10:30:00Z', encounter: ref('Encounter/e2019'), note: [{ text: 'amended' }] }));
  await put({ resourceType: 'Practitioner', id: 'dr-old', name: [{ family: 'Older' }] });
  const r = await get(`_since=${encodeURIComponent(since)}`);
  assert.deepEqual(byMode(r.json, 'match'), ['Observation/o2019']);
  // dr-old is referenced by e2019, which did not change: it is still one of the patient's supporting records.
  assert.deepEqual(byMode(r.json, 'include'), ['Practitioner/dr-old']);
  const later = await get(`_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
  assert.equal(later.json.entry, undefined);
});

test('writes between pages neither repeat nor skip a resource that stays', async () => {
  let n = 0;
  const seen = await walk(await get('_count=2'), async (page) => {
    if (page === 1) {
      // An update keeps the resource's place (Patient p1 and o2019 were on earlier pages); a new one comes later.
      await put({ resourceType: 'Patient', id: 'p1', managingOrganization: ref('Organization/org'), gender: 'female' });
      await put(obs('o2019', 'Patient/p1', { effectiveDateTime: '2019-05-01T10:30:00Z', encounter: ref('Encounter/e2019'), note: [{ text: 'again' }] }));
      await put(obs(`o-new${n++}`, 'Patient/p1', { effectiveDateTime: '2021-07-01' }));
      await put({ resourceType: 'Practitioner', id: 'dr-new', name: [{ family: 'Renamed' }] });
    }
  });
  assert.equal(new Set(seen).size, seen.length, `no resource twice: ${seen.join(' ')}`);
  assert.deepEqual([...seen].sort(), [...MATCHES, ...SUPPORTING, 'Observation/o-new0'].sort());
});

test('the declared definition is R4 Patient-everything, and each of its input parameters is honoured', async () => {
  const meta = await call(server.fhirBase, 'GET', 'metadata');
  const patient = meta.json.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
  const op = patient.operation.find((o: { name: string }) => o.name === 'everything');
  assert.equal(op.definition, 'http://hl7.org/fhir/OperationDefinition/Patient-everything');
  // The R4 definition's IN parameters: start, end (date), _since (instant), _type (code, 0..*), _count (integer).
  for (const name of ['start', 'end', '_since', '_type', '_count']) assert.match(op.documentation, new RegExp(`\\b${name}\\b`), name);
  const everything = (await get('_count=1000')).json.entry.length;
  for (const q of ['start=2021-01-01', 'end=2019-12-31', '_since=2099-01-01T00:00:00Z', '_type=Patient', '_count=1']) {
    const r = await get(q);
    assert.equal(r.status, 200, r.text);
    assert.ok((r.json.entry ?? []).length < everything, `${q} narrows the result`);
  }
});
