// PUT as create must not reveal which ids exist outside the caller's compartment (R4 security.html
// "Access Denied Response Handling": a server allowing PUT to a new location lets clients test for
// content they cannot access). A patient-context token gets one and the same answer, 405 with the same
// OperationOutcome shape and Allow header (http.html#rejecting-updates), for an id in another patient's
// compartment and for a free id, whatever the body, and nothing is written; updates of its own
// resources, POST creates, and update-as-create without patient context work as before.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { call, ownerClient, startRoleServer, SYSTEM, type Reply } from './helpers.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let c: pg.Client;
const PATIENT_A = { role: 'patient' as const, scopes: ['patient/*.cruds'], patient: 'pa', fhirUser: 'Patient/pa', userId: 'pa-user', clientId: 'portal' };
const LAUNCHED = { role: 'clinician' as const, scopes: ['patient/*.cruds'], patient: 'pa', userId: 'dr', clientId: 'ehr-app' };
const obs = (id: string, patient: string, text = 'x') => ({ resourceType: 'Observation', id, status: 'final', code: { text }, subject: { reference: `Patient/${patient}` } });

before(async () => {
  server = await startRoleServer();
  c = await ownerClient(server.adminUrl);
  for (const p of ['pa', 'pb']) assert.equal((await call(server, SYSTEM, 'PUT', `Patient/${p}`, { resourceType: 'Patient', id: p })).status, 201);
  assert.equal((await call(server, SYSTEM, 'PUT', 'Observation/obs-b', obs('obs-b', 'pb', 'MARK-B'))).status, 201);
  assert.equal((await call(server, SYSTEM, 'PUT', 'Observation/obs-a', obs('obs-a', 'pa'))).status, 201);
});
after(async () => {
  await c?.end();
  await server?.stop();
});

/** What a client can compare: status, headers that matter, and the OperationOutcome with the id masked. */
function shape(r: Reply, id: string): unknown {
  return {
    status: r.status, allow: r.headers.get('allow'), location: r.headers.get('location'), etag: r.headers.get('etag'),
    body: JSON.parse(r.text.split(id).join('<id>')),
  };
}

async function stored(type: string, id: string): Promise<{ version: number; content: string } | undefined> {
  const r = await c.query(`select version, content from fhir.resource where tenant = 'default' and type = $1 and id = $2`, [type, id]);
  return r.rows[0];
}

test('an id in another patient\'s compartment and a free id get the same refusal; nothing is written', async () => {
  for (const who of [PATIENT_A, LAUNCHED]) {
    // The same body (in the caller's own compartment) to an existing foreign id and to a free one.
    const foreign = await call(server, who, 'PUT', 'Observation/obs-b', obs('obs-b', 'pa', 'overwritten'));
    const free = await call(server, who, 'PUT', 'Observation/free-1', obs('free-1', 'pa', 'overwritten'));
    assert.equal(foreign.status, 405, foreign.text);
    assert.deepEqual(shape(foreign, 'obs-b'), shape(free, 'free-1'));
    assert.equal(foreign.json.resourceType, 'OperationOutcome');
    assert.equal(foreign.json.issue[0].code, 'not-supported');
    assert.ok(!foreign.text.includes('MARK-B') && !foreign.text.includes('pb'), foreign.text);
    // A body in the other patient's compartment answers the same too (it used to be 403 for a free id).
    const planted = await call(server, who, 'PUT', 'Observation/free-2', obs('free-2', 'pb', 'overwritten'));
    assert.deepEqual(shape(planted, 'free-2'), shape(free, 'free-1'));
    // A conditional update naming an id is update as create (http.html#cond-update): the same answer.
    const cond = await call(server, who, 'PUT', 'Observation?code=nothing-matches', obs('obs-b', 'pa', 'overwritten'));
    assert.deepEqual(shape(cond, 'obs-b'), shape(foreign, 'obs-b'));
  }
  const b = await stored('Observation', 'obs-b');
  assert.equal(b?.version, 1);
  assert.ok(b?.content.includes('MARK-B'));
  for (const id of ['free-1', 'free-2']) assert.equal(await stored('Observation', id), undefined);
});

test('the caller\'s own resources still update; POST creates; without patient context PUT still creates', async () => {
  const own = await call(server, PATIENT_A, 'PUT', 'Observation/obs-a', obs('obs-a', 'pa', 'changed'));
  assert.equal(own.status, 200, own.text);
  assert.equal((await stored('Observation', 'obs-a'))?.version, 2);
  const posted = await call(server, PATIENT_A, 'POST', 'Observation', obs('ignored', 'pa'));
  assert.equal(posted.status, 201, posted.text);
  const clinician = { role: 'clinician' as const, scopes: ['user/*.cruds'], userId: 'dr', clientId: 'ehr-app' };
  const chosen = await call(server, clinician, 'PUT', 'Observation/chosen-1', obs('chosen-1', 'pb'));
  assert.equal(chosen.status, 201, chosen.text);
  // A malformed id is still a 400, as for everyone.
  assert.equal((await call(server, PATIENT_A, 'PUT', 'Observation/bad%20id', obs('bad id', 'pa'))).status, 400);
});

test('a PUT entry of a transaction Bundle gets the same refusal for a foreign id and a free one', async () => {
  const bundle = (id: string) => ({
    resourceType: 'Bundle', type: 'transaction',
    entry: [{ resource: obs(id, 'pa', 'overwritten'), request: { method: 'PUT', url: `Observation/${id}` } }],
  });
  for (const who of [PATIENT_A, LAUNCHED]) {
    const foreign = await call(server, who, 'POST', '', bundle('obs-b'));
    const free = await call(server, who, 'POST', '', bundle('free-3'));
    assert.equal(foreign.status, 405, foreign.text);
    assert.deepEqual(shape(foreign, 'obs-b'), shape(free, 'free-3'));
    assert.ok(!foreign.text.includes('MARK-B'), foreign.text);
  }
  assert.equal((await stored('Observation', 'obs-b'))?.version, 1);
  assert.equal(await stored('Observation', 'free-3'), undefined);
});
