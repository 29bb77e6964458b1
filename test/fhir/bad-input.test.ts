// Every error a client can cause is the right status with an OperationOutcome, never a 500 or a stack
// trace, and nothing is written (R4 http.html "Status codes"; CONTRACT.md "FHIR API").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Reply } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ env: { MAX_BODY_BYTES: String(64 * 1024) } });
});
after(async () => server?.stop());

function assertOutcome(r: Reply, status: number) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
  assert.ok(r.json.issue.length >= 1);
  assert.doesNotMatch(r.text, /at .*\.ts:\d+|node:internal|Error:/);
}

async function countPatients(): Promise<number> {
  const r = await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Patient'`);
  return r.rows[0].n;
}

test('malformed JSON is 400 and writes nothing', async () => {
  const before = await countPatients();
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient",'), 400);
  assert.equal(await countPatients(), before);
});

test('a body that is not a resource, or of the wrong type, is 400', async () => {
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '[1,2]'), 400);
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400);
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '"text"'), 400);
});

test('a body over the limit is 413 and the server keeps serving', async () => {
  const big = { resourceType: 'Patient', name: [{ family: 'x'.repeat(100 * 1024) }] };
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', big), 413);
  assert.equal((await call(server.fhirBase, 'GET', 'metadata')).status === 500, false);
  assert.equal((await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' })).status, 201);
});

test('unsupported media types: XML body is 415, XML answer is 406', async () => {
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '<Patient xmlns="http://hl7.org/fhir"/>', { 'content-type': 'application/fhir+xml' }), 415);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/x', undefined, { accept: 'application/fhir+xml' }), 406);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/x?_format=xml'), 406);
  const ok = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' }, { 'content-type': 'application/json', accept: 'application/json' });
  assert.equal(ok.status, 201);
  assert.match(ok.headers.get('content-type')!, /^application\/json/);
});

test('unknown resource types and ids', async () => {
  assertOutcome(await call(server.fhirBase, 'GET', 'Nonsense/1'), 404);
  assertOutcome(await call(server.fhirBase, 'POST', 'Project', { resourceType: 'Project' }), 404);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/does-not-exist'), 404);
  assertOutcome(await call(server.fhirBase, 'PUT', 'Patient/bad%20id', { resourceType: 'Patient', id: 'bad id' }), 400);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/x/_history/abc'), 400);
});

test('methods a URL does not support are 405', async () => {
  assertOutcome(await call(server.fhirBase, 'DELETE', 'Patient/x/_history/1'), 405);
  assertOutcome(await call(server.fhirBase, 'PATCH', 'Patient/x/_history'), 405);
});

test('bad JSON Patch documents are 400 or 422, never 500', async () => {
  const c = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient', gender: 'male' });
  const id = c.json.id;
  const h = { 'content-type': 'application/json-patch+json' };
  assertOutcome(await call(server.fhirBase, 'PATCH', `Patient/${id}`, { op: 'replace' }, h), 400);
  assertOutcome(await call(server.fhirBase, 'PATCH', `Patient/${id}`, [{ op: 'explode', path: '/x' }], h), 400);
  assertOutcome(await call(server.fhirBase, 'PATCH', `Patient/${id}`, [{ op: 'remove', path: '/nothing/here' }], h), 422);
  assertOutcome(await call(server.fhirBase, 'PATCH', 'Patient/unknown-id', [{ op: 'remove', path: '/gender' }], h), 404);
});

test('bad If-Match and _count values are 400', async () => {
  assertOutcome(await call(server.fhirBase, 'PUT', 'Patient/p1', { resourceType: 'Patient', id: 'p1' }, { 'if-match': 'banana' }), 400);
  assertOutcome(await call(server.fhirBase, 'GET', '_history?_count=-4'), 400);
  assertOutcome(await call(server.fhirBase, 'GET', '_history?_since=yesterday'), 400);
});

test('a Bundle posted to the base must be a batch or transaction', async () => {
  assertOutcome(await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'collection' }), 400);
  assertOutcome(await call(server.fhirBase, 'POST', '', { resourceType: 'Patient' }), 400);
});
