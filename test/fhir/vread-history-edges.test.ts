// Behaviour already right and pinned here (R4 http.html#vread, #cread, #update, #history; bundle.html): a
// version that is a deletion is 410, one that never existed 404; If-Modified-Since alone answers 304; HEAD
// answers headers without a body on vread, search and history; meta.versionId/lastUpdated in a body are ignored;
// a history entry carries request and response, a deletion's request.method DELETE and no resource.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  await call(server.fhirBase, 'PUT', 'Patient/ve-1', { resourceType: 'Patient', id: 've-1', active: true });
  await call(server.fhirBase, 'PUT', 'Patient/ve-1', { resourceType: 'Patient', id: 've-1', active: false, meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z' } });
  await call(server.fhirBase, 'DELETE', 'Patient/ve-1');
  await call(server.fhirBase, 'PUT', 'Patient/ve-2', { resourceType: 'Patient', id: 've-2' });
});
after(async () => server?.stop());

test('vread: a deletion is 410, a version that never was is 404, both with an OperationOutcome', async () => {
  const del = await call(server.fhirBase, 'GET', 'Patient/ve-1/_history/3');
  assert.equal(del.status, 410);
  assert.equal(del.json.issue[0].code, 'deleted');
  const never = await call(server.fhirBase, 'GET', 'Patient/ve-1/_history/9');
  assert.equal(never.status, 404);
  assert.equal(never.json.resourceType, 'OperationOutcome');
  const v2 = await call(server.fhirBase, 'GET', 'Patient/ve-1/_history/2');
  assert.equal(v2.json.meta.versionId, '2', 'the body\'s meta.versionId 99 was ignored');
  assert.notEqual(v2.json.meta.lastUpdated, '2001-01-01T00:00:00Z');
});

test('If-Modified-Since alone: 304 when not modified since, 200 when modified', async () => {
  const later = await call(server.fhirBase, 'GET', 'Patient/ve-2', undefined, { 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' });
  assert.equal(later.status, 304);
  assert.equal(later.headers.get('etag'), 'W/"1"');
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/ve-2', undefined, { 'if-modified-since': 'Sat, 01 Jan 2000 00:00:00 GMT' })).status, 200);
});

test('HEAD on vread, search and history: the GET\'s status and headers, no body', async () => {
  for (const path of ['Patient/ve-1/_history/1', 'Patient?_id=ve-2', 'Patient/ve-1/_history']) {
    const r = await fetch(`${server.fhirBase}/${path}`, { method: 'HEAD' });
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type')!, /^application\/fhir\+json/, path);
    assert.equal(await r.text(), '', path);
  }
});

test('history of a deleted resource: each entry has request and response; the deletion has no resource', async () => {
  const h = await call(server.fhirBase, 'GET', 'Patient/ve-1/_history');
  assert.equal(h.json.total, 3);
  const [deletion, update, create] = h.json.entry;
  assert.deepEqual(deletion.request, { method: 'DELETE', url: 'Patient/ve-1' });
  assert.equal(deletion.resource, undefined);
  assert.equal(deletion.response.etag, 'W/"3"');
  assert.equal(update.request.method, 'PUT');
  assert.equal(update.response.status, '200');
  assert.equal(create.resource.meta.versionId, '1');
  for (const e of h.json.entry) assert.ok(e.request && e.response, 'bundle.html: history entries carry request and response');
});
