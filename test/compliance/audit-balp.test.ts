// The AuditEvents real requests leave, read back as the auditor reads them (GET /fhir/AuditEvent), held
// to R4 AuditEvent (src/fhir/validation/validate.ts) and to the IHE BALP profile each names
// (test/audit/balp-conformance.ts): reads, searches (by patient, chained, _include), histories,
// $everything, creates, updates, deletes (plain and conditional), transaction and batch Bundles, and
// refusals and failures (400, 403, 404, 401 without a token). No name, birth date or identifier of a
// patient appears in any event outside the base64 entity[query].query.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startRoleServer, call, SYSTEM } from './helpers.js';
import { call as plainCall } from '../helpers/http.js';
import { validateResource } from '../../src/fhir/validation/validate.js';
import { balpProblems } from '../audit/balp-conformance.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
let server: Server;
const NAME = 'Zyxwvutsrqp';
const BIRTH = '1931-07-13';
const MRN = 'MRN-5550123';
const clinician = { role: 'clinician' as const, scopes: ['user/*.cruds'], userId: 'dr-who', fhirUser: 'Practitioner/dr-who', clientId: 'ehr-app' };
const auditor = { role: 'auditor' as const, scopes: ['user/*.rs'], userId: 'aud', clientId: 'audit-ui' };

before(async () => {
  server = await startRoleServer();
});
after(async () => {
  await server?.stop();
});

/** Every AuditEvent the auditor can read, page by page. */
async function allEvents(): Promise<J[]> {
  const out: J[] = [];
  let next: string | undefined = 'AuditEvent?_count=200';
  while (next) {
    const page = await call(server, auditor, 'GET', next);
    assert.equal(page.status, 200, page.text);
    out.push(...(page.json.entry ?? []).map((e: J) => e.resource));
    next = (page.json.link.find((l: J) => l.relation === 'next')?.url as string | undefined)?.slice(server.fhirBase.length + 1);
  }
  return out;
}

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
const profile = (e: J) => e.meta?.profile?.[0]?.slice(BALP.length);
const patientsOf = (e: J) => (e.entity ?? []).filter((x: J) => x.role?.code === '1').map((x: J) => x.what.reference);
const dataOf = (e: J) => (e.entity ?? []).filter((x: J) => x.role?.code === '4').map((x: J) => x.what.reference);

test('the events of real requests are valid R4 AuditEvents that meet the BALP profile they name', async () => {
  const p1 = (await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: NAME }], birthDate: BIRTH, identifier: [{ system: 'urn:mrn', value: MRN }] })).json.id;
  const p2 = (await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Other' }] })).json.id;
  const obs = (p: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p}` }, identifier: [{ system: 'urn:o', value: `o-${p}` }] });
  const o1 = (await call(server, SYSTEM, 'POST', 'Observation', obs(p1))).json.id;
  const org = (await call(server, SYSTEM, 'POST', 'Organization', { resourceType: 'Organization', name: 'Acme' })).json.id;

  const requests: Array<{ name: string; ctx?: object; method: string; path: string; body?: unknown; status: number; patients?: string[]; profile?: string; data?: string[] }> = [
    { name: 'read Patient', method: 'GET', path: `Patient/${p1}`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientRead', data: [`Patient/${p1}`] },
    { name: 'read Observation', method: 'GET', path: `Observation/${o1}`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientRead', data: [`Observation/${o1}`] },
    { name: 'vread', method: 'GET', path: `Observation/${o1}/_history/1`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientRead' },
    { name: 'read Organization', method: 'GET', path: `Organization/${org}`, status: 200, patients: [], profile: 'Read', data: [`Organization/${org}`] },
    { name: 'search by patient', method: 'GET', path: `Observation?patient=${p1}`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientQuery' },
    { name: 'search by name', method: 'GET', path: `Patient?name=${NAME}`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientQuery' },
    { name: 'chained search', method: 'GET', path: `Observation?patient.name=${NAME}`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientQuery' },
    { name: 'chained search by birth date, no match', method: 'GET', path: `Observation?patient.birthdate=1900-01-01`, status: 200, patients: [], profile: 'Query' },
    { name: 'identifier modifier', method: 'GET', path: `Observation?patient:identifier=${MRN}`, status: 200 },
    { name: '_include', method: 'GET', path: `Observation?_id=${o1}&_include=Observation:subject`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientQuery' },
    { name: 'type modifier, no match', method: 'GET', path: `Observation?subject:Patient=${p2}`, status: 200, patients: [`Patient/${p2}`], profile: 'PatientQuery' },
    { name: 'history of a Patient', method: 'GET', path: `Patient/${p1}/_history`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientQuery', data: [] },
    { name: '$everything', method: 'GET', path: `Patient/${p1}/$everything`, status: 200, patients: [`Patient/${p1}`], profile: 'PatientQuery', data: [] },
    { name: 'create', method: 'POST', path: 'Observation', body: obs(p2), status: 201, patients: [`Patient/${p2}`], profile: 'PatientCreate' },
    { name: 'update Patient', method: 'PUT', path: `Patient/${p2}`, body: { resourceType: 'Patient', id: p2, name: [{ family: 'Other' }], gender: 'other' }, status: 200, patients: [`Patient/${p2}`], profile: 'PatientUpdate' },
    { name: 'delete by a backend', ctx: SYSTEM, method: 'DELETE', path: `Organization/${org}`, status: 200, patients: [], profile: 'Delete' },
    { name: 'conditional delete', method: 'DELETE', path: `Observation?identifier=urn:o|o-${p2}`, status: 200, patients: [`Patient/${p2}`], profile: 'PatientDelete' },
    { name: 'transaction', method: 'POST', path: '', body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Observation' }, resource: obs(p1) }, { request: { method: 'POST', url: 'Observation' }, resource: obs(p2) }] }, status: 200, patients: [`Patient/${p1}`, `Patient/${p2}`] },
    { name: 'batch', method: 'POST', path: '', body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient/${p2}` } }] }, status: 200 },
    { name: '400 search', method: 'GET', path: `Patient?birthdate=${NAME}`, status: 400, profile: undefined },
    { name: '400 body', method: 'PUT', path: `Patient/${p1}`, body: { resourceType: 'Patient', id: NAME }, status: 400, patients: [`Patient/${p1}`], profile: undefined },
    { name: '400 transaction entry', method: 'POST', path: '', body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: `Patient?identifier=urn:mrn|${MRN}` }, resource: { resourceType: 'Patient', birthDate: 'x' } }] }, status: 400, profile: undefined },
    { name: '403', ctx: { ...clinician, scopes: ['user/Observation.rs'] }, method: 'GET', path: `Patient/${p1}`, status: 403, patients: [`Patient/${p1}`], profile: undefined },
    { name: '404', method: 'GET', path: 'Observation/nope', status: 404, patients: [], profile: undefined },
  ];
  const seen = new Map<string, string>();
  for (const r of requests) {
    const id = randomUUID();
    const reply = await call(server, r.ctx ?? clinician, r.method, r.path, r.body, { 'x-request-id': id });
    assert.equal(reply.status, r.status, `${r.name}: ${reply.text.slice(0, 300)}`);
    seen.set(id, r.name);
  }
  // A request without a token: refused before dispatch (ITI-72), with no X-Request-Id, so no entity at all.
  assert.equal((await plainCall(server.fhirBase, 'GET', `Patient/${p1}`, undefined, {})).status, 401);

  const events = await allEvents();
  const byRequest = new Map<string, J[]>();
  for (const e of events) {
    assert.deepEqual(validateResource(e), [], `not a valid R4 AuditEvent: ${JSON.stringify(e)}`);
    assert.deepEqual(balpProblems(e), [], `does not meet ${profile(e)}: ${JSON.stringify(e)}`);
    assert.ok(!('entity' in e) || e.entity.length > 0);
    // PHI stays out: only the base64 query may hold the values a request carried.
    const text = JSON.stringify({ ...e, entity: (e.entity ?? []).map((x: J) => ({ ...x, query: undefined })) });
    for (const phi of [NAME, BIRTH, MRN]) assert.ok(!text.includes(phi), `${phi} in ${text}`);
    if (e.outcome !== '0') assert.equal(e.meta, undefined, 'a failure names no BALP profile');
    const rid = (e.entity ?? []).find((x: J) => x.type?.code === 'XrequestId')?.what.identifier.value;
    if (rid && seen.has(rid)) byRequest.set(seen.get(rid)!, [...(byRequest.get(seen.get(rid)!) ?? []), e]);
  }
  assert.ok(events.some((e) => e.subtype[0].code === 'ITI-72' && !('entity' in e)), 'the 401 is recorded, without an empty entity');

  for (const r of requests) {
    const evs = byRequest.get(r.name) ?? [];
    assert.ok(evs.length >= 1, `${r.name}: no event`);
    if (r.patients) assert.deepEqual(evs.flatMap(patientsOf).sort(), [...r.patients].sort(), `${r.name}: entity[patient]`);
    if ('profile' in r) for (const e of evs) assert.equal(profile(e), r.profile, `${r.name}: ${JSON.stringify(e.meta)}`);
    if (r.data) for (const e of evs) assert.deepEqual(dataOf(e), r.data, `${r.name}: entity[data]`);
  }
  // The conditional delete names the resource its criteria found and it deleted (entity[data]), no query entity.
  const cd = byRequest.get('conditional delete')![0];
  const createdRef = dataOf(byRequest.get('create')![0])[0] as string;
  assert.deepEqual(dataOf(cd), [createdRef.replace(/\/_history\/\d+$/, '')]);
  assert.ok(!cd.entity.some((x: J) => x.role?.code === '24'));
  // The backend's delete: Application 110150 without a role; the requestor is the client.
  const bd = byRequest.get('delete by a backend')![0];
  assert.deepEqual([bd.agent[0].type.coding[0].code, bd.agent[0].role, bd.agent[0].requestor, bd.agent[0].who.identifier.value], ['110150', undefined, true, SYSTEM.clientId]);
});
