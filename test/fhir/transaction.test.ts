// batch and transaction (R4 http.html#transaction): atomicity, urn:uuid rewriting, processing order,
// conditional create inside a transaction, per-entry outcomes in a batch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const count = async (type: string) => (await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = $1 and not deleted`, [type])).rows[0].n as number;

test('a transaction rewrites urn:uuid references and answers in entry order', async () => {
  const pUrn = 'urn:uuid:7f3e4a52-0d1c-4c4f-9a51-2f7a0e7c1a01';
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:11111111-2222-3333-4444-555555555555', resource: { resourceType: 'Observation', status: 'final', code: { text: 'weight' }, subject: { reference: pUrn } }, request: { method: 'POST', url: 'Observation' } },
      { fullUrl: pUrn, resource: { resourceType: 'Patient', name: [{ family: 'Tx' }] }, request: { method: 'POST', url: 'Patient' } },
    ],
  };
  const r = await call(server.fhirBase, 'POST', '', bundle);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'transaction-response');
  assert.equal(r.json.entry.length, 2);
  assert.match(r.json.entry[0].response.status, /^201/);
  const obsLoc: string = r.json.entry[0].response.location;
  const patLoc: string = r.json.entry[1].response.location;
  assert.match(obsLoc, /^Observation\/[^/]+\/_history\/1$/);
  assert.match(patLoc, /^Patient\/[^/]+\/_history\/1$/);
  const obs = await call(server.fhirBase, 'GET', obsLoc.replace(/\/_history\/1$/, ''));
  assert.equal(obs.json.subject.reference, patLoc.replace(/\/_history\/1$/, ''));
});

test('a transaction is atomic: one bad entry and nothing is written', async () => {
  const before = await count('Patient');
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { resource: { resourceType: 'Patient', name: [{ family: 'Kept?' }] }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', id: 'x1', name: [{ family: 'Mismatch' }] }, request: { method: 'PUT', url: 'Patient/x1' } },
      { request: { method: 'DELETE', url: 'Patient/x1' } },
      { resource: { resourceType: 'Observation', status: 'final' }, request: { method: 'PUT', url: 'Patient/x2' } },
    ],
  };
  const r = await call(server.fhirBase, 'POST', '', bundle);
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.equal(await count('Patient'), before);
});

test('a transaction processes DELETE before POST before PUT before GET', async () => {
  await call(server.fhirBase, 'PUT', 'Patient/order-1', { resourceType: 'Patient', id: 'order-1', gender: 'male' });
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { request: { method: 'GET', url: 'Patient/order-2' } },
      { resource: { resourceType: 'Patient', id: 'order-2', gender: 'female' }, request: { method: 'PUT', url: 'Patient/order-2' } },
      { request: { method: 'DELETE', url: 'Patient/order-1' } },
    ],
  };
  const r = await call(server.fhirBase, 'POST', '', bundle);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.entry[0].response.status, /^200/);
  assert.equal(r.json.entry[0].resource.gender, 'female');
  assert.match(r.json.entry[1].response.status, /^201/);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/order-1')).status, 410);
});

test('a conditional create inside a transaction reuses the match and rewrites references to it', async () => {
  await call(server.fhirBase, 'PUT', 'Patient/cond-1', { resourceType: 'Patient', id: 'cond-1' });
  const urn = 'urn:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: urn, resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient', ifNoneExist: '_id=cond-1' } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: urn } }, request: { method: 'POST', url: 'Observation' } },
    ],
  };
  const r = await call(server.fhirBase, 'POST', '', bundle);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.entry[0].response.status, /^200/);
  const obs = await call(server.fhirBase, 'GET', r.json.entry[1].response.location.replace(/\/_history\/\d+$/, ''));
  assert.equal(obs.json.subject.reference, 'Patient/cond-1');
});

test('a batch reports each entry on its own and keeps the good ones', async () => {
  const before = await count('Patient');
  const bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: [
      { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'GET', url: 'Patient/not-there' } },
      { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Nonsense' } },
    ],
  };
  const r = await call(server.fhirBase, 'POST', '', bundle);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'batch-response');
  assert.match(r.json.entry[0].response.status, /^201/);
  assert.match(r.json.entry[1].response.status, /^404/);
  assert.equal(r.json.entry[1].response.outcome.resourceType, 'OperationOutcome');
  assert.match(r.json.entry[2].response.status, /^404/);
  assert.equal(await count('Patient'), before + 1);
});

test('concurrent updates never lose one: 20 parallel updates make 20 versions', async () => {
  await call(server.fhirBase, 'PUT', 'Patient/race', { resourceType: 'Patient', id: 'race' });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => call(server.fhirBase, 'PUT', 'Patient/race', { resourceType: 'Patient', id: 'race', name: [{ family: `n${i}` }] })),
  );
  assert.ok(results.every((r) => r.status === 200), results.map((r) => r.status).join(','));
  const versions = results.map((r) => Number(r.json.meta.versionId)).sort((a, b) => a - b);
  assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => i + 2));
  const h = await call(server.fhirBase, 'GET', 'Patient/race/_history?_count=100');
  assert.equal(h.json.total, 21);
});

test('concurrent If-Match updates: exactly one wins, the others get 412', async () => {
  await call(server.fhirBase, 'PUT', 'Patient/ifm', { resourceType: 'Patient', id: 'ifm' });
  const results = await Promise.all(
    Array.from({ length: 8 }, () => call(server.fhirBase, 'PUT', 'Patient/ifm', { resourceType: 'Patient', id: 'ifm', gender: 'unknown' }, { 'if-match': 'W/"1"' })),
  );
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 412).length, 7);
});
