// GET /metadata claims only what the server does (R4 capabilitystatement.html, http.html#capabilities): each
// check reads the claim from the served CapabilityStatement and asks the server, so a future false claim fails.
// Covers interactions, conditionalRead, the conditional flags, versioning, updateCreate, searchParam,
// operations, formats, patchFormat and security (SMART with authentication on, none with AUTH=off).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRoleServer, call, SYSTEM } from '../compliance/helpers.js';
import type { TestServer } from '../helpers/server.js';
import { metadata } from '../../src/fhir/operations/metadata.js';
import { loadConfig } from '../../src/config.js';
import { developmentContext } from '../../src/auth/context.js';
import type { Services } from '../../src/fhir/services.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const AUDITOR = { role: 'auditor' as const, scopes: ['user/*.rs'], userId: 'cap-aud', clientId: 'audit-ui' };

let server: TestServer;
let cs: Json;
const ids: Record<string, string> = {};
const resourceOf = (type: string): Json => cs.rest[0].resource.find((r: Json) => r.type === type);
const claims = (type: string, code: string) => resourceOf(type).interaction.some((i: Json) => i.code === code);
const who = (type: string) => (type === 'AuditEvent' ? AUDITOR : SYSTEM);

const bodies: Record<string, Json> = {
  Patient: { resourceType: 'Patient', identifier: [{ system: 'urn:cap', value: 'one' }], gender: 'female' },
  Observation: { resourceType: 'Observation', status: 'final', code: { text: 'cap' } },
};

before(async () => {
  server = await startRoleServer();
  cs = (await call(server, SYSTEM, 'GET', 'metadata')).json;
  for (const [type, body] of Object.entries(bodies)) ids[type] = (await call(server, SYSTEM, 'POST', type, body)).json.id;
  // Those requests were audited: the auditor reads one of their events.
  ids.AuditEvent = (await call(server, AUDITOR, 'GET', 'AuditEvent?_count=1')).json.entry[0].resource.id;
});
after(async () => server?.stop());

const TYPES = ['Patient', 'Observation', 'AuditEvent'];

/** The request that performs `code` on `type` (http.html "Summary"). */
function perform(type: string, code: string) {
  const id = ids[type];
  const body = { ...(bodies[type] ?? { resourceType: type }), id };
  switch (code) {
    case 'read': return call(server, who(type), 'GET', `${type}/${id}`);
    case 'vread': return call(server, who(type), 'GET', `${type}/${id}/_history/1`);
    case 'history-instance': return call(server, who(type), 'GET', `${type}/${id}/_history`);
    case 'history-type': return call(server, who(type), 'GET', `${type}/_history`);
    case 'search-type': return call(server, who(type), 'GET', `${type}?_count=1`);
    case 'create': return call(server, SYSTEM, 'POST', type, { ...body, id: undefined });
    case 'update': return call(server, SYSTEM, 'PUT', `${type}/${id}`, body);
    case 'patch': return call(server, SYSTEM, 'PATCH', `${type}/${id}`, [{ op: 'add', path: '/language', value: 'en' }], { 'content-type': 'application/json-patch+json' });
    case 'delete': return call(server, SYSTEM, 'DELETE', `${type}/${id}`);
    default: throw new Error(code);
  }
}

test('each interaction declared works; each of the others is refused', async () => {
  // 'delete' last: the resource is gone afterwards.
  for (const type of TYPES) {
    for (const code of ['read', 'vread', 'history-instance', 'history-type', 'search-type', 'create', 'update', 'patch', 'delete']) {
      const r = await perform(type, code);
      if (claims(type, code)) assert.ok(r.status >= 200 && r.status < 300, `${type} ${code} is declared: ${r.status} ${r.text.slice(0, 200)}`);
      else assert.ok(r.status >= 400, `${type} ${code} is not declared: ${r.status} ${r.text.slice(0, 200)}`);
    }
    if (type !== 'AuditEvent') ids[type] = (await call(server, SYSTEM, 'POST', type, bodies[type])).json.id;
  }
});

test('conditionalRead is declared for every type, and If-None-Match / If-Modified-Since answer 304 exactly as declared', async () => {
  for (const r of cs.rest[0].resource) assert.ok(['not-supported', 'modified-since', 'not-match', 'full-support'].includes(r.conditionalRead), r.type);
  const later = new Date(Date.now() + 86_400_000).toUTCString();
  for (const type of TYPES) {
    const claim = resourceOf(type).conditionalRead as string;
    const read = await call(server, who(type), 'GET', `${type}/${ids[type]}`);
    assert.equal(read.status, 200, read.text);
    const etag = read.headers.get('etag') ?? 'W/"1"';
    const inm = await call(server, who(type), 'GET', `${type}/${ids[type]}`, undefined, { 'if-none-match': etag });
    const ims = await call(server, who(type), 'GET', `${type}/${ids[type]}`, undefined, { 'if-modified-since': later });
    assert.equal(inm.status, ['not-match', 'full-support'].includes(claim) ? 304 : 200, `${type} conditionalRead ${claim}, If-None-Match`);
    assert.equal(ims.status, ['modified-since', 'full-support'].includes(claim) ? 304 : 200, `${type} conditionalRead ${claim}, If-Modified-Since`);
  }
});

test('versioning, readHistory, updateCreate and the conditional create/update/delete flags, as declared', async () => {
  const p = resourceOf('Patient');
  const h = { 'content-type': 'application/fhir+json' };
  const id = (await call(server, SYSTEM, 'POST', 'Patient', bodies.Patient)).json.id;
  if (p.versioning === 'versioned-update') assert.equal((await call(server, SYSTEM, 'PUT', `Patient/${id}`, { ...bodies.Patient, id }, { 'if-match': 'W/"99"' })).status, 412);
  if (p.readHistory) assert.equal((await call(server, SYSTEM, 'GET', `Patient/${id}/_history/1`)).status, 200);
  assert.equal((await call(server, SYSTEM, 'PUT', 'Patient/cap-new', { ...bodies.Patient, id: 'cap-new' })).status, p.updateCreate ? 201 : 405);
  const ine = await call(server, SYSTEM, 'POST', 'Patient', bodies.Patient, { ...h, 'if-none-exist': `_id=${id}` });
  assert.equal(ine.status, p.conditionalCreate ? 200 : 201);
  const cu = await call(server, SYSTEM, 'PUT', `Patient?_id=${id}`, { ...bodies.Patient, gender: 'other' });
  assert.ok(p.conditionalUpdate ? cu.status === 200 : cu.status >= 400, `conditionalUpdate ${p.conditionalUpdate}: ${cu.status}`);
  await call(server, SYSTEM, 'POST', 'Patient', { ...bodies.Patient, identifier: [{ system: 'urn:cap-d', value: 'x' }] });
  await call(server, SYSTEM, 'POST', 'Patient', { ...bodies.Patient, identifier: [{ system: 'urn:cap-d', value: 'x' }] });
  const many = await call(server, SYSTEM, 'DELETE', 'Patient?identifier=urn:cap-d|x');
  const expected = { single: 412, multiple: 200, 'not-supported': 400 } as Record<string, number>;
  assert.equal(many.status === 204 ? 200 : many.status, expected[p.conditionalDelete], `conditionalDelete ${p.conditionalDelete}`);
});

/** AuditEvent codes its search checks (auditevent.html: action C|R|U|D|E, outcome 0|4|8|12). */
const CODES: Record<string, string> = { action: 'R', outcome: '0' };

/** A value of each search parameter type that the parameter's syntax accepts (search.html). */
function sample(p: Json): string {
  if (CODES[p.name]) return CODES[p.name];
  if (p.type !== 'composite') return ({ string: 'x', token: 'x', date: '2020', reference: 'Patient/x', uri: 'http://x', quantity: '5', number: '5', special: '1|2|3|km' } as Record<string, string>)[p.type];
  return /date/.test(p.name) ? 'x$2020' : /quantity/.test(p.name) ? 'x$5' : 'x$y';
}

test('every declared search parameter is accepted; an undeclared one is refused', async () => {
  for (const type of TYPES) {
    for (const p of resourceOf(type).searchParam) {
      const r = await call(server, who(type), 'GET', `${type}?${encodeURIComponent(p.name)}=${encodeURIComponent(sample(p))}&_count=1`);
      assert.equal(r.status, 200, `${type}?${p.name} (${p.type}) is declared: ${r.text.slice(0, 200)}`);
    }
    const undeclared = await call(server, who(type), 'GET', `${type}?not-a-param=x`, undefined, { prefer: 'handling=strict' });
    assert.equal(undeclared.status, 400, type);
  }
});

test('every operation declared on a type resolves there (never 404 "not supported", never 405)', async () => {
  const unsupported = (r: { status: number; text: string }) => r.status === 405 || (r.status === 404 && /operation \$\S+ is not (supported|defined)/.test(r.text));
  for (const r of cs.rest[0].resource) {
    for (const op of r.operation ?? []) {
      const ctx = r.type === 'AuditEvent' ? { ...SYSTEM, scopes: ['system/*.cruds'] } : SYSTEM;
      const atType = await call(server, ctx, 'POST', `${r.type}/$${op.name}`, { resourceType: 'Parameters' });
      if (!unsupported(atType)) continue;
      const atInstance = await call(server, ctx, 'POST', `${r.type}/${ids[r.type] ?? 'cap-x'}/$${op.name}`, { resourceType: 'Parameters' });
      assert.ok(!unsupported(atInstance), `${r.type} $${op.name} is declared: ${atInstance.status} ${atInstance.text.slice(0, 200)}`);
    }
  }
});

test('formats and patch formats: each declared one is served, an undeclared one refused; fhirVersion and mode', async () => {
  assert.equal(cs.fhirVersion, '4.0.1');
  assert.equal(cs.rest[0].mode, 'server');
  const id = ids.Patient;
  for (const f of cs.format) assert.equal((await call(server, SYSTEM, 'GET', `Patient/${id}?_format=${encodeURIComponent(f)}`)).status, 200, f);
  assert.equal((await call(server, SYSTEM, 'GET', `Patient/${id}?_format=xml`)).status, 406);
  for (const f of cs.patchFormat) {
    const r = await call(server, SYSTEM, 'PATCH', `Patient/${id}`, [{ op: 'add', path: '/active', value: true }], { 'content-type': f });
    assert.equal(r.status, 200, f);
  }
  if (!cs.patchFormat.includes('application/fhir+json')) {
    const fhirpath = { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }, { name: 'path', valueString: 'Patient.active' }] }] };
    assert.equal((await call(server, SYSTEM, 'PATCH', `Patient/${id}`, fhirpath)).status, 415);
  }
});

test('security: SMART with authentication on; nothing claimed with AUTH=off, where tokens are not read', async () => {
  // That the oauth-uris match the served endpoints is test/auth/discovery-keys-cli.test.ts's (this harness mounts none).
  const sec = cs.rest[0].security;
  assert.ok(sec.service.some((s: Json) => s.coding.some((c: Json) => c.code === 'SMART-on-FHIR')));
  assert.deepEqual(sec.extension.find((e: Json) => e.url.endsWith('/oauth-uris')).extension.map((e: Json) => e.url), ['authorize', 'token', 'introspect', 'revoke']);
  const req = { method: 'GET' as const, segments: ['metadata'], params: [], headers: {}, ctx: developmentContext() };
  const off = JSON.parse((await metadata(req, { config: loadConfig({ AUTH: 'off', PUBLIC_URL: 'http://cap-off:1' }) } as Services)).raw!) as Json;
  assert.equal(off.rest[0].security.service, undefined);
  assert.equal(off.rest[0].security.extension, undefined);
  assert.equal(off.rest[0].security.cors, true);
});
