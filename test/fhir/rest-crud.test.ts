// The RESTful core over real HTTP with a real FHIR client (fhir-kit-client): create, read, vread,
// update, update-as-create, patch, delete → 410, version headers, If-Match, history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let client: Client;
before(async () => {
  server = await startTestServer();
  client = new Client({ baseUrl: server.fhirBase });
});
after(async () => server?.stop());

const patient = { resourceType: 'Patient', name: [{ family: 'Testperson', given: ['Ada'] }], gender: 'female', birthDate: '1980-02-03' };

async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.fhirBase}/${path}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

test('create assigns an id and version 1, read returns it with ETag and Last-Modified', async () => {
  const created = await raw('POST', 'Patient', { ...patient, id: 'ignored-client-id' });
  assert.equal(created.status, 201);
  const id = created.json.id as string;
  assert.notEqual(id, 'ignored-client-id');
  assert.equal(created.json.meta.versionId, '1');
  assert.match(created.headers.get('location')!, new RegExp(`/fhir/Patient/${id}/_history/1$`));
  assert.equal(created.headers.get('etag'), 'W/"1"');
  const read = await raw('GET', `Patient/${id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.json.name, patient.name);
  assert.equal(read.headers.get('etag'), 'W/"1"');
  assert.ok(read.headers.get('last-modified'));
  assert.match(read.headers.get('content-type')!, /^application\/fhir\+json/);
});

test('update makes version 2; vread returns both; If-Match with a stale version is 412', async () => {
  const c = (await client.create({ resourceType: 'Patient', body: patient })) as unknown as { id: string };
  const up = await raw('PUT', `Patient/${c.id}`, { ...patient, id: c.id, gender: 'other' }, { 'if-match': 'W/"1"' });
  assert.equal(up.status, 200);
  assert.equal(up.json.meta.versionId, '2');
  const stale = await raw('PUT', `Patient/${c.id}`, { ...patient, id: c.id }, { 'if-match': 'W/"1"' });
  assert.equal(stale.status, 412);
  assert.equal(stale.json.resourceType, 'OperationOutcome');
  const v1 = (await client.vread({ resourceType: 'Patient', id: c.id, version: '1' })) as unknown as { gender: string };
  const v2 = (await client.vread({ resourceType: 'Patient', id: c.id, version: '2' })) as unknown as { gender: string };
  assert.equal(v1.gender, 'female');
  assert.equal(v2.gender, 'other');
  assert.equal((await raw('GET', `Patient/${c.id}/_history/3`)).status, 404);
});

test('update-as-create with a client id answers 201; id mismatch is 400', async () => {
  const r = await raw('PUT', 'Patient/client-chosen-1', { ...patient, id: 'client-chosen-1' });
  assert.equal(r.status, 201);
  assert.equal(r.json.id, 'client-chosen-1');
  const mismatch = await raw('PUT', 'Patient/client-chosen-2', { ...patient, id: 'other' });
  assert.equal(mismatch.status, 400);
  assert.equal((await raw('GET', 'Patient/client-chosen-2')).status, 404);
});

test('delete then read is 410 Gone; history shows the deletion', async () => {
  const c = (await client.create({ resourceType: 'Patient', body: patient })) as unknown as { id: string };
  const d = await raw('DELETE', `Patient/${c.id}`);
  assert.ok(d.status === 200 || d.status === 204);
  assert.equal((await raw('GET', `Patient/${c.id}`)).status, 410);
  const h = await raw('GET', `Patient/${c.id}/_history`);
  assert.equal(h.status, 200);
  assert.equal(h.json.type, 'history');
  assert.equal(h.json.total, 2);
  assert.equal(h.json.entry[0].request.method, 'DELETE');
  assert.equal(h.json.entry[0].resource, undefined);
  assert.equal(h.json.entry[1].resource.id, c.id);
});

test('JSON Patch applies, validates and versions', async () => {
  const c = (await client.create({ resourceType: 'Patient', body: patient })) as unknown as { id: string };
  const r = await raw('PATCH', `Patient/${c.id}`, [{ op: 'replace', path: '/gender', value: 'male' }], { 'content-type': 'application/json-patch+json' });
  assert.equal(r.status, 200);
  assert.equal(r.json.gender, 'male');
  assert.equal(r.json.meta.versionId, '2');
  const bad = await raw('PATCH', `Patient/${c.id}`, [{ op: 'test', path: '/gender', value: 'female' }], { 'content-type': 'application/json-patch+json' });
  assert.equal(bad.status, 422);
  const changeId = await raw('PATCH', `Patient/${c.id}`, [{ op: 'replace', path: '/id', value: 'x' }], { 'content-type': 'application/json-patch+json' });
  assert.equal(changeId.status, 422);
});

test('Prefer: return=minimal and return=OperationOutcome', async () => {
  const min = await fetch(`${server.fhirBase}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' }, body: JSON.stringify(patient) });
  assert.equal(min.status, 201);
  assert.equal(await min.text(), '');
  assert.ok(min.headers.get('location'));
  const oo = await raw('POST', 'Patient', patient, { prefer: 'return=OperationOutcome' });
  assert.equal(oo.status, 201);
  assert.equal(oo.json.resourceType, 'OperationOutcome');
});

test('type and system history list versions newest first with paging', async () => {
  for (let i = 0; i < 3; i++) await client.create({ resourceType: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { text: `c${i}` } } });
  const page1 = await raw('GET', 'Observation/_history?_count=2');
  assert.equal(page1.json.entry.length, 2);
  const next = page1.json.link.find((l: { relation: string }) => l.relation === 'next');
  assert.ok(next);
  const page2 = await (await fetch(next.url)).json();
  assert.ok(page2.entry.length >= 1);
  const ids = [...page1.json.entry, ...page2.entry].map((e: { resource: { id: string } }) => e.resource.id);
  assert.equal(new Set(ids).size, ids.length);
  const sys = await raw('GET', '_history?_count=1');
  assert.equal(sys.json.entry.length, 1);
});
