// References to this server by its absolute URL are stored relative on every write path (create, update,
// conditional update, PATCH, batch), as transactions and import store them, so searches, chains and the
// patient compartment find them (search.html: a relative reference and the same absolute URL match).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  await call(server.fhirBase, 'PUT', 'Patient/sr-p', { resourceType: 'Patient', id: 'sr-p' });
});
after(async () => server?.stop());

const obs = (ref: string, extra: object = {}) => ({ resourceType: 'Observation', status: 'final', code: { text: 'sr' }, subject: { reference: ref }, ...extra });

test('create, update, PATCH and batch store an absolute reference to this server as relative, and search finds it', async () => {
  const abs = `${server.fhirBase}/Patient/sr-p`;
  const created = await call(server.fhirBase, 'POST', 'Observation', obs(abs), { prefer: 'return=representation' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.subject.reference, 'Patient/sr-p');
  const updated = await call(server.fhirBase, 'PUT', 'Observation/sr-o2', { ...obs(abs), id: 'sr-o2', performer: [{ reference: `${server.fhirBase}/Patient/sr-p/_history/1` }] });
  assert.ok(updated.status === 201, updated.text);
  const read = await call(server.fhirBase, 'GET', 'Observation/sr-o2');
  assert.deepEqual([read.json.subject.reference, read.json.performer[0].reference], ['Patient/sr-p', 'Patient/sr-p/_history/1']);
  const patched = await call(server.fhirBase, 'PATCH', 'Observation/sr-o2', [{ op: 'add', path: '/focus', value: [{ reference: abs }] }], { 'content-type': 'application/json-patch+json' });
  assert.equal(patched.status, 200, patched.text);
  assert.equal((await call(server.fhirBase, 'GET', 'Observation/sr-o2')).json.focus[0].reference, 'Patient/sr-p');
  const batch = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: obs(abs), request: { method: 'POST', url: 'Observation' } }] });
  assert.equal(batch.json.entry[0].response.status.slice(0, 3), '201');
  // Found by the relative form, by the absolute form, and in the patient's compartment.
  for (const q of ['Observation?subject=Patient/sr-p', `Observation?subject=${encodeURIComponent(abs)}`, 'Patient/sr-p/Observation']) {
    const r = await call(server.fhirBase, 'GET', `${q}${q.includes('?') ? '&' : '?'}_total=accurate`);
    assert.equal(r.json.total, 3, q);
  }
  // Another server's absolute URL is kept as written.
  const other = await call(server.fhirBase, 'POST', 'Observation', obs('https://elsewhere.example/fhir/Patient/sr-p'), { prefer: 'return=representation' });
  assert.equal(other.json.subject.reference, 'https://elsewhere.example/fhir/Patient/sr-p');
});
