// vread (R4 http.html#vread) and the response of history entries (bundle.html Bundle.entry.response):
// a version id is the server's own text ("1", never "01"); a version never changes, so If-None-Match on it
// answers 304 (http.html#cread, RFC 9110 §13.1.2); the 410 of a deletion carries its ETag as a read's does;
// an entry whose interaction answered a Location (create, update-as-create) carries response.location.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, assertOutcome } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  await call(server.fhirBase, 'PUT', 'Patient/hv-1', { resourceType: 'Patient', id: 'hv-1' });
  await call(server.fhirBase, 'PUT', 'Patient/hv-1', { resourceType: 'Patient', id: 'hv-1', active: true });
  await call(server.fhirBase, 'DELETE', 'Patient/hv-1');
});
after(async () => server?.stop());

test('vread of _history/01 or _history/0 is 404: no such version, not version 1', async () => {
  for (const vid of ['01', '001', '0', '1000000000000']) {
    assertOutcome(await call(server.fhirBase, 'GET', `Patient/hv-1/_history/${vid}`), 404, /no version/);
  }
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/hv-1/_history/1')).status, 200);
});

test('vread with If-None-Match of that version answers 304 with its ETag; another tag 200', async () => {
  const same = await call(server.fhirBase, 'GET', 'Patient/hv-1/_history/2', undefined, { 'if-none-match': 'W/"2"' });
  assert.equal(same.status, 304);
  assert.equal(same.text, '');
  assert.equal(same.headers.get('etag'), 'W/"2"');
  const other = await call(server.fhirBase, 'GET', 'Patient/hv-1/_history/2', undefined, { 'if-none-match': 'W/"1"' });
  assert.equal(other.status, 200);
  assert.equal(other.json.meta.versionId, '2');
});

test('vread of the deletion: 410 with the deletion\'s ETag and Last-Modified', async () => {
  const del = await call(server.fhirBase, 'GET', 'Patient/hv-1/_history/3');
  assertOutcome(del, 410);
  assert.equal(del.headers.get('etag'), 'W/"3"');
  assert.ok(del.headers.get('last-modified'));
});

test('history entries of a create and an update-as-create carry response.location with the version', async () => {
  const posted = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' });
  const id = posted.json.id as string;
  await call(server.fhirBase, 'PUT', `Patient/${id}`, { resourceType: 'Patient', id, active: true });
  const h = await call(server.fhirBase, 'GET', `Patient/${id}/_history`);
  const [update, create] = h.json.entry;
  assert.equal(create.response.location, `Patient/${id}/_history/1`);
  assert.equal(posted.headers.get('location'), `${server.fhirBase}/${create.response.location}`, 'the Location the create answered');
  assert.equal(update.response.location, undefined, 'an update answered no Location');
  const revived = (await call(server.fhirBase, 'GET', 'Patient/hv-1/_history')).json.entry;
  assert.deepEqual(revived.map((e: { response: { location?: string } }) => e.response.location), [undefined, undefined, 'Patient/hv-1/_history/1']);
});
