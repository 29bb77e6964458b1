// HTTP details a strict client relies on: the fhirVersion media-type parameter (R4 versioning.html#mt-version),
// If-None-Match as a list or `*` on reads (RFC 9110 §13.1.2), form bodies only where a form is a request
// (POST …/_search), and Bundle responses' lastModified to the millisecond (an instant, not an HTTP-date).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/neg-1', { resourceType: 'Patient', id: 'neg-1' })).status, 201);
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/neg-1', { resourceType: 'Patient', id: 'neg-1', active: true })).status, 200);
});
after(async () => server?.stop());

test('fhirVersion: 4.0 and 4.0.1 are served, another version is 406 (Accept) or 415 (Content-Type)', async () => {
  for (const v of ['4.0', '4.0.1', '"4.0"']) {
    assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { accept: `application/fhir+json; fhirVersion=${v}` })).status, 200, v);
  }
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { accept: 'application/fhir+json; fhirVersion=3.0' })).status, 406);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { accept: 'application/fhir+json; fhirVersion=3.0, application/json' })).status, 200);
  const r = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' }, { 'content-type': 'application/fhir+json; fhirVersion=5.0' });
  assert.equal(r.status, 415, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
});

test('If-None-Match: a list answers 304 when any tag matches; * answers 304 for an existing resource', async () => {
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { 'if-none-match': 'W/"1", W/"2"' })).status, 304);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { 'if-none-match': 'W/"1", W/"3"' })).status, 200);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { 'if-none-match': '*' })).status, 304);
  // If-None-Match present: If-Modified-Since is ignored (RFC 9110 §13.1.3).
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/neg-1', undefined, { 'if-none-match': 'W/"1"', 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' })).status, 200);
});

test('a form body is 415 except for POST …/_search', async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  assert.equal((await call(server.fhirBase, 'POST', 'Patient', 'name=x', form)).status, 415);
  const s = await call(server.fhirBase, 'POST', 'Patient/_search', '_id=neg-1', form);
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.entry.length, 1);
});

test('transaction-response lastModified keeps the milliseconds of meta.lastUpdated', async () => {
  const r = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
    { request: { method: 'GET', url: 'Patient/neg-1' } },
  ] });
  assert.equal(r.status, 200, r.text);
  const created = r.json.entry[0];
  assert.equal(created.response.lastModified, created.resource.meta.lastUpdated);
  assert.equal(r.json.entry[1].response.lastModified, r.json.entry[1].resource.meta.lastUpdated);
});
