// $validate over HTTP where the answer depends on what is stored (R4 resource-operation-validate.html):
// mode delete on an unknown id (a warning, no error: its delete would succeed, http.html#delete), mode
// profile on the stored instance, SearchParameter uniqueness for mode create. Every answer is an
// OperationOutcome: 200 with the findings, 4xx when the validation cannot be performed, never 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { call, type Reply } from '../../helpers/http.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let s: TestServer;
before(async () => {
  s = await startTestServer();
  assert.equal((await call(s.fhirBase, 'PUT', 'Patient/vp1', { resourceType: 'Patient', id: 'vp1', gender: 'female' })).status, 201);
});
after(async () => s?.stop());

const validate = (path: string, body?: unknown) => call(s.fhirBase, 'POST', path, body);
/** `severity code` of each issue, after checking the reply is an OperationOutcome with `status`. */
function issues(r: Reply, status: number): string[] {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome', r.text);
  return r.json.issue.map((i: Json) => `${i.severity} ${i.code}`);
}

test('mode delete: an existing resource is All OK; an unknown or deleted one is a warning, not an error', async () => {
  assert.deepEqual(issues(await validate('Patient/vp1/$validate?mode=delete'), 200), ['information informational']);
  const unknown = await validate('Patient/nope/$validate?mode=delete');
  assert.deepEqual(issues(unknown, 200), ['warning not-found', 'information informational']);
  assert.match(unknown.json.issue[0].diagnostics, /Patient\/nope is not known: a delete would succeed/);
  // The same as the delete itself answers.
  assert.ok([200, 204].includes((await call(s.fhirBase, 'DELETE', 'Patient/nope')).status));
  // "The server ignores the content" in mode delete.
  const params = { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'delete' }, { name: 'resource', resource: { resourceType: 'Patient', gender: 'x' } }] };
  assert.deepEqual(issues(await validate('Patient/vp1/$validate', params), 200), ['information informational']);
  await call(s.fhirBase, 'PUT', 'Patient/vp-gone', { resourceType: 'Patient', id: 'vp-gone' });
  await call(s.fhirBase, 'DELETE', 'Patient/vp-gone');
  const gone = await validate('Patient/vp-gone/$validate?mode=delete');
  assert.deepEqual(issues(gone, 200), ['warning not-found', 'information informational']);
  assert.match(gone.json.issue[0].diagnostics, /already deleted/);
  // At the type level there is nothing to delete.
  assert.deepEqual(issues(await validate('Patient/$validate?mode=delete'), 400), ['error invalid']);
});

test('mode profile validates the stored instance; unknown 404, deleted 410, a body 400', async () => {
  assert.deepEqual(issues(await validate('Patient/vp1/$validate?mode=profile&profile=http://hl7.org/fhir/StructureDefinition/Patient'), 200), ['information informational']);
  assert.deepEqual(issues(await validate('Patient/nope/$validate?mode=profile'), 404), ['error not-found']);
  assert.deepEqual(issues(await validate('Patient/vp-gone/$validate?mode=profile'), 410), ['error deleted']);
  assert.deepEqual(issues(await validate('Patient/vp1/$validate?mode=profile', { resourceType: 'Patient' }), 400), ['error invalid']);
  assert.deepEqual(issues(await validate('Patient/vp1/$validate?mode=profile&profile=http://example.org/StructureDefinition/unknown'), 400), ['error not-supported']);
});

test('modes create and update, bare resource and Parameters, unknown profile', async () => {
  const bare = { resourceType: 'Patient', id: 'other', gender: 'male' };
  // create: the body's id is ignored (http.html#create).
  assert.deepEqual(issues(await validate('Patient/$validate?mode=create', bare), 200), ['information informational']);
  const wrapped = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: bare }, { name: 'mode', valueCode: 'update' }] };
  assert.deepEqual(issues(await validate('Patient/vp1/$validate', wrapped), 200), ['error invalid']); // id mismatch
  assert.deepEqual(issues(await validate('Patient/vp1/$validate?mode=update', { resourceType: 'Patient' }), 200), ['error invalid']); // no id
  assert.deepEqual(issues(await validate('Patient/vp1/$validate?mode=update', { ...bare, id: 'vp1' }), 200), ['information informational']);
  assert.deepEqual(issues(await validate('Patient/$validate?mode=update', bare), 400), ['error invalid']);
  assert.deepEqual(issues(await validate('Patient/$validate?profile=http://example.org/StructureDefinition/unknown', bare), 400), ['error not-supported']);
  const badProfile = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: bare }, { name: 'profile', valueCanonical: 5 }] };
  assert.deepEqual(issues(await validate('Patient/$validate', badProfile), 400), ['error invalid']);
  assert.deepEqual(issues(await validate('Patient/$validate', { resourceType: 'Parameters', parameter: [] }), 400), ['error invalid']);
});

test('a SearchParameter: mode create reports a code another current one already has', async () => {
  const def = { resourceType: 'SearchParameter', url: 'http://example.org/sp/v1', name: 'x', status: 'active', description: 'x',
    code: 'vnick', base: ['Patient'], type: 'string', expression: 'Patient.name.given' };
  assert.deepEqual(issues(await validate('SearchParameter/$validate?mode=create', def), 200), ['information informational']);
  const created = await call(s.fhirBase, 'POST', 'SearchParameter', def);
  assert.equal(created.status, 201);
  const second = { ...def, url: 'http://example.org/sp/v2' };
  const dup = await validate('SearchParameter/$validate?mode=create', second);
  assert.deepEqual(issues(dup, 200), ['error duplicate']);
  assert.match(dup.json.issue[0].diagnostics, new RegExp(`SearchParameter/${created.json.id}`));
  // An update of the stored one is not a conflict with itself.
  assert.deepEqual(issues(await validate(`SearchParameter/${created.json.id}/$validate?mode=update`, { ...def, id: created.json.id }), 200), ['information informational']);
  // General validation checks the definition alone.
  const bad = await validate('SearchParameter/$validate', { ...second, expression: 'Patient.name.(((' });
  assert.deepEqual(issues(bad, 200), ['error invalid']);
});
