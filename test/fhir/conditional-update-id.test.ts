// Conditional update with an id in the body (R4 http.html#cond-update): "No matches, id provided: the server
// treats the interaction as an Update as Create"; "One Match, resource id provided but does not match resource
// found: 400". With no match, an id naming a live resource the criteria did not select is refused (400), not
// an update of that other record; a free or deleted id is created at.
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
const byMrn = (mrn: string) => `Patient?identifier=${encodeURIComponent(`${sys}|${mrn}`)}`;
const patient = (id: string, mrn: string) => ({ resourceType: 'Patient', id, identifier: [{ system: sys, value: mrn }] });

test('no match and the body id names another live resource: 400, and that resource is untouched', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/cui-1', patient('cui-1', 'OLD'))).status, 201);
  const r = await call(server.fhirBase, 'PUT', byMrn('NEW'), patient('cui-1', 'NEW'));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  const kept = await call(server.fhirBase, 'GET', 'Patient/cui-1');
  assert.equal(kept.json.meta.versionId, '1');
  assert.equal(kept.json.identifier[0].value, 'OLD');
});

test('no match and a free id: created at that id (update as create)', async () => {
  const r = await call(server.fhirBase, 'PUT', byMrn('FREE'), patient('cui-2', 'FREE'));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.id, 'cui-2');
});

test('no match and the id of a deleted resource: it is brought back with the new content', async () => {
  await call(server.fhirBase, 'PUT', 'Patient/cui-3', patient('cui-3', 'WAS'));
  await call(server.fhirBase, 'DELETE', 'Patient/cui-3');
  const r = await call(server.fhirBase, 'PUT', byMrn('NOW'), patient('cui-3', 'NOW'));
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.meta.versionId, '3');
});

test('one match and the body id is that resource: updated', async () => {
  await call(server.fhirBase, 'PUT', 'Patient/cui-4', patient('cui-4', 'SAME'));
  const r = await call(server.fhirBase, 'PUT', byMrn('SAME'), patient('cui-4', 'SAME'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.meta.versionId, '2');
});

test('an invalid id in the body is 400', async () => {
  const r = await call(server.fhirBase, 'PUT', byMrn('BAD'), patient('not valid!', 'BAD'));
  assert.equal(r.status, 400, r.text);
});
