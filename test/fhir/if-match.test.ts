// Version-aware writes (R4 http.html#concurrency; RFC 9110 §13.1.1): If-Match as a weak or a plain ETag, as a
// list, or `*`; a stale one is 412. A deleted resource's ETag (sent on its 410 and on the DELETE) names the
// tombstone, "to allow version contention management when a resource is brought back to life" (#read, #delete).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const put = (id: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  call(server.fhirBase, 'PUT', `Patient/${id}`, { resourceType: 'Patient', id, ...extra }, headers);

test('If-Match takes W/"n" and "n"; a stale one is 412 with an OperationOutcome', async () => {
  assert.equal((await put('im-1')).status, 201);
  assert.equal((await put('im-1', { 'if-match': 'W/"1"' })).status, 200);
  const plain = await put('im-1', { 'if-match': '"2"' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('etag'), 'W/"3"');
  const stale = await put('im-1', { 'if-match': 'W/"2"' });
  assert.equal(stale.status, 412);
  assert.equal(stale.json.resourceType, 'OperationOutcome');
});

test('If-Match as a list matches when any tag is the current version (RFC 9110 §13.1.1)', async () => {
  await put('im-2');
  const listed = await put('im-2', { 'if-match': 'W/"7", W/"1"' });
  assert.equal(listed.status, 200, listed.text);
  assert.equal(listed.json.meta.versionId, '2');
  assert.equal((await put('im-2', { 'if-match': 'W/"1", W/"3"' })).status, 412);
  const patched = await call(server.fhirBase, 'PATCH', 'Patient/im-2', [{ op: 'add', path: '/active', value: true }], { 'content-type': 'application/json-patch+json', 'if-match': 'W/"1", W/"2"' });
  assert.equal(patched.status, 200, patched.text);
  const del = await call(server.fhirBase, 'DELETE', 'Patient/im-2', undefined, { 'if-match': 'W/"1", W/"3"' });
  assert.ok([200, 204].includes(del.status), del.text);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/im-2')).status, 410);
});

test('If-Match: * updates an existing resource and is 412 for one that does not exist or is deleted', async () => {
  assert.equal((await put('im-3', { 'if-match': '*' })).status, 412);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/im-3')).status, 404, 'nothing was created');
  await put('im-3');
  assert.equal((await put('im-3', { 'if-match': '*' })).status, 200);
  await call(server.fhirBase, 'DELETE', 'Patient/im-3');
  assert.equal((await put('im-3', { 'if-match': '*' })).status, 412);
});

test('a PUT quoting the ETag of the deletion brings the resource back to life', async () => {
  await put('im-4', {}, { active: true });
  const del = await call(server.fhirBase, 'DELETE', 'Patient/im-4');
  const tombstone = del.headers.get('etag')!;
  assert.equal(tombstone, 'W/"2"');
  const gone = await call(server.fhirBase, 'GET', 'Patient/im-4');
  assert.equal(gone.status, 410);
  assert.equal(gone.headers.get('etag'), tombstone);
  // An older version is not the current one: still 412.
  assert.equal((await put('im-4', { 'if-match': 'W/"1"' })).status, 412);
  const back = await put('im-4', { 'if-match': tombstone }, { active: false });
  assert.equal(back.status, 201, back.text);
  assert.equal(back.json.meta.versionId, '3');
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/im-4')).json.active, false);
  // The tombstone's ETag is no longer current once the resource lives again.
  assert.equal((await put('im-4', { 'if-match': tombstone })).status, 412);
});

test('a DELETE quoting the ETag of the deletion has no effect (http.html#delete: already deleted)', async () => {
  await put('im-5');
  await call(server.fhirBase, 'DELETE', 'Patient/im-5');
  const again = await call(server.fhirBase, 'DELETE', 'Patient/im-5', undefined, { 'if-match': 'W/"2"' });
  assert.ok([200, 204].includes(again.status), again.text);
  const h = await call(server.fhirBase, 'GET', 'Patient/im-5/_history');
  assert.equal(h.json.total, 2, 'no second deletion version');
  assert.equal((await call(server.fhirBase, 'DELETE', 'Patient/im-5', undefined, { 'if-match': 'W/"1"' })).status, 412);
});

test('a malformed If-Match is 400, not 412 or 500', async () => {
  await put('im-6');
  for (const h of ['xyz', 'W/"a"', ',']) {
    const r = await put('im-6', { 'if-match': h });
    assert.equal(r.status, 400, `${h}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  }
});
