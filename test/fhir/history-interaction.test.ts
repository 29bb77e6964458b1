// History entries say how each version came to be (R4 http.html#history: the request "provides information
// about the result of the interaction that led to this new version, and allows, for instance, a subscriber
// system to differentiate between newly created resources and updates to existing resources"): POST 201 for a
// create, PUT 201 for an update-as-create or a PUT reviving a deleted resource, PUT 200 for an update,
// DELETE for a deletion, whether written over plain HTTP or in a transaction Bundle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

type Entry = { request: { method: string; url: string }; response: { status: string; etag: string }; resource?: unknown };

/** The instance's history oldest first, as `METHOD url status` lines. */
async function steps(path: string): Promise<string[]> {
  const r = await call(server.fhirBase, 'GET', `${path}/_history`);
  assert.equal(r.status, 200, r.text);
  const entries = (r.json.entry as Entry[]).slice().reverse();
  for (const e of entries) assert.equal(e.resource !== undefined, e.request.method !== 'DELETE', JSON.stringify(e));
  return entries.map((e) => `${e.request.method} ${e.request.url} ${e.response.status}`);
}

test('over HTTP: update-as-create and a revival by PUT answer PUT 201 in history, a create POST 201', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/hi-1', { resourceType: 'Patient', id: 'hi-1' })).status, 201);
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/hi-1', { resourceType: 'Patient', id: 'hi-1', active: true })).status, 200);
  assert.equal((await call(server.fhirBase, 'DELETE', 'Patient/hi-1')).status, 200);
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/hi-1', { resourceType: 'Patient', id: 'hi-1', active: false })).status, 201);
  assert.deepEqual(await steps('Patient/hi-1'), [
    'PUT Patient/hi-1 201',
    'PUT Patient/hi-1 200',
    'DELETE Patient/hi-1 204',
    'PUT Patient/hi-1 201',
  ]);

  const created = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' });
  assert.equal(created.status, 201);
  const id = created.json.id as string;
  const patch = [{ op: 'add', path: '/active', value: true }];
  assert.equal((await call(server.fhirBase, 'PATCH', `Patient/${id}`, patch, { 'content-type': 'application/json-patch+json' })).status, 200);
  // A patch is the update it amounts to (shown as PUT, as R5 http.html#history spells out).
  assert.deepEqual(await steps(`Patient/${id}`), ['POST Patient 201', `PUT Patient/${id} 200`]);
});

test('in a transaction: a PUT that creates or revives is PUT 201, a POST is POST 201 (deferred bulk create)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/hi-2', { resourceType: 'Patient', id: 'hi-2' })).status, 201);
  assert.equal((await call(server.fhirBase, 'DELETE', 'Patient/hi-2')).status, 200);
  const r = await call(server.fhirBase, 'POST', '', {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { resource: { resourceType: 'Patient', id: 'hi-2', active: true }, request: { method: 'PUT', url: 'Patient/hi-2' } },
      { resource: { resourceType: 'Patient', id: 'hi-3' }, request: { method: 'PUT', url: 'Patient/hi-3' } },
      { fullUrl: 'urn:uuid:3d5c7a1e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
    ],
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.entry[0].response.status, /^201/);
  assert.match(r.json.entry[1].response.status, /^201/);
  const posted = (r.json.entry[2].response.location as string).split('/')[1];
  assert.deepEqual(await steps('Patient/hi-2'), ['PUT Patient/hi-2 201', 'DELETE Patient/hi-2 204', 'PUT Patient/hi-2 201']);
  assert.deepEqual(await steps('Patient/hi-3'), ['PUT Patient/hi-3 201']);
  assert.deepEqual(await steps(`Patient/${posted}`), ['POST Patient 201']);
  // The same entries in the type-level history, each with its own interaction.
  const type = await call(server.fhirBase, 'GET', 'Patient/_history?_count=100');
  const mine = (type.json.entry as Entry[]).filter((e) => e.request.url === 'Patient/hi-3');
  assert.deepEqual(mine.map((e) => `${e.request.method} ${e.response.status}`), ['PUT 201']);
});
