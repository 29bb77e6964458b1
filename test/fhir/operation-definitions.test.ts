// The OperationDefinitions GET /metadata declares resolve (R4 capabilitystatement.html: operation.definition is
// the canonical "Where the formal definition can be found"): the server's own ones are served read-only at
// reserved ids from capability/operations/*.json; $validate declares its own definition, based on R4's
// Resource-validate, documenting only what validate.ts supports (operationdefinition.html, OperationDefinition.base).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRoleServer, call, SYSTEM } from '../compliance/helpers.js';
import type { TestServer } from '../helpers/server.js';
import { loadOperations } from '../../src/fhir/operations/metadata.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PATIENT_APP = { role: 'patient' as const, scopes: ['patient/Observation.rs'], patient: 'p-x', clientId: 'app' };
const R4_VALIDATE = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

let server: TestServer;
let cs: Json;
const declared = () => {
  const out = new Map<string, string>();
  for (const r of cs.rest[0].resource) for (const op of r.operation ?? []) out.set(op.name, op.definition);
  for (const op of cs.rest[0].operation ?? []) out.set(op.name, op.definition);
  return out;
};
const pathOf = (url: string) => url.slice(server.fhirBase.length + 1);

before(async () => {
  server = await startRoleServer();
  cs = (await call(server, SYSTEM, 'GET', 'metadata')).json;
});
after(async () => server?.stop());

test('every operation definition declared on this server resolves to an OperationDefinition whose url is the declared canonical', async () => {
  const defs = declared();
  assert.ok(defs.has('reindex') && defs.has('validate'));
  for (const [name, url] of defs) {
    if (!url.startsWith(`${server.fhirBase}/`)) continue; // a definition published elsewhere (hl7.org)
    const bySystem = await call(server, SYSTEM, 'GET', pathOf(url));
    assert.equal(bySystem.status, 200, `${name}: GET ${url}: ${bySystem.text.slice(0, 200)}`);
    // Conformance data, public like /metadata: a token without any OperationDefinition scope reads it.
    const r = await call(server, PATIENT_APP, 'GET', pathOf(url));
    assert.equal(r.status, 200, `${name}: GET ${url}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.resourceType, 'OperationDefinition');
    assert.equal(r.json.url, url, 'the canonical declared is the definition\'s own url');
    assert.equal(r.json.code, name);
    assert.equal(r.json.status, 'active');
    assert.equal(r.json.kind, 'operation');
    const data = loadOperations().find((o) => o.name === name)!;
    assert.deepEqual({ system: r.json.system, type: r.json.type, instance: r.json.instance },
      { system: data.levels.includes('system'), type: data.levels.includes('type'), instance: data.levels.includes('instance') }, 'levels from the same data');
    assert.equal(r.json.affectsState, data.affectsState);
    assert.equal(r.json.description, data.documentation);
  }
  assert.equal(defs.get('reindex'), `${server.fhirBase}/OperationDefinition/fhirgate-reindex`);
  const od = (await call(server, SYSTEM, 'GET', 'OperationDefinition/fhirgate-reindex')).json;
  assert.deepEqual(od.parameter.map((p: Json) => p.name), ['resourcesReindexed', 'customSearchParameters', 'active', 'deactivated', 'skipped']);
});

test('$validate declares its own definition based on Resource-validate, with only what it supports', async () => {
  const url = declared().get('validate')!;
  assert.notEqual(url, R4_VALIDATE, 'declaring the R4 definition itself claims every profile can be validated against');
  const od = (await call(server, SYSTEM, 'GET', pathOf(url))).json;
  assert.equal(od.base, R4_VALIDATE);
  assert.deepEqual(od.resource, ['Resource']);
  const names = od.parameter.map((p: Json) => p.name);
  assert.deepEqual(names, ['resource', 'mode', 'profile', 'return']);
  const profile = od.parameter.find((p: Json) => p.name === 'profile');
  assert.match(profile.documentation, /Only the base R4 profile/);
  // What the definition documents is what the operation does.
  const body = { resourceType: 'Patient', gender: 'female' };
  const base = await call(server, SYSTEM, 'POST', `Patient/$validate?profile=${encodeURIComponent('http://hl7.org/fhir/StructureDefinition/Patient')}`, body);
  assert.equal(base.status, 200, base.text);
  const other = await call(server, SYSTEM, 'POST', `Patient/$validate?profile=${encodeURIComponent('http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient')}`, body);
  assert.equal(other.status, 400);
  assert.equal(other.json.issue[0].code, 'not-supported');
});

test('reserved ids are the server\'s: writes are refused, stored OperationDefinitions elsewhere are untouched', async () => {
  const mine = { resourceType: 'OperationDefinition', name: 'Mine', status: 'draft', kind: 'operation', code: 'mine', system: true, type: false, instance: false };
  for (const [method, body] of [['PUT', { ...mine, id: 'fhirgate-reindex' }], ['DELETE', undefined], ['PATCH', [{ op: 'add', path: '/status', value: 'retired' }]]] as const) {
    const r = await call(server, SYSTEM, method, 'OperationDefinition/fhirgate-reindex', body, method === 'PATCH' ? { 'content-type': 'application/json-patch+json' } : {});
    assert.equal(r.status, 405, `${method}: ${r.text.slice(0, 200)}`);
    assert.match(r.headers.get('allow') ?? '', /^GET, HEAD$/);
  }
  assert.equal((await call(server, SYSTEM, 'GET', 'OperationDefinition/fhirgate-reindex')).json.code, 'reindex', 'still the server\'s definition');
  const stored = await call(server, SYSTEM, 'POST', 'OperationDefinition', mine);
  assert.equal(stored.status, 201, stored.text);
  const read = await call(server, SYSTEM, 'GET', `OperationDefinition/${stored.json.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.json.code, 'mine');
  assert.equal((await call(server, SYSTEM, 'GET', 'OperationDefinition/fhirgate-unknown')).status, 404, 'an unreserved id not stored is unknown');
});
