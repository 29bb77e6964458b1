// Parameters an interaction does not define are refused rather than silently ignored:
// - http.html#create: `POST [base]/[type] {?_format=[mime-type]}`. Any other parameter (a search meant for
//   POST [type]/_search, criteria meant for If-None-Exist) is 400 naming it, over HTTP and in batch and
//   transaction entries alike; _format and _pretty still go.
// - search.html#summary: `_summary=count` is "Search only": on a read or vread it is 400 naming it; the other
//   _summary values still apply to a read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

async function countPatients(): Promise<number> {
  const r = await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Patient'`);
  return r.rows[0].n;
}

const PATIENT = { resourceType: 'Patient', name: [{ family: 'Params' }] };

test('POST [type] with a parameter other than _format or _pretty is 400 naming it, and nothing is created', async () => {
  const before = await countPatients();
  for (const q of ['name=Params', '_summary=count', 'identifier=x&_format=json']) {
    const r = await call(server.fhirBase, 'POST', `Patient?${q}`, PATIENT);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.match(r.json.issue[0].diagnostics, new RegExp(`'${q.split('=')[0]}'`));
    assert.match(r.json.issue[0].diagnostics, /_search/);
  }
  assert.equal(await countPatients(), before);
  const ok = await call(server.fhirBase, 'POST', 'Patient?_format=json&_pretty=true', PATIENT);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(await countPatients(), before + 1);
});

test('batch and transaction POST entries with parameters answer as over HTTP', async () => {
  const before = await countPatients();
  const batch = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [
    { resource: PATIENT, request: { method: 'POST', url: 'Patient?name=Params' } },
    { resource: PATIENT, request: { method: 'POST', url: 'Patient?_format=json' } },
  ] });
  assert.equal(batch.status, 200, batch.text);
  assert.match(batch.json.entry[0].response.status, /^400/);
  assert.match(batch.json.entry[0].response.outcome.issue[0].diagnostics, /'name'/);
  assert.match(batch.json.entry[1].response.status, /^201/);
  const tx = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: PATIENT, request: { method: 'POST', url: 'Patient' } },
    { resource: PATIENT, request: { method: 'POST', url: 'Patient?name=Params' } },
  ] });
  assert.equal(tx.status, 400, tx.text);
  assert.equal(tx.json.resourceType, 'OperationOutcome');
  assert.match(tx.json.issue[0].diagnostics, /'name'/);
  assert.equal(await countPatients(), before + 1, 'only the batch\'s good entry is stored');
});

test('_summary=count on a read or vread is 400 naming it; other _summary values still apply', async () => {
  const created = await call(server.fhirBase, 'POST', 'Patient', PATIENT);
  const id = created.json.id;
  for (const path of [`Patient/${id}?_summary=count`, `Patient/${id}/_history/1?_summary=count`, 'Patient/no-such-id?_summary=count']) {
    const r = await call(server.fhirBase, 'GET', path);
    assert.equal(r.status, 400, `${path}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.match(r.json.issue[0].diagnostics, /_summary=count/);
  }
  const batch = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${id}?_summary=count` } }] });
  assert.match(batch.json.entry[0].response.status, /^400/);
  const text = await call(server.fhirBase, 'GET', `Patient/${id}?_summary=text`);
  assert.equal(text.status, 200, text.text);
  assert.ok(text.json.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
  const count = await call(server.fhirBase, 'GET', `Patient?_id=${id}&_summary=count`);
  assert.equal(count.status, 200, count.text);
  assert.equal(count.json.total, 1);
});
