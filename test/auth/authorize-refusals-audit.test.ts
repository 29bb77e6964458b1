// Every refusal on the SMART authorize pages leaves exactly one AuditEvent (issue "Compliance"), shaped
// like the token endpoint's (DCM 110114 User Authentication, action E): an error page (unknown client,
// unregistered redirect_uri) or an error sent back to the app (unsupported response_type, PKCE missing
// or plain, aud of another server, no grantable scope, the user pressing deny) is subtype
// authorize-refusal, outcome 4, with the OAuth error code; a failed or locked sign-in is a Login
// (110122) with outcome 4. None holds the password, state, code_challenge or client secret.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { PASSWORD, SECRET, seed } from './helpers/fixtures.js';
import { HttpBrowser, field, pkce } from './helpers/oauth.js';
import { run as userAdd } from '../../src/cli/user-add.js';
import { ownerClient } from '../compliance/helpers.js';

type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const REDIRECT = 'https://app.example/callback';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const REFUSAL = { system: 'https://fhirgate.dev/fhir/CodeSystem/audit-subtype', code: 'authorize-refusal' };
const LOGIN = { system: DCM, code: '110122' };
let s: SmartServer;
let c: pg.Client;

before(async () => {
  s = await startSmartServer({ lockAfter: 3 });
  await seed(s, REDIRECT);
  c = await ownerClient(s.adminUrl);
});
after(async () => {
  await c?.end();
  await s?.stop();
});

interface Ev { subtype: string; outcome: number; agent: string; patient: string; content: string; json: J }

/** The authentication events recorded since `t0` (this file's requests run one at a time). */
async function events(t0: Date): Promise<Ev[]> {
  const r = await c.query(`select subtype, outcome, agent, patient, content from audit.event
    where tenant = 'default' and type = '110114' and recorded >= $1 order by recorded`, [t0]);
  return r.rows.map((x) => ({ ...x, json: JSON.parse(x.content) }));
}

/** Exactly one event since t0, of this subtype, outcome 4 (minor failure), holding none of `secrets`. */
async function theOne(t0: Date, subtype: { system: string; code: string }, desc: RegExp, secrets: string[]): Promise<Ev> {
  const evs = await events(t0);
  assert.equal(evs.length, 1, JSON.stringify(evs.map((e) => [e.subtype, e.json.outcomeDesc])));
  const [e] = evs;
  assert.equal(e.json.resourceType, 'AuditEvent');
  assert.deepEqual(e.json.type, { system: DCM, code: '110114', display: 'User Authentication' });
  assert.deepEqual(e.json.subtype, [subtype]);
  assert.equal(e.json.action, 'E');
  assert.equal(e.outcome, 4);
  assert.equal(e.json.outcome, '4');
  assert.match(e.json.outcomeDesc, desc);
  assert.ok(e.json.agent.some((a: J) => a.network?.address), 'the network address is recorded');
  for (const x of [...secrets, PASSWORD, SECRET]) assert.ok(!e.content.includes(x), `the event holds a secret: ${x.slice(0, 12)}…`);
  return e;
}

function clientAgent(e: Ev): J {
  return e.json.agent.find((a: J) => a.who?.identifier?.system === 'urn:fhirgate:client');
}

function query(o: Record<string, string | undefined> = {}): { q: Record<string, string>; secrets: string[] } {
  const state = `state-${randomUUID()}`;
  const { challenge } = pkce();
  const all: Record<string, string | undefined> = {
    response_type: 'code', client_id: 'public', redirect_uri: REDIRECT, scope: 'launch/patient patient/Patient.rs', state, aud: s.fhirBase,
    code_challenge: challenge, code_challenge_method: 'S256', ...o,
  };
  const q = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return { q, secrets: [state, challenge] };
}

async function authorize(o: Record<string, string | undefined>): Promise<{ status: number; outside?: URL; html: string; secrets: string[] }> {
  const { q, secrets } = query(o);
  const r = await new HttpBrowser(s.baseUrl).go(`/auth/authorize?${new URLSearchParams(q)}`);
  return { ...r, secrets };
}

test('error pages (unknown client, unregistered redirect_uri): one refusal each, never redirected', async () => {
  let t0 = new Date();
  let r = await authorize({ client_id: 'no-such-app' });
  assert.equal(r.status, 400);
  assert.equal(r.outside, undefined);
  let e = await theOne(t0, REFUSAL, /^invalid_client: /, r.secrets);
  assert.equal(clientAgent(e).who.identifier.value, 'no-such-app');
  assert.equal(e.agent, 'no-such-app');

  t0 = new Date();
  const evil = `https://evil.example/${randomUUID()}`;
  r = await authorize({ redirect_uri: evil });
  assert.equal(r.status, 400);
  assert.equal(r.outside, undefined);
  e = await theOne(t0, REFUSAL, /^invalid_request: redirect_uri/, [...r.secrets, evil]);
  assert.equal(clientAgent(e).who.identifier.value, 'public');
});

test('errors sent back to the app: response_type, PKCE missing or plain, aud, scope: one refusal each', async () => {
  const cases: Array<{ o: Record<string, string | undefined>; error: string; desc: RegExp }> = [
    { o: { response_type: 'token' }, error: 'unsupported_response_type', desc: /^unsupported_response_type: / },
    { o: { response_type: undefined }, error: 'invalid_request', desc: /^invalid_request: response_type is required/ },
    { o: { code_challenge: undefined, code_challenge_method: undefined }, error: 'invalid_request', desc: /^invalid_request: code_challenge is required/ },
    { o: { code_challenge_method: 'plain' }, error: 'invalid_request', desc: /^invalid_request: code_challenge_method must be S256/ },
    { o: { aud: 'https://other.example/fhir' }, error: 'invalid_request', desc: /^invalid_request: aud must be/ },
    { o: { client_id: 'limited', scope: 'patient/Condition.rs user/Encounter.rs' }, error: 'invalid_scope', desc: /^invalid_scope: / },
  ];
  for (const k of cases) {
    const t0 = new Date();
    const r = await authorize(k.o);
    assert.equal(r.outside?.origin, 'https://app.example', `${k.error}: redirected back to the app`);
    assert.equal(r.outside?.searchParams.get('error'), k.error);
    const e = await theOne(t0, REFUSAL, k.desc, r.secrets);
    assert.equal(clientAgent(e).who.identifier.value, k.o.client_id ?? 'public');
    assert.equal(e.json.agent.filter((a: J) => a.requestor === true).length, 1);
  }
});

test('the user pressing deny: one refusal naming the user, the client and the patient', async () => {
  const b = new HttpBrowser(s.baseUrl);
  const { q, secrets } = query({ scope: 'patient/Patient.rs' });
  let page = await b.go(`/auth/authorize?${new URLSearchParams(q)}`);
  page = await b.go('/auth/login', 'POST', { req: field(page.html, 'req') ?? '', username: 'pat', password: PASSWORD });
  assert.match(page.html, /action="\/auth\/consent"/);
  const t0 = new Date();
  const back = await b.go('/auth/consent', 'POST', { req: field(page.html, 'req') ?? '', scope: 'patient/Patient.rs', deny: 'deny' });
  assert.equal(back.outside?.searchParams.get('error'), 'access_denied');
  assert.equal(back.outside?.searchParams.get('code'), null);
  const e = await theOne(t0, REFUSAL, /^access_denied: the user denied access/, secrets);
  assert.equal(e.agent, 'Patient/p1');
  assert.equal(e.patient, 'Patient/p1');
  assert.equal(clientAgent(e).who.identifier.value, 'public');
  assert.ok(e.json.agent.some((a: J) => a.who?.reference === 'Patient/p1' && a.requestor === true));
});

test('a failed sign-in and a locked account: one Login failure each; a lock answers without checking the password', async () => {
  await userAdd(['--username', 'lockme', '--password', PASSWORD, '--role', 'clinician', '--fhir-user', 'Practitioner/dr1'], { db: s.db, config: s.config });
  const b = new HttpBrowser(s.baseUrl);
  const { q, secrets } = query();
  const page = await b.go(`/auth/authorize?${new URLSearchParams(q)}`);
  const req = field(page.html, 'req') ?? '';
  for (let i = 1; i <= 3; i++) {
    const wrong = `wrong-${randomUUID()}`;
    const t0 = new Date();
    const r = await b.go('/auth/login', 'POST', { req, username: 'lockme', password: wrong });
    assert.equal(r.status, 401);
    // The third failure reaches lockAfter (3): it is reported as the lock.
    const e = await theOne(t0, LOGIN, i < 3 ? /sign-in failed: password/ : /sign-in failed: locked/, [...secrets, wrong]);
    assert.equal(e.agent, 'lockme');
  }
  // Locked: even the right password is refused, and leaves one event.
  const t0 = new Date();
  const r = await b.go('/auth/login', 'POST', { req, username: 'lockme', password: PASSWORD });
  assert.equal(r.status, 401);
  assert.match(r.html, /locked/);
  const e = await theOne(t0, LOGIN, /sign-in failed: locked/, secrets);
  assert.equal(e.json.agent.find((a: J) => a.who?.identifier?.system === 'urn:fhirgate:username').altId, 'lockme');
});
