// The AuditEvents of REST accesses (src/audit/request.ts, balp.ts, balp-profile.ts) against R4 AuditEvent
// (src/fhir/validation/validate.ts) and the IHE BALP profile each names (balp-conformance.ts): an event
// names a profile only when it meets it, and every event is a valid R4 AuditEvent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restAuditRows, type RestAccess } from '../../src/audit/request.js';
import { authAuditRows } from '../../src/audit/auth-events.js';
import { presentEvents } from '../../src/audit/expand.js';
import { validateResource } from '../../src/fhir/validation/validate.js';
import { balpProblems } from './balp-conformance.js';

type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const server = { observer: 'fhirgate', address: 'http://localhost/fhir' };
const user = { tenant: 't', role: 'clinician', clientId: 'ehr', userId: 'u1', fhirUser: 'Practitioner/u1', address: '10.0.0.7' };
const backend = { tenant: 't', role: 'system', clientId: 'etl', address: '10.0.0.8' };
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';

function events(a: Omit<RestAccess, 'actor'> & { actor?: RestAccess['actor'] }): J[] {
  return restAuditRows({ actor: user, ...a }, server).flatMap((r) => presentEvents(r).map((e) => JSON.parse(e.content)));
}
const profileOf = (e: J) => e.meta?.profile?.[0]?.slice(BALP.length);
const refs = (e: J) => (e.entity ?? []).map((x: J) => x.what?.reference ?? (x.query ? 'query' : x.type.code));

function assertConforms(e: J): void {
  assert.deepEqual(validateResource(e), [], JSON.stringify(e));
  assert.deepEqual(balpProblems(e), [], JSON.stringify(e));
}

test('a read of a Patient names it as entity[patient] and as entity[data] (BALP PatientRead: entity 2..*, data 1..1)', () => {
  const [e] = events({ method: 'GET', segments: ['Patient', 'p1'], params: [], interaction: 'read', type: 'Patient', status: 200, raw: '{"resourceType":"Patient","id":"p1"}', requestId: 'r1' });
  assert.equal(profileOf(e), 'PatientRead');
  assert.deepEqual(refs(e), ['Patient/p1', 'Patient/p1', 'XrequestId']);
  assert.deepEqual(e.entity[1].type, { code: '2', display: 'System Object', system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type' });
  assertConforms(e);
});

test('refusals and failures name no BALP profile: every RESTful profile fixes outcome = 0', () => {
  const cases: Array<Omit<RestAccess, 'actor'>> = [
    { method: 'GET', segments: ['Observation', 'nope'], params: [], interaction: 'read', type: 'Observation', status: 404, message: 'Observation/nope is not known' },
    { method: 'GET', segments: ['Patient', 'p1'], params: [], interaction: 'read', type: 'Patient', status: 403, message: 'scopes' },
    { method: 'POST', segments: ['Observation'], params: [], interaction: 'create', type: 'Observation', status: 422, message: 'invalid' },
    { method: 'GET', segments: ['Observation'], params: [['patient', 'p1']], interaction: 'search', type: 'Observation', status: 400, message: 'bad' },
    { method: 'DELETE', segments: ['Observation', 'o1'], params: [], interaction: 'delete', type: 'Observation', status: 500, message: 'internal error' },
  ];
  for (const a of cases) {
    const [e] = events(a);
    assert.notEqual(e.outcome, '0');
    assert.equal(e.meta, undefined, `${a.method} ${a.segments.join('/')} ${a.status}: ${JSON.stringify(e.meta)}`);
    assert.deepEqual(validateResource(e), []);
  }
  // The same accesses succeeding do name theirs.
  assert.equal(profileOf(events({ ...cases[0], status: 200 })[0]), 'Read');
  assert.equal(profileOf(events({ ...cases[3], status: 200 })[0]), 'PatientQuery');
});

test('a delete by a client acting without a user: the client agent (110150) carries no role (BALP Delete: agent[client].role 0..0)', () => {
  const [e] = events({ actor: backend, method: 'DELETE', segments: ['Organization', 'o1'], params: [], interaction: 'delete', type: 'Organization', status: 200, headers: { ETag: 'W/"2"' } });
  assert.equal(profileOf(e), 'Delete');
  const client = e.agent.find((a: J) => a.type.coding[0].code === '110150');
  assert.equal(client.role, undefined);
  assert.equal(client.requestor, true);
  assertConforms(e);
  // Other actions keep the client's role when no user acts (nothing in BALP forbids it there).
  const [r] = events({ actor: backend, method: 'GET', segments: ['Organization', 'o1'], params: [], interaction: 'read', type: 'Organization', status: 200 });
  assert.equal(r.agent[0].role[0].coding[0].code, 'system');
  assertConforms(r);
});

test('an event without entities has no `entity` (FHIR JSON: arrays SHALL NOT be empty)', () => {
  const [e] = events({ method: 'POST', segments: ['Observation'], params: [], interaction: 'create', type: 'Observation', status: 422, message: 'invalid' });
  assert.equal('entity' in e, false, JSON.stringify(e));
  assert.deepEqual(validateResource(e), []);
  const rows = authAuditRows({ kind: 'token-grant', actor: backend, status: 200, reason: 'grant_type=client_credentials', scopes: 'system/*.rs', server });
  const grant = JSON.parse(rows[0].content);
  assert.equal('entity' in grant, false);
  assert.deepEqual(validateResource(grant), []);
});

test('histories and operations on an instance name it in entity[query], not as a second System Object (BALP Query slices entity by type)', () => {
  const [h] = events({ method: 'GET', segments: ['Observation', 'o1', '_history'], params: [['_count', '5']], interaction: 'history', type: 'Observation', status: 200, touched: [], raw: '{"subject":{"reference":"Patient/p1"}}' });
  assert.equal(profileOf(h), 'PatientQuery');
  assert.deepEqual(refs(h), ['Patient/p1', 'query']);
  assert.equal(Buffer.from(h.entity[1].query, 'base64').toString(), 'GET Observation/o1/_history?_count=5');
  assertConforms(h);
  const [ev] = events({ method: 'GET', segments: ['Patient', 'p1', '$everything'], params: [], status: 200, raw: '{"resourceType":"Patient","id":"p1"}' });
  assert.equal(profileOf(ev), 'PatientQuery');
  assert.deepEqual(refs(ev), ['Patient/p1', 'query']);
  assertConforms(ev);
  // The store's entity column still names the instance, for the auditor's `entity=` search.
  assert.equal(restAuditRows({ actor: user, method: 'GET', segments: ['Observation', 'o1', '_history'], params: [], interaction: 'history', type: 'Observation', status: 200 }, server)[0].entity, 'Observation/o1');
});

test('a conditional delete whose resource is not reported: its criteria in entity[query], and no Delete profile claimed without entity[data]', () => {
  const [e] = events({ method: 'DELETE', segments: ['Observation'], params: [['identifier', 'urn:o|o1']], interaction: 'delete', type: 'Observation', status: 200, touched: ['Patient/p1'] });
  assert.equal(e.action, 'D');
  assert.equal(e.meta, undefined);
  assert.deepEqual(refs(e), ['Patient/p1', 'query']);
  assert.equal(Buffer.from(e.entity[1].query, 'base64').toString(), 'DELETE Observation?identifier=urn%3Ao%7Co1');
  assert.equal(e.entity[1].description, 'Observation?identifier');
  assert.deepEqual(validateResource(e), []);
  // A conditional update reports its resource (Location): entity[data], PatientUpdate, no query entity.
  const [u] = events({ method: 'PUT', segments: ['Observation'], params: [['identifier', 'urn:o|o1']], interaction: 'update', type: 'Observation', status: 200, headers: { Location: 'http://localhost/fhir/Observation/o1/_history/2' }, touched: ['Patient/p1'] });
  assert.equal(profileOf(u), 'PatientUpdate');
  assert.deepEqual(refs(u), ['Patient/p1', 'Observation/o1/_history/2']);
  assertConforms(u);
});

test('every success of the REST interactions conforms to R4 and to the BALP profile it names', () => {
  const accesses: Array<Omit<RestAccess, 'actor'>> = [
    { method: 'GET', segments: ['Observation', 'o1'], params: [], interaction: 'read', type: 'Observation', status: 200, raw: '{"subject":{"reference":"Patient/p1"}}', requestId: 'x' },
    { method: 'GET', segments: ['Observation', 'o1', '_history', '1'], params: [], interaction: 'vread', type: 'Observation', status: 200, raw: '{"subject":{"reference":"Patient/p1"}}' },
    { method: 'POST', segments: ['Observation'], params: [], interaction: 'create', type: 'Observation', status: 201, headers: { Location: 'http://localhost/fhir/Observation/o1/_history/1' }, touched: ['Patient/p1'] },
    { method: 'PUT', segments: ['Patient', 'p1'], params: [], interaction: 'update', type: 'Patient', status: 200, headers: { ETag: 'W/"2"' }, touched: ['Patient/p1'] },
    { method: 'PATCH', segments: ['Observation', 'o1'], params: [], interaction: 'patch', type: 'Observation', status: 200, headers: { ETag: 'W/"3"' }, touched: ['Patient/p1'] },
    { method: 'DELETE', segments: ['Observation', 'o1'], params: [], interaction: 'delete', type: 'Observation', status: 204, headers: { ETag: 'W/"4"' }, touched: ['Patient/p1'] },
    { method: 'GET', segments: ['Observation'], params: [['patient', 'p1']], interaction: 'search', type: 'Observation', status: 200, raw: '{"subject":{"reference":"Patient/p2"}}' },
    { method: 'GET', segments: [], params: [['_type', 'Organization']], interaction: 'search', status: 200, raw: '{}' },
    { method: 'GET', segments: ['Organization', 'g1'], params: [], interaction: 'read', type: 'Organization', status: 200, raw: '{}' },
  ];
  for (const actor of [user, backend]) {
    for (const a of accesses) {
      const evs = events({ ...a, actor });
      assert.ok(evs.length >= 1);
      for (const e of evs) {
        assert.ok(profileOf(e), `${a.method} ${a.segments.join('/')}: a success names its profile`);
        assertConforms(e);
      }
    }
  }
});
