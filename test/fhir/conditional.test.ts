// Conditional create, update, patch and delete (R4 http.html#ccreate, #cond-update, #cdelete): criteria go
// through the search engine; none / one / several matches behave as the spec says (several → 412).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const sys = 'http://hospital.example/mrn';
const patient = (mrn: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', identifier: [{ system: sys, value: mrn }], ...extra });

test('conditional create: none creates (201), one returns the match (200), several is 412', async () => {
  const first = await call(server.fhirBase, 'POST', 'Patient', patient('c-1'), { 'if-none-exist': `identifier=${sys}|c-1` });
  assert.equal(first.status, 201);
  const again = await call(server.fhirBase, 'POST', 'Patient', patient('c-1'), { 'if-none-exist': `identifier=${sys}|c-1` });
  assert.equal(again.status, 200);
  assert.equal(again.json.id, first.json.id);
  await call(server.fhirBase, 'POST', 'Patient', patient('dup'));
  await call(server.fhirBase, 'POST', 'Patient', patient('dup'));
  const many = await call(server.fhirBase, 'POST', 'Patient', patient('dup'), { 'if-none-exist': `identifier=${sys}|dup` });
  assert.equal(many.status, 412);
});

test('conditional update: none creates, one updates that resource, several is 412', async () => {
  const created = await call(server.fhirBase, 'PUT', `Patient?identifier=${encodeURIComponent(`${sys}|u-1`)}`, patient('u-1', { gender: 'male' }));
  assert.equal(created.status, 201);
  const updated = await call(server.fhirBase, 'PUT', `Patient?identifier=${encodeURIComponent(`${sys}|u-1`)}`, patient('u-1', { gender: 'female' }));
  assert.equal(updated.status, 200);
  assert.equal(updated.json.id, created.json.id);
  assert.equal(updated.json.meta.versionId, '2');
  const wrongId = await call(server.fhirBase, 'PUT', `Patient?identifier=${encodeURIComponent(`${sys}|u-1`)}`, patient('u-1', { id: 'other-id' }));
  assert.equal(wrongId.status, 400);
  const many = await call(server.fhirBase, 'PUT', `Patient?identifier=${encodeURIComponent(`${sys}|dup`)}`, patient('dup'));
  assert.equal(many.status, 412);
});

test('conditional delete: one match is deleted, several is 412, unknown parameters are refused', async () => {
  const c = await call(server.fhirBase, 'POST', 'Patient', patient('d-1'));
  const del = await call(server.fhirBase, 'DELETE', `Patient?identifier=${encodeURIComponent(`${sys}|d-1`)}`);
  assert.ok(del.status === 200 || del.status === 204);
  assert.equal((await call(server.fhirBase, 'GET', `Patient/${c.json.id}`)).status, 410);
  assert.equal((await call(server.fhirBase, 'DELETE', `Patient?identifier=${encodeURIComponent(`${sys}|dup`)}`)).status, 412);
  assert.equal((await call(server.fhirBase, 'DELETE', 'Patient?nonsense-param=1')).status, 400);
  assert.equal((await call(server.fhirBase, 'GET', `Patient?identifier=${encodeURIComponent(`${sys}|dup`)}`)).json.entry.length, 2);
});

test('conditional references in a transaction resolve through search', async () => {
  await call(server.fhirBase, 'POST', 'Patient', patient('ref-1'));
  const r = await call(server.fhirBase, 'POST', '', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient?identifier=${sys}|ref-1` } }, request: { method: 'POST', url: 'Observation' } }],
  });
  assert.equal(r.status, 200, r.text);
  const obs = await call(server.fhirBase, 'GET', r.json.entry[0].response.location.replace(/\/_history\/\d+$/, ''));
  assert.match(obs.json.subject.reference, /^Patient\/[^?]+$/);
  const none = await call(server.fhirBase, 'POST', '', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient?identifier=${sys}|nobody` } }, request: { method: 'POST', url: 'Observation' } }],
  });
  assert.equal(none.status, 412);
});
