// The authorization server leaves evidence too (issue "Audit": "sign-in, token grant and refusal"
// each write one AuditEvent): token grants and refusals (IHE ITI-71), sign-ins (DCM 110122), and FHIR
// requests refused for their bearer token (ITI-72), all DCM 110114 User Authentication, each naming
// client, user and address, and none holding a password, token, code or assertion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { startSmartServer, type SmartServer } from '../auth/helpers/smart-server.js';
import { PASSWORD, SECRET, fhirGet, seed, systemToken, type Fixture } from '../auth/helpers/fixtures.js';
import { HttpBrowser, assertion, authorizeOverHttp, basic, clientKey, field, pkce, postForm } from '../auth/helpers/oauth.js';
import { ownerClient } from './helpers.js';

type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const REDIRECT = 'https://app.example/callback';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
let s: SmartServer;
let fx: Fixture;
let c: pg.Client;

before(async () => {
  s = await startSmartServer();
  fx = await seed(s, REDIRECT);
  c = await ownerClient(s.adminUrl);
});
after(async () => {
  await c?.end();
  await s?.stop();
});

interface Ev { subtype: string; outcome: number; agent: string; action: string; patient: string; content: string; json: J }

/** The authentication events recorded since `t0` (this file's requests run one at a time). */
async function authEvents(t0: Date): Promise<Ev[]> {
  const r = await c.query(`select subtype, outcome, agent, action, patient, content from audit.event
    where tenant = 'default' and type = '110114' and recorded >= $1 order by recorded`, [t0]);
  return r.rows.map((x) => ({ ...x, json: JSON.parse(x.content) }));
}

function agentOf(ev: J, system: string): J {
  return ev.agent.find((a: J) => a.who?.identifier?.system === system);
}

function assertShape(e: Ev, subtype: { system: string; code: string }, outcome: number): void {
  assert.equal(e.json.resourceType, 'AuditEvent');
  assert.deepEqual(e.json.type, { system: DCM, code: '110114', display: 'User Authentication' });
  assert.deepEqual(e.json.subtype, [subtype]);
  assert.equal(e.subtype, subtype.code);
  assert.equal(e.outcome, outcome);
  assert.equal(e.json.outcome, String(outcome));
  assert.equal(e.action, 'E');
}

function assertNoSecret(e: Ev, ...secrets: string[]): void {
  for (const x of [...secrets, PASSWORD, SECRET]) assert.ok(!e.content.includes(x), `the event holds a secret: ${x.slice(0, 12)}…`);
}

const ITI71 = { system: 'urn:ihe:event-type-code', code: 'ITI-71' };

test('client_credentials grant: one ITI-71 success naming the client and its address, no token', async () => {
  const t0 = new Date();
  const a = await assertion('reader', fx.rs384, s.tokenUrl);
  const r = await postForm(s.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });
  assert.equal(r.status, 200, r.text);
  const evs = await authEvents(t0);
  assert.equal(evs.length, 1, JSON.stringify(evs.map((e) => e.subtype)));
  const [e] = evs;
  assertShape(e, ITI71, 0);
  assert.equal(e.agent, 'reader');
  const client = agentOf(e.json, 'urn:fhirgate:client');
  assert.equal(client.who.identifier.value, 'reader');
  assert.equal(client.requestor, true);
  assert.ok(client.network?.address, 'the network address is recorded');
  assert.match(e.json.outcomeDesc, /grant_type=client_credentials/);
  assert.match(e.json.outcomeDesc, /system\/Patient\.rs/);
  assertNoSecret(e, r.json.access_token, a);
});

test('a grant refused for a bad client assertion: one ITI-71 minor failure naming the claimed client', async () => {
  const stranger = await clientKey('RS384');
  const a = await assertion('reader', stranger, s.tokenUrl);
  const t0 = new Date();
  const r = await postForm(s.tokenUrl, { grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error, 'invalid_client');
  const evs = await authEvents(t0);
  assert.equal(evs.length, 1);
  const [e] = evs;
  assertShape(e, ITI71, 4);
  assert.equal(e.agent, 'reader');
  assert.match(e.json.outcomeDesc, /invalid_client/);
  assertNoSecret(e, a, a.split('.')[2]);
});

test('FHIR requests without a valid bearer token: one ITI-72 refusal each, the token never stored', async () => {
  const ITI72 = { system: 'urn:ihe:event-type-code', code: 'ITI-72' };
  const id = randomUUID();
  const t0 = new Date();
  const none = await fhirGet(s, 'Patient/p1', undefined, { 'x-request-id': id });
  assert.equal(none.status, 401);
  const bogus = `bogus-${randomUUID()}`;
  const bad = await fhirGet(s, 'Patient/p1', bogus);
  assert.equal(bad.status, 401);
  const evs = await authEvents(t0);
  assert.equal(evs.length, 2, JSON.stringify(evs.map((e) => e.json.outcomeDesc)));
  for (const e of evs) {
    assertShape(e, ITI72, 4);
    assert.equal(e.agent, '');
    assert.ok(e.json.agent[0].network?.address);
    assert.match(e.json.outcomeDesc, /^401 .*GET \/fhir\/Patient\/p1$/);
    assertNoSecret(e, bogus);
  }
  assert.ok(evs[0].json.entity.some((x: J) => x.what?.identifier?.value === id), 'X-Request-Id recorded');
  assert.match(evs[1].json.outcomeDesc, /invalid, expired or revoked/);
  // A valid token is served without such an event (the success path is audited as REST only).
  const t1 = new Date();
  assert.equal((await fhirGet(s, 'Patient/p1', fx.systemToken)).status, 200);
  assert.equal((await authEvents(t1)).length, 0);
});

test('password sign-in: a failure and a success each leave one Login event; the code grant names the user', async () => {
  const b = new HttpBrowser(s.baseUrl);
  const p = pkce();
  const q = { response_type: 'code', client_id: 'conf', redirect_uri: REDIRECT, scope: 'launch/patient openid fhirUser patient/Patient.rs', state: 'st', aud: s.fhirBase, code_challenge: p.challenge, code_challenge_method: 'S256' };
  const page = await b.go(`/auth/authorize?${new URLSearchParams(q)}`);
  const req = field(page.html, 'req');
  assert.ok(req, page.html.slice(0, 300));
  const wrong = `wrong-${randomUUID()}`;
  const t0 = new Date();
  const failed = await b.go('/auth/login', 'POST', { req, username: 'doc', password: wrong });
  assert.equal(failed.status, 401);
  const LOGIN = { system: DCM, code: '110122' };
  let evs = await authEvents(t0);
  assert.equal(evs.length, 1);
  assertShape(evs[0], LOGIN, 4);
  assert.equal(evs[0].agent, 'doc');
  assert.equal(agentOf(evs[0].json, 'urn:fhirgate:username').altId, 'doc');
  assert.equal(agentOf(evs[0].json, 'urn:fhirgate:client').who.identifier.value, 'conf');
  assert.match(evs[0].json.outcomeDesc, /sign-in failed: password/);
  assertNoSecret(evs[0], wrong);

  // Then the right password (same browser), patient, consent: Login success, then the code grant.
  const t1 = new Date();
  const back = await authorizeOverHttp(s.baseUrl, q, { username: 'doc', password: PASSWORD, patient: 'p1' }, b);
  const code = back.searchParams.get('code');
  assert.ok(code);
  const r = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic('conf', SECRET));
  assert.equal(r.status, 200, r.text);
  evs = await authEvents(t1);
  assert.deepEqual(evs.map((e) => [e.subtype, e.outcome, e.agent]), [['110122', 0, 'Practitioner/dr1'], ['ITI-71', 0, 'Practitioner/dr1']]);
  const grant = evs[1];
  assert.equal(grant.patient, 'Patient/p1');
  assert.ok(grant.json.agent.some((a: J) => a.who?.reference === 'Practitioner/dr1' && a.requestor === true));
  assert.equal(agentOf(grant.json, 'urn:fhirgate:client').who.identifier.value, 'conf');
  for (const e of evs) assertNoSecret(e, code, p.verifier, r.json.access_token, r.json.id_token);

  // Replaying the code is refused and audited (invalid_grant), with the authenticated client named.
  const t2 = new Date();
  const replay = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic('conf', SECRET));
  assert.equal(replay.status, 400);
  evs = await authEvents(t2);
  assert.deepEqual(evs.map((e) => [e.subtype, e.outcome, e.agent]), [['ITI-71', 4, 'conf']]);
  assert.match(evs[0].json.outcomeDesc, /invalid_grant/);
  assertNoSecret(evs[0], code, p.verifier);
});

test('each client_credentials grant leaves its own event (an ES384 client key here)', async () => {
  const t0 = new Date();
  const token = await systemToken(s, 'backend', fx.es384, 'system/Patient.rs');
  const evs = await authEvents(t0);
  assert.equal(evs.length, 1);
  assertNoSecret(evs[0], token);
});
