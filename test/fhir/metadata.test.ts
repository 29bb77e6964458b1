// The generated CapabilityStatement (http.html#capabilities) claims only what exists: R4 core types,
// the registry's search parameters, implemented and registered operations; and it is valid R4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCapabilityStatement, declarableOperations, loadOperations, metadata } from '../../src/fhir/operations/metadata.js';
import { isResourceType, RESOURCE_TYPES } from '../../src/registry/resource-types.js';
import { validateResource } from '../../src/fhir/validation/validate.js';
import { loadConfig } from '../../src/config.js';
import { registerAll } from '../../src/fhir/register.js';
import { listOperations } from '../../src/fhir/routes.js';
import { AUDIT_SEARCH_PARAMS } from '../../src/fhir/interactions/audit-search.js';
import { developmentContext } from '../../src/auth/context.js';
import type { Services } from '../../src/fhir/services.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const opts = { fhirBase: 'https://fhir.example.org/fhir', publicUrl: 'https://fhir.example.org', registeredOperations: ['validate', 'everything', 'reindex'] };
const cs = buildCapabilityStatement(opts) as Json;
const rest = cs.rest[0];

test('a valid R4 CapabilityStatement for fhirgate 4.0.1, JSON formats', () => {
  assert.deepEqual(validateResource(cs), []);
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
  assert.equal(cs.software.name, 'fhirgate');
  assert.deepEqual(cs.format, ['application/fhir+json', 'application/json', 'json']);
  assert.deepEqual(cs.patchFormat, ['application/json-patch+json']);
  assert.equal(cs.implementation.url, opts.fhirBase);
  assert.deepEqual(rest.interaction.map((i: Json) => i.code), ['transaction', 'batch', 'search-system', 'history-system']);
});

test('every declared resource type is an R4 core type, and every R4 type is declared', () => {
  const types = rest.resource.map((r: Json) => r.type);
  assert.equal(types.length, RESOURCE_TYPES.length);
  for (const t of types) assert.ok(isResourceType(t), t);
  for (const vendor of ['Project', 'Bot', 'ClientApplication', 'SubscriptionStatus']) assert.ok(!types.includes(vendor));
  const patient = rest.resource.find((r: Json) => r.type === 'Patient');
  assert.deepEqual(patient.interaction.map((i: Json) => i.code),
    ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type']);
  assert.equal(patient.profile, 'http://hl7.org/fhir/StructureDefinition/Patient');
});

test('search parameters come from the search registry, unique per resource', () => {
  const patient = rest.resource.find((r: Json) => r.type === 'Patient');
  const names = patient.searchParam.map((p: Json) => p.name);
  for (const n of ['name', 'birthdate', 'gender', 'identifier']) assert.ok(names.includes(n), n);
  for (const r of rest.resource) {
    const ns = (r.searchParam ?? []).map((p: Json) => p.name);
    assert.equal(new Set(ns).size, ns.length, r.type);
  }
  const observation = rest.resource.find((r: Json) => r.type === 'Observation');
  assert.ok(observation.searchParam.some((p: Json) => p.name === 'code' && p.type === 'token'));
});

test('operations are declared as the routes table serves them: names, levels and types', () => {
  registerAll();
  const served = new Map(listOperations().map((op) => [op.name, op]));
  for (const op of declarableOperations(served.keys())) {
    const route = served.get(op.name)!;
    assert.deepEqual([...op.levels].sort(), [...route.levels].sort(), `${op.name} levels`);
    assert.deepEqual(op.resources === '*' ? undefined : [...op.resources].sort(), route.types ? [...route.types].sort() : undefined, `${op.name} types`);
  }
  const patient = rest.resource.find((r: Json) => r.type === 'Patient');
  assert.deepEqual(patient.operation.map((o: Json) => o.name).sort(), ['everything', 'reindex', 'validate']);
  const observation = rest.resource.find((r: Json) => r.type === 'Observation');
  assert.deepEqual(observation.operation.map((o: Json) => o.name).sort(), ['reindex', 'validate']);
  // Implemented but not registered in the routes table: not declared.
  const unregistered = buildCapabilityStatement({ ...opts, registeredOperations: [] }) as Json;
  assert.ok(unregistered.rest[0].resource.every((r: Json) => r.operation === undefined));
  assert.deepEqual(declarableOperations([]), []);
  assert.ok(loadOperations().every((op) => op.implemented), 'every operation described is implemented');
});

test('AuditEvent is declared as the audit store serves it: read and search, its own parameters, never written', () => {
  const ae = rest.resource.find((r: Json) => r.type === 'AuditEvent');
  assert.deepEqual(ae.interaction.map((i: Json) => i.code), ['read', 'search-type']);
  assert.deepEqual(ae.searchParam.map((p: Json) => p.name).sort(), [...AUDIT_SEARCH_PARAMS].sort());
  assert.equal(ae.conditionalDelete, 'not-supported');
  assert.equal(ae.readHistory, false);
});

test('SMART security: service SMART-on-FHIR and oauth-uris from PUBLIC_URL', () => {
  assert.equal(rest.security.service[0].coding[0].code, 'SMART-on-FHIR');
  const ext = rest.security.extension.find((e: Json) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
  const uris = Object.fromEntries(ext.extension.map((e: Json) => [e.url, e.valueUri]));
  assert.deepEqual(uris, {
    authorize: 'https://fhir.example.org/auth/authorize',
    token: 'https://fhir.example.org/auth/token',
    introspect: 'https://fhir.example.org/auth/introspect',
    revoke: 'https://fhir.example.org/auth/revoke',
  });
});

test('the handler answers 200 with the statement for the configured URLs, and keeps it', async () => {
  const config = loadConfig({ PUBLIC_URL: 'http://localhost:9999' });
  const svc = { config } as Services;
  const req = { method: 'GET' as const, segments: ['metadata'], params: [], headers: {}, ctx: developmentContext() };
  const first = await metadata(req, svc);
  assert.equal(first.status, 200);
  const body = JSON.parse(first.raw!) as Json;
  assert.equal(body.resourceType, 'CapabilityStatement');
  assert.equal(body.implementation.url, 'http://localhost:9999/fhir');
  assert.equal(body.rest[0].security.extension[0].extension[0].valueUri, 'http://localhost:9999/auth/authorize');
  assert.equal((await metadata(req, svc)).raw, first.raw);
});

test('US Core 6.1 profiles Inferno requires (C4) and the us-core-server instantiation (C5) are declared', async () => {
  const cs = buildCapabilityStatement({ fhirBase: 'http://x/fhir', publicUrl: 'http://x' }) as any;
  const profiles = new Set<string>(cs.rest[0].resource.flatMap((r: any) => (r.supportedProfile ?? []).map((p: string) => p.split('|')[0])));
  for (const p of ['us-core-patient', 'us-core-observation-lab', 'us-core-blood-pressure', 'pediatric-bmi-for-age', 'us-core-provenance', 'us-core-specimen', 'us-core-implantable-device']) {
    assert.ok(profiles.has(`http://hl7.org/fhir/us/core/StructureDefinition/${p}`), p);
  }
  assert.ok(cs.instantiates.some((u: string) => u.startsWith('http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server')));
  assert.equal(cs.rest[0].security.cors, true);
});
