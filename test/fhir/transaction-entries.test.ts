// Batch and transaction entries answer as the same request over plain HTTP would (R4 http.html#transaction,
// #trules; bundle.html "Resolving references in Bundles"): If-Match on a PUT entry takes a list of entity tags
// and `*` and a deleted resource's ETag revives it; a HEAD entry has no resource; a version-specific reference
// to an entry names the version the transaction writes; a GET of a resource the transaction deletes answers 410
// in its entry rather than failing the transaction.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, assertOutcome, postBundle, versionAt, type Reply } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const post = (type: 'transaction' | 'batch', entry: unknown[], headers: Record<string, string> = {}) => postBundle(server.fhirBase, type, entry, headers);
const version = (path: string) => versionAt(server.fhirBase, path);
const putEntry = (id: string, ifMatch: string, extra: object = {}) =>
  ({ resource: { resourceType: 'Patient', id, ...extra }, request: { method: 'PUT', url: `Patient/${id}`, ifMatch } });

test('a PUT entry\'s ifMatch takes a list of entity tags and *, as a plain PUT\'s If-Match does (RFC 9110 §13.1.1)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/im-1', { resourceType: 'Patient', id: 'im-1' })).status, 201);
  const list = await post('transaction', [putEntry('im-1', 'W/"7", W/"1"', { active: true })]);
  assert.equal(list.status, 200, list.text);
  assert.match(list.json.entry[0].response.status, /^200/);
  assert.equal(await version('Patient/im-1'), '2');
  const star = await post('transaction', [putEntry('im-1', '*', { active: false })]);
  assert.equal(star.status, 200, star.text);
  assert.equal(await version('Patient/im-1'), '3');
  // A list naming no current version, and `*` for a resource that does not exist, are 412 and write nothing.
  assertOutcome(await post('transaction', [putEntry('im-1', 'W/"1", W/"2"', { gender: 'male' })]), 412, /entry 0/);
  assertOutcome(await post('transaction', [putEntry('im-none', '*')]), 412, /entry 0/);
  assert.equal(await version('Patient/im-1'), '3');
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/im-none')).status, 404);
  // A malformed tag is the client's mistake: 400 with an OperationOutcome, never a 500.
  assertOutcome(await post('transaction', [putEntry('im-1', 'W/"x"')]), 400, /If-Match/);
});

test('a deleted resource\'s ETag in a PUT entry\'s ifMatch revives it, as over plain HTTP (http.html#read, 410 with ETag)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/im-2', { resourceType: 'Patient', id: 'im-2' })).status, 201);
  const del = await call(server.fhirBase, 'DELETE', 'Patient/im-2');
  assert.equal(del.status, 200);
  const tombstone = (await call(server.fhirBase, 'GET', 'Patient/im-2')).headers.get('etag')!;
  assert.equal(tombstone, 'W/"2"');
  const r = await post('transaction', [putEntry('im-2', tombstone, { active: true })]);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.entry[0].response.status, /^201/);
  assert.equal(r.json.entry[0].response.etag, 'W/"3"');
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/im-2')).json.active, true);
});

test('a HEAD entry answers like a GET without the resource, in a batch and in a transaction (http.html#head)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/hd-1', { resourceType: 'Patient', id: 'hd-1' })).status, 201);
  for (const type of ['batch', 'transaction'] as const) {
    const r = await post(type, [{ request: { method: 'HEAD', url: 'Patient/hd-1' } }, { request: { method: 'GET', url: 'Patient/hd-1' } }, { request: { method: 'HEAD', url: 'Patient?_id=hd-1' } }]);
    assert.equal(r.status, 200, r.text);
    const [head, get, search] = r.json.entry;
    assert.equal(head.response.status, '200 OK');
    assert.equal(head.response.etag, 'W/"1"');
    assert.ok(head.response.lastModified, r.text);
    assert.equal(head.resource, undefined, r.text);
    assert.equal(get.resource?.id, 'hd-1');
    assert.equal(search.response.status, '200 OK');
    assert.equal(search.resource, undefined, r.text);
  }
});

test('a transaction\'s HEAD entry sends no resource, but its AuditEvent names the patient it read, as a plain HEAD\'s does', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/hd-au', { resourceType: 'Patient', id: 'hd-au' })).status, 201);
  const requestId = randomUUID();
  const r = await post('transaction', [{ request: { method: 'HEAD', url: 'Patient/hd-au' } }], { 'x-request-id': requestId });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.entry[0].resource, undefined);
  const c = new pg.Client({ connectionString: server.adminUrl });
  await c.connect();
  try {
    const rows = (await c.query('select patient from audit.event where content like $1', [`%"value":"${requestId}"%`])).rows;
    assert.deepEqual(rows.map((x) => x.patient), ['Patient/hd-au']);
  } finally {
    await c.end();
  }
});

test('a version-specific reference to an entry becomes a reference to the version the transaction writes (http.html#trules)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/vr-1', { resourceType: 'Patient', id: 'vr-1' })).status, 201);
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/vr-1', { resourceType: 'Patient', id: 'vr-1', active: true })).status, 200);
  const base = server.fhirBase;
  const r = await post('transaction', [
    // A POST with a RESTful fullUrl gets a new id; its version is 1 whatever the reference said.
    { fullUrl: 'http://other.example/fhir/Practitioner/pr-1', resource: { resourceType: 'Practitioner' }, request: { method: 'POST', url: 'Practitioner' } },
    // A PUT of a resource at version 2 writes version 3.
    { fullUrl: `${base}/Patient/vr-1`, resource: { resourceType: 'Patient', id: 'vr-1', active: false }, request: { method: 'PUT', url: 'Patient/vr-1' } },
    { fullUrl: 'http://other.example/fhir/Observation/ob-1', request: { method: 'POST', url: 'Observation' }, resource: {
      resourceType: 'Observation', status: 'final', code: { text: 'vr' },
      subject: { reference: `${base}/Patient/vr-1/_history/7` },
      performer: [{ reference: 'http://other.example/fhir/Practitioner/pr-1/_history/5' }, { reference: 'Practitioner/pr-1/_history/2' }],
      focus: [{ reference: 'Patient/vr-1/_history/1' }],
    } },
  ]);
  assert.equal(r.status, 200, r.text);
  const practitioner = (r.json.entry[0].response.location as string).replace(/\/_history\/.*$/, '');
  assert.equal(r.json.entry[1].response.etag, 'W/"3"');
  const obs = (await call(base, 'GET', (r.json.entry[2].response.location as string).replace(/\/_history\/.*$/, ''))).json;
  assert.equal(obs.subject.reference, 'Patient/vr-1/_history/3');
  assert.deepEqual(obs.performer.map((p: { reference: string }) => p.reference), [`${practitioner}/_history/1`, `${practitioner}/_history/1`]);
  // `Patient/vr-1` beside a fullUrl on other.example names no entry: a reference to this server, kept as written.
  assert.equal(obs.focus[0].reference, 'Patient/vr-1/_history/1');
  // Every rewritten reference names a version that exists.
  assert.equal((await call(base, 'GET', 'Patient/vr-1/_history/3')).status, 200);
  assert.equal((await call(base, 'GET', `${practitioner}/_history/1`)).status, 200);
});

test('a GET entry for a resource the transaction deletes answers 410 in its entry; the transaction commits (http.html#trules)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/gd-1', { resourceType: 'Patient', id: 'gd-1' })).status, 201);
  const r = await post('transaction', [
    { request: { method: 'GET', url: 'Patient/gd-1' } },
    { request: { method: 'DELETE', url: 'Patient/gd-1' } },
    { resource: { resourceType: 'Patient', id: 'gd-2' }, request: { method: 'PUT', url: 'Patient/gd-2' } },
    { request: { method: 'HEAD', url: 'Patient/gd-1' } },
  ]);
  assert.equal(r.status, 200, r.text);
  for (const e of [r.json.entry[0], r.json.entry[3]]) {
    assert.equal(e.response.status, '410 Gone');
    assert.equal(e.response.etag, 'W/"2"');
    assert.equal(e.response.outcome?.resourceType, 'OperationOutcome');
    assert.equal(e.resource, undefined);
  }
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/gd-1')).status, 410);
  assert.equal(await version('Patient/gd-2'), '1');
  // Other failures of a read are still the transaction's: an unknown id fails it, and nothing is written.
  assertOutcome(await post('transaction', [
    { request: { method: 'GET', url: 'Patient/gd-unknown' } },
    { resource: { resourceType: 'Patient', id: 'gd-3' }, request: { method: 'PUT', url: 'Patient/gd-3' } },
  ]), 404, /entry 0/);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/gd-3')).status, 404);
});
