// Over HTTP, the rules of json-invariants.test.ts give the status of http.html (400 malformed, 422 rule
// broken) with one OperationOutcome issue per problem at its expression, and nothing is stored;
// `$validate` reports the same findings with 200.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { call, type Reply } from '../../helpers/http.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const count = async () => (await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Patient'`)).rows[0].n;

/** `code expression` of each issue, after checking the reply is an OperationOutcome with `status`. */
function issues(r: Reply, status: number): string[] {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
  return r.json.issue.map((i: Json) => `${i.code} ${i.expression?.join(',')}`);
}

test('POST and PUT: ext-1 and ele-1 are 422, a malformed code or an empty uri 400; nothing is stored', async () => {
  const before = await count();
  const base = server.fhirBase;
  assert.deepEqual(issues(await call(base, 'POST', 'Patient', { resourceType: 'Patient', extension: [{ url: 'http://example.org/x' }] }), 422),
    ['invariant Patient.extension[0]']);
  assert.deepEqual(issues(await call(base, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'a' }, { id: 'n' }] }), 422),
    ['invariant Patient.name[1]']);
  assert.deepEqual(issues(await call(base, 'PUT', 'Patient/ws', { resourceType: 'Patient', id: 'ws', gender: ' male' }), 400), ['value Patient.gender']);
  assert.deepEqual(issues(await call(base, 'PUT', 'Patient/es', { resourceType: 'Patient', id: 'es', identifier: [{ system: '', value: '1' }] }), 400),
    ['value Patient.identifier[0].system']);
  assert.equal(await count(), before);
  assert.equal((await call(base, 'PUT', 'Patient/ok', { resourceType: 'Patient', id: 'ok', gender: 'male', extension: [{ url: 'http://example.org/x', valueString: 'a' }] })).status, 201);
});

test('$validate on type and instance reports the same findings with 200', async () => {
  const body = { resourceType: 'Patient', id: 'v1', contained: [{ resourceType: 'Organization', id: 'o', name: 'x', meta: { security: [{ code: 'R' }] } }],
    managingOrganization: { reference: '#o' }, name: [{ _given: [null] }] };
  const expected = ['invariant Patient.contained[0].meta.security', 'structure Patient.name[0].given[0]'];
  assert.deepEqual(issues(await call(server.fhirBase, 'POST', 'Patient/$validate', body), 200).sort(), expected);
  assert.deepEqual(issues(await call(server.fhirBase, 'POST', 'Patient/v1/$validate', body), 200).sort(), expected);
});
