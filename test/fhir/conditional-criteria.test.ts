// Conditional criteria over plain HTTP must filter (R4 http.html#trules: "Only filtering parameters are allowed;
// none of the parameters that control the return of resources are relevant"; src/fhir/conditional-criteria.ts).
// The search ignores result parameters and empty values, so before this `_count=1` or `code=` matched every
// resource of the type: with one Device stored, a conditional update overwrote it, a conditional delete
// removed it and a conditional create answered 200 with it instead of creating.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
  assert.equal((await call(server.fhirBase, 'PUT', 'Device/only-one', { resourceType: 'Device', id: 'only-one', manufacturer: 'Kept' })).status, 201);
});
after(async () => server?.stop());

async function untouched(): Promise<void> {
  const r = await call(server.fhirBase, 'GET', 'Device/only-one');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.meta.versionId, '1');
  assert.equal(r.json.manufacturer, 'Kept');
}

for (const query of ['_count=1', '_sort=_id', 'type=', '_format=json']) {
  test(`conditional update with '${query}' is a 400 and overwrites nothing`, async () => {
    const r = await call(server.fhirBase, 'PUT', `Device?${query}`, { resourceType: 'Device', manufacturer: 'Overwritten' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    await untouched();
  });

  test(`conditional delete with '${query}' is a 400 and deletes nothing`, async () => {
    const r = await call(server.fhirBase, 'DELETE', `Device?${query}`);
    assert.equal(r.status, 400, r.text);
    await untouched();
  });

  test(`conditional create with If-None-Exist '${query}' is a 400 and creates nothing`, async () => {
    const before = (await call(server.fhirBase, 'GET', 'Device?_summary=count')).json.total;
    const r = await call(server.fhirBase, 'POST', 'Device', { resourceType: 'Device', manufacturer: 'New' }, { 'if-none-exist': query });
    assert.equal(r.status, 400, r.text);
    assert.equal((await call(server.fhirBase, 'GET', 'Device?_summary=count')).json.total, before);
  });
}

test('criteria that filter still work beside a transport parameter', async () => {
  const r = await call(server.fhirBase, 'PUT', 'Device?manufacturer=Kept&_format=json', { resourceType: 'Device', manufacturer: 'Kept', modelNumber: 'M2' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, 'only-one');
  assert.equal(r.json.meta.versionId, '2');
});
