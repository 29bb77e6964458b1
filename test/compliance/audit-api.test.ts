// Every access leaves evidence (issue "Audit"): each REST interaction through the real server writes
// BALP-shaped AuditEvents in its transaction, refusals are recorded too, the auditor answers "who
// touched this patient" with one search, and if the audit append fails no data is served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { verifyAudit } from '../../src/audit/verify.js';
import { loadTrustedKeys } from '../../src/audit/signing.js';
import { presentEvents } from '../../src/audit/expand.js';
import { startRoleServer, call, ownerClient, SYSTEM, bearer } from './helpers.js';
import { call as rawCall } from '../helpers/http.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
let server: Server;
let c: pg.Client;
let p1: string;
let p2: string;

before(async () => {
  server = await startRoleServer();
  c = await ownerClient(server.adminUrl);
  p1 = (await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Auditee' }], birthDate: '1970-01-01' })).json.id;
  p2 = (await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Other' }] })).json.id;
});
after(async () => {
  await c?.end();
  await server?.stop();
});

/** The stored rows a request left, found by its X-Request-Id (BALP entity[transaction]). */
async function rowsOf(requestId: string): Promise<J[]> {
  return (await c.query(`select id, action, subtype, outcome, agent, patient, entity, content from audit.event where content like $1 order by patient`, [`%"value":"${requestId}"%`])).rows;
}

/** The AuditEvents a request left: its rows, each presented as one event per patient it lists. */
async function eventsOf(requestId: string): Promise<J[]> {
  return (await rowsOf(requestId)).flatMap((x) => presentEvents(x).map((e) => ({ ...x, id: e.id, patient: e.patient, content: e.content, json: JSON.parse(e.content) })));
}

async function traced(ctx: object, method: string, path: string, body?: unknown) {
  const id = randomUUID();
  const reply = await call(server, ctx, method, path, body, { 'x-request-id': id });
  return { reply, events: await eventsOf(id), requestId: id };
}

const clinician = { role: 'clinician' as const, scopes: ['user/*.cruds'], userId: 'dr-who', fhirUser: 'Practitioner/dr-who', clientId: 'ehr-app' };

test('create, read, vread, update, patch, history, delete: one AuditEvent each, BALP-shaped', async () => {
  const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p1}` } };
  const created = await traced(clinician, 'POST', 'Observation', obs);
  assert.equal(created.reply.status, 201);
  const id = created.reply.json.id;
  assert.deepEqual(created.events.map((e) => [e.action, e.subtype, e.outcome, e.patient, e.entity]), [['C', 'create', 0, `Patient/${p1}`, `Observation/${id}`]]);
  const ev = created.events[0].json;
  assert.equal(ev.type.code, 'rest');
  assert.equal(ev.meta.profile[0], 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientCreate');
  assert.ok(ev.entity.some((e: J) => e.what?.reference === `Observation/${id}/_history/1` && e.role.code === '4'), 'version-specific data entity');
  assert.ok(ev.entity.some((e: J) => e.what?.reference === `Patient/${p1}` && e.role.code === '1' && e.type.code === '1'));

  const read = await traced(clinician, 'GET', `Observation/${id}`);
  assert.equal(read.reply.status, 200);
  assert.deepEqual(read.events.map((e) => [e.action, e.subtype, e.patient]), [['R', 'read', `Patient/${p1}`]]);
  const r = read.events[0].json;
  const [client, srv, user] = r.agent;
  assert.equal(client.type.coding[0].code, '110152', 'Read: the client is the Destination');
  assert.equal(client.who.identifier.value, 'ehr-app');
  assert.match(client.network.address, /127\.0\.0\.1/);
  assert.equal(srv.type.coding[0].code, '110153');
  assert.deepEqual([user.who.reference, user.requestor, user.type.coding[0].code], ['Practitioner/dr-who', true, 'IRCP']);
  assert.equal(r.source.observer.display, 'fhirgate');
  assert.equal(r.outcome, '0');

  assert.deepEqual((await traced(clinician, 'GET', `Observation/${id}/_history/1`)).events.map((e) => [e.action, e.subtype]), [['R', 'vread']]);
  const up = await traced(clinician, 'PUT', `Observation/${id}`, { ...obs, id, status: 'amended' });
  assert.deepEqual(up.events.map((e) => [e.action, e.subtype, e.entity]), [['U', 'update', `Observation/${id}`]]);
  assert.equal(up.events[0].json.agent[0].type.coding[0].code, '110153', 'Update: the client is the Source');
  const patched = await traced(clinician, 'PATCH', `Observation/${id}`, [{ op: 'replace', path: '/status', value: 'final' }]);
  assert.deepEqual(patched.events.map((e) => [e.action, e.subtype]), [['U', 'patch']]);
  const hist = await traced(clinician, 'GET', `Observation/${id}/_history?_count=5`);
  assert.deepEqual(hist.events.map((e) => [e.action, e.subtype, e.patient]), [['E', 'history-instance', `Patient/${p1}`]]);
  const q = hist.events[0].json.entity.find((e: J) => e.role?.code === '24');
  assert.equal(Buffer.from(q.query, 'base64').toString('utf8'), `GET Observation/${id}/_history?_count=5`);
  assert.equal(q.description, `Observation/${id}/_history?_count`, 'the description names parameters, not their values');
  const del = await traced(clinician, 'DELETE', `Observation/${id}`);
  assert.deepEqual(del.events.map((e) => [e.action, e.subtype, e.patient]), [['D', 'delete', `Patient/${p1}`]]);
  assert.equal(del.events[0].json.agent[1].type.coding[0].code, 'custodian');
});

test('refusals and failures are recorded in their own transaction', async () => {
  const otherPatient = { role: 'patient' as const, scopes: ['patient/*.rs'], patient: p2, fhirUser: `Patient/${p2}`, userId: 'p2-user', clientId: 'portal' };
  const hidden = await traced(otherPatient, 'GET', `Patient/${p1}`);
  assert.equal(hidden.reply.status, 404, 'RLS hides the other patient');
  assert.deepEqual(hidden.events.map((e) => [e.action, e.outcome, e.patient]), [['R', 4, `Patient/${p1}`], ['R', 4, `Patient/${p2}`]].sort((a, b) => String(a[2]).localeCompare(String(b[2]))));
  const noScope = await traced({ ...clinician, scopes: ['user/Observation.rs'] }, 'GET', `Patient/${p1}`);
  assert.equal(noScope.reply.status, 403);
  assert.deepEqual(noScope.events.map((e) => [e.subtype, e.outcome]), [['read', 4]]);
  assert.match(noScope.events[0].json.outcomeDesc, /^403/);
});

test('a body refused while it is read (not JSON, a control character) is recorded too', async () => {
  for (const [body, why] of [['{"resourceType": "Patient", ', /not valid JSON/], ['{"resourceType":"Patient","gender":"\\u0001"}', /control character/]] as const) {
    const id = randomUUID();
    const reply = await rawCall(server.fhirBase, 'POST', 'Patient', body, { authorization: bearer(clinician), 'x-request-id': id });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.json.issue[0].diagnostics, why);
    const events = await eventsOf(id);
    assert.deepEqual(events.map((e) => [e.action, e.subtype, e.outcome]), [['C', 'create', 4]]);
    assert.match(events[0].json.outcomeDesc, /^400/);
    assert.ok(events[0].json.agent.some((a: J) => a.who?.identifier?.value === 'ehr-app'), 'the client is named');
  }
});

test('a batch entry\'s own AuditEvent carries the batch request\'s X-Request-Id (BALP entity[transaction])', async () => {
  const batch = await traced(clinician, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [
    { request: { method: 'GET', url: `Patient/${p1}` } },
    { resource: { resourceType: 'Observation', status: 'final', code: { text: 'b' }, subject: { reference: `Patient/${p1}` } }, request: { method: 'POST', url: 'Observation' } },
  ] });
  assert.equal(batch.reply.status, 200);
  assert.deepEqual([...new Set(batch.events.map((e) => e.subtype))].sort(), ['batch', 'create', 'read']);
});

test('one AuditEvent per patient when an access spans several, stored as one chained row', async () => {
  await call(server, SYSTEM, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'a' }, subject: { reference: `Patient/${p2}` } });
  const h = await traced(SYSTEM, 'GET', 'Observation/_history');
  const patients = h.events.map((e) => e.patient);
  assert.ok(patients.includes(`Patient/${p1}`) && patients.includes(`Patient/${p2}`), JSON.stringify(patients));
  assert.equal(new Set(patients).size, patients.length);
  assert.ok(h.events.every((e) => e.subtype === 'history-type' && e.json.meta.profile[0].endsWith('PatientQuery')));
  for (const e of h.events) assert.deepEqual(e.json.entity.filter((x: J) => x.role?.code === '1').map((x: J) => x.what.reference), [e.patient]);
  const [row] = (await c.query(`select id, patient from audit.event where content like $1`, [`%"value":"${h.requestId}"%`])).rows;
  assert.ok(row, 'one row');
  assert.equal(row.patient.split(' ').length, patients.length);
  const links = await c.query('select patient from audit.patient_link where id = $1 order by patient', [row.id]);
  assert.deepEqual(links.rows.map((l) => l.patient), [...patients].sort());

  // The auditor sees each patient's event: by patient, by id, and page by page one event at a time.
  const auditor = { role: 'auditor' as const, scopes: ['user/*.rs'], userId: 'aud', clientId: 'audit-ui' };
  const idOf = (p: string) => { const i = patients.indexOf(`Patient/${p}`); return i === 0 ? row.id : `${row.id}.${i + 1}`; };
  const id = idOf(p2);
  const found = await call(server, auditor, 'GET', `AuditEvent?patient=${p2}&subtype=history-type`);
  assert.deepEqual(found.json.entry.map((e: J) => e.resource.id), [id]);
  assert.equal(found.json.entry[0].resource.entity[0].what.reference, `Patient/${p2}`);
  const both = await call(server, auditor, 'GET', `AuditEvent?patient=${p1},${p2}&subtype=history-type&_count=1`);
  const firstTwo = [...both.json.entry, ...(await call(server, auditor, 'GET', both.json.link.find((l: J) => l.relation === 'next').url.slice(server.fhirBase.length + 1))).json.entry];
  assert.deepEqual(firstTwo.map((e: J) => e.resource.id).sort(), [idOf(p1), idOf(p2)].sort(), 'a row listing both patients: each event once');
  const read = await call(server, auditor, 'GET', `AuditEvent/${id}`);
  assert.equal(read.status, 200);
  assert.equal(read.text, JSON.stringify(found.json.entry[0].resource));
  assert.equal((await call(server, auditor, 'GET', `AuditEvent/${row.id}.${patients.length + 1}`)).status, 404);
  for (const forged of [{ r: 'yesterday', i: row.id }, { r: '2026-01-01T00:00:00.000000Z', i: "x' or 1=1" }, { r: '2026-01-01T00:00:00Z', i: row.id, k: 'a' }, [1]]) {
    const bad = await call(server, auditor, 'GET', `AuditEvent?patient=${p2}&_cursor=${Buffer.from(JSON.stringify(forged)).toString('base64url')}`);
    assert.equal(bad.status, 400, JSON.stringify(forged));
    assert.equal(bad.json.resourceType, 'OperationOutcome');
  }
  const seen: string[] = [];
  let next: string | undefined = `AuditEvent?subtype=history-type&agent=x-none,${SYSTEM.clientId}&_count=1`;
  for (let i = 0; next && i < 50; i++) {
    const page = await call(server, auditor, 'GET', next);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.json.entry.length <= 1);
    seen.push(...page.json.entry.map((e: J) => e.resource.id));
    const link = page.json.link.find((l: J) => l.relation === 'next')?.url as string | undefined;
    next = link?.slice(server.fhirBase.length + 1);
  }
  assert.deepEqual(seen.filter((x) => x.startsWith(row.id)).sort(), patients.map((_, i) => (i === 0 ? row.id : `${row.id}.${i + 1}`)).sort(), 'every event once');
  assert.equal(new Set(seen).size, seen.length);
});

test('the auditor answers who accessed a patient\'s data, when and what; nobody else reads AuditEvent', async () => {
  const auditor = { role: 'auditor' as const, scopes: ['user/*.rs'], userId: 'aud', clientId: 'audit-ui' };
  const today = new Date().toISOString().slice(0, 10);
  const r = await call(server, auditor, 'GET', `AuditEvent?entity=Patient/${p1}&date=ge${today}&_count=200`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.type, 'searchset');
  const events = r.json.entry.map((e: J) => e.resource);
  assert.ok(events.length >= 8);
  assert.ok(events.every((e: J) => e.entity.some((x: J) => x.what?.reference === `Patient/${p1}`)));
  assert.ok(events.some((e: J) => e.agent.some((a: J) => a.who?.reference === 'Practitioner/dr-who')));
  const byAgent = await call(server, auditor, 'GET', `AuditEvent?agent=Practitioner/dr-who&action=D&outcome=0`);
  assert.equal(byAgent.json.entry.length, 1);
  assert.equal(byAgent.json.entry[0].resource.subtype[0].code, 'delete');
  const refused = await call(server, auditor, 'GET', `AuditEvent?patient=${p1}&outcome=4&subtype=read`);
  assert.ok(refused.json.entry.length >= 1);
  const page = await call(server, auditor, 'GET', `AuditEvent?entity=Patient/${p1}&_count=2`);
  assert.equal(page.json.entry.length, 2);
  const next = page.json.link.find((l: J) => l.relation === 'next').url as string;
  const page2 = await call(server, auditor, 'GET', next.slice(server.fhirBase.length + 1));
  assert.equal(page2.json.entry.length, 2);
  assert.notEqual(page2.json.entry[0].fullUrl, page.json.entry[0].fullUrl);
  assert.equal((await call(server, { ...auditor, tenant: 'elsewhere' }, 'GET', `AuditEvent?entity=Patient/${p1}`)).json.entry.length, 0, 'tenant wall');
  for (const role of ['clinician', 'system', 'admin', 'patient', 'researcher'] as const) {
    const denied = await call(server, { role, scopes: ['user/*.rs', 'system/*.rs', 'patient/*.rs'], patient: p1, clientId: 'x' }, 'GET', `AuditEvent?entity=Patient/${p1}`);
    assert.equal(denied.status, 403, role);
  }
  assert.equal((await call(server, auditor, 'GET', `Patient/${p1}`)).status, 403, 'the auditor sees no clinical data');
});

test('no audit row, no data: when the append fails, the resource is not served', async () => {
  await c.query('revoke execute on function audit.append(jsonb) from fhirgate_clinician');
  await c.query('revoke execute on function audit.append_rows(text[], timestamptz[], text[], text[], text[], smallint[], text[], text[], text[], text[]) from fhirgate_clinician');
  try {
    const r = await call(server, clinician, 'GET', `Patient/${p1}`);
    assert.notEqual(r.status, 200);
    assert.ok(!r.text.includes('Auditee'), 'no PHI in the refusal');
  } finally {
    await c.query('grant execute on function audit.append(jsonb) to fhirgate_clinician');
    await c.query('grant execute on function audit.append_rows(text[], timestamptz[], text[], text[], text[], smallint[], text[], text[], text[], text[]) to fhirgate_clinician');
  }
});

test('the whole trail verifies', async () => {
  const v = await verifyAudit(server.db, 'default', { dataDir: server.dataDir, trusted: loadTrustedKeys(server.dataDir) });
  assert.ok(v.events > 20);
});
