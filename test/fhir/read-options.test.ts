// Read options (R4 http.html#read, search.html#summary, #elements): _summary, _elements (SUBSETTED tag),
// HEAD, conditional read (304), _pretty.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  await call(server.fhirBase, 'PUT', 'Patient/ro-1', {
    resourceType: 'Patient',
    id: 'ro-1',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ada</div>' },
    active: true,
    gender: 'female',
    birthDate: '1980-02-03',
    name: [{ family: 'Lovelace' }],
    contact: [{ name: { family: 'Byron' } }],
  });
});
after(async () => server?.stop());

test('_elements keeps the named elements and marks the result SUBSETTED', async () => {
  const r = await call(server.fhirBase, 'GET', 'Patient/ro-1?_elements=gender,birthDate');
  assert.equal(r.status, 200);
  assert.equal(r.json.gender, 'female');
  assert.equal(r.json.birthDate, '1980-02-03');
  assert.equal(r.json.name, undefined);
  assert.equal(r.json.id, 'ro-1');
  assert.ok(r.json.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
});

test('_summary=true keeps summary elements only; text drops data; data drops text', async () => {
  const t = await call(server.fhirBase, 'GET', 'Patient/ro-1?_summary=true');
  assert.equal(t.json.gender, 'female');
  assert.equal(t.json.contact, undefined, 'Patient.contact is not a summary element');
  assert.equal(t.json.text, undefined);
  const text = await call(server.fhirBase, 'GET', 'Patient/ro-1?_summary=text');
  assert.ok(text.json.text);
  assert.equal(text.json.gender, undefined);
  const data = await call(server.fhirBase, 'GET', 'Patient/ro-1?_summary=data');
  assert.equal(data.json.text, undefined);
  assert.ok(data.json.contact);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/ro-1?_summary=bogus')).status, 400);
});

test('HEAD answers headers without a body; If-None-Match with the current ETag is 304', async () => {
  const head = await fetch(`${server.fhirBase}/Patient/ro-1`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('etag'), 'W/"1"');
  assert.equal(await head.text(), '');
  const nm = await call(server.fhirBase, 'GET', 'Patient/ro-1', undefined, { 'if-none-match': 'W/"1"' });
  assert.equal(nm.status, 304);
  const changed = await call(server.fhirBase, 'GET', 'Patient/ro-1', undefined, { 'if-none-match': 'W/"0"' });
  assert.equal(changed.status, 200);
});

test('_pretty=true indents the same JSON', async () => {
  const r = await call(server.fhirBase, 'GET', 'Patient/ro-1?_pretty=true');
  assert.match(r.text, /\n {2}"resourceType": "Patient"/);
  assert.equal(r.json.id, 'ro-1');
});

test('_pretty=true keeps a decimal as it was written (R4 datatypes.html#decimal)', async () => {
  const body = '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"}}';
  const c = await fetch(`${server.fhirBase}/Observation`, { method: 'POST', body, headers: { 'content-type': 'application/fhir+json' } });
  assert.equal(c.status, 201);
  const id = ((await c.json()) as { id: string }).id;
  const r = await call(server.fhirBase, 'GET', `Observation/${id}?_pretty=true`);
  assert.match(r.text, /"value": 1\.50,/);
});
