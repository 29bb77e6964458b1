// Authorization code exchange over plain HTTP (RFC 6749 §4.1.3, RFC 7636 §4.6, SMART 2.2): the
// token response and its headers, then every refusal Inferno and the RFCs name — bad code, code
// replay, wrong client, wrong redirect_uri, and the four PKCE failures — each without a token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { PASSWORD, SECRET, fhirGet, seed, type Fixture } from './helpers/fixtures.js';
import { assertion, authorizeOverHttp, basic, pkce, postForm } from './helpers/oauth.js';

const REDIRECT = 'https://app.example/callback';
const STANDALONE = 'launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs patient/Encounter.rs user/Practitioner.rs';
let s: SmartServer;
let fx: Fixture;

before(async () => {
  s = await startSmartServer();
  fx = await seed(s, REDIRECT);
});
after(async () => s?.stop());

async function code(clientId: string, o: { challenge?: string; method?: string; username?: string; scope?: string; patient?: string } = {}): Promise<string> {
  const q: Record<string, string> = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: o.scope ?? STANDALONE, state: 'st-1', aud: s.fhirBase };
  if (o.challenge) Object.assign(q, { code_challenge: o.challenge, code_challenge_method: o.method ?? 'S256' });
  const back = await authorizeOverHttp(s.baseUrl, q, { username: o.username ?? 'doc', password: PASSWORD, patient: o.patient ?? 'p1' });
  assert.equal(back.searchParams.get('state'), 'st-1');
  const c = back.searchParams.get('code');
  assert.ok(c, `no code: ${back}`);
  return c;
}

test('confidential symmetric standalone launch: token response, headers, id_token and FHIR access', async () => {
  const p = pkce();
  const c = await code('conf', { challenge: p.challenge });
  assert.match(c, /^[A-Za-z0-9_-]+$/, 'codes are URL-safe');
  const r = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic('conf', SECRET));
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  assert.match(r.headers.get('pragma') ?? '', /no-cache/);
  const t = r.json;
  assert.equal(t.token_type, 'Bearer');
  assert.equal(typeof t.expires_in, 'number');
  assert.deepEqual(t.scope.split(' ').sort(), STANDALONE.split(' ').sort());
  assert.equal(t.patient, 'p1');
  assert.equal(t.need_patient_banner, true);
  assert.ok(Array.isArray(t.fhirContext));
  assert.match(t.access_token, /^[A-Za-z0-9_.-]+$/);
  assert.match(t.refresh_token, /^[A-Za-z0-9_-]+$/);
  // id_token: RS256, kid in the JWKS, issuer discovery at <iss>/.well-known/openid-configuration.
  assert.equal(decodeProtectedHeader(t.id_token).alg, 'RS256');
  const oidc = await fetch(`${s.fhirBase}/.well-known/openid-configuration`);
  assert.match(oidc.headers.get('content-type') ?? '', /^application\/json/);
  const conf = await oidc.json();
  assert.ok(conf.id_token_signing_alg_values_supported.includes('RS256'));
  const { payload } = await jwtVerify(t.id_token, createRemoteJWKSet(new URL(conf.jwks_uri)), { issuer: conf.issuer, audience: 'conf' });
  assert.equal(payload.fhirUser, `${s.fhirBase}/Practitioner/dr1`);
  // fhirUser resolves with the access token; the launch patient reads; no token is 401, not 403.
  assert.equal((await fhirGet(s, 'Practitioner/dr1', t.access_token)).status, 200);
  const pt = await fhirGet(s, 'Patient/p1', t.access_token);
  assert.equal(pt.status, 200);
  assert.equal(pt.json.resourceType, 'Patient');
  assert.equal((await fhirGet(s, 'Patient/p1', t.id_token)).status, 401, 'an id_token is no access token');
  // One signature character changed well inside the signature: the last base64url characters carry
  // unused bits, so replacing them could leave the decoded signature (and the token) valid.
  const at = t.access_token.length - 10;
  const tampered = `${t.access_token.slice(0, at)}${t.access_token[at] === 'A' ? 'B' : 'A'}${t.access_token.slice(at + 1)}`;
  assert.equal((await fhirGet(s, 'Patient/p1', tampered)).status, 401, 'a tampered token');
  const anon = await fhirGet(s, 'Patient/p1');
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer/);
  // A type the scopes do not cover is 403 with an OperationOutcome.
  // patient/ scopes confine a clinician's token to the launch patient's compartment.
  assert.notEqual((await fhirGet(s, 'Observation/o-p2', t.access_token)).status, 200);
  assert.equal((await fhirGet(s, 'Observation/o-lab', t.access_token)).status, 200);
  const cond = await fhirGet(s, 'Condition/c1', t.access_token);
  assert.equal(cond.status, 403);
  assert.equal(cond.json.resourceType, 'OperationOutcome');
});

test('a patient signs in to a public client: own patient context, client_id in the body, id_token', async () => {
  const p = pkce();
  const c = await code('public', { challenge: p.challenge, username: 'pat' });
  const r = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: p.verifier, client_id: 'public' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.patient, 'p1');
  assert.ok(r.json.id_token);
  assert.equal((await fhirGet(s, 'Patient/p1', r.json.access_token)).status, 200);
  // Confined to its own compartment: another patient's records are not there for it.
  for (const path of ['Patient/p2', 'Observation/o-p2']) assert.notEqual((await fhirGet(s, path, r.json.access_token)).status, 200, path);
});

test('confidential asymmetric client: private_key_jwt (ES384) at the token endpoint', async () => {
  const p = pkce();
  const c = await code('asym', { challenge: p.challenge });
  const r = await postForm(s.tokenUrl, {
    grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: p.verifier,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion('asym', fx.es384, s.tokenUrl),
  });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.id_token);
});

test('bad code is 400 invalid_grant; a replayed code is refused and revokes what it produced', async () => {
  const bad = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code: 'BAD_CODE', redirect_uri: REDIRECT }, basic('conf', SECRET));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_grant');
  const p = pkce();
  const c = await code('conf', { challenge: p.challenge });
  const form = { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: p.verifier };
  const first = await postForm(s.tokenUrl, form, basic('conf', SECRET));
  assert.equal(first.status, 200);
  const again = await postForm(s.tokenUrl, form, basic('conf', SECRET));
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'invalid_grant');
  assert.equal((await fhirGet(s, 'Patient/p1', first.json.access_token)).status, 401);
  // Replays racing the first use: whichever request won, nothing it issued stays usable.
  for (let round = 0; round < 3; round++) {
    const q = pkce();
    const cc = await code('conf', { challenge: q.challenge });
    const f = { grant_type: 'authorization_code', code: cc, redirect_uri: REDIRECT, code_verifier: q.verifier };
    const answers = await Promise.all([0, 1, 2].map(() => postForm(s.tokenUrl, f, basic('conf', SECRET))));
    assert.ok(answers.filter((a) => a.status === 200).length <= 1);
    assert.ok(answers.every((a) => a.status === 200 || a.json.error === 'invalid_grant'));
    for (const a of answers.filter((x) => x.status === 200)) {
      assert.equal((await fhirGet(s, 'Patient/p1', a.json.access_token)).status, 401, `round ${round}: the winner's access token`);
      const r = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: a.json.refresh_token }, basic('conf', SECRET));
      assert.equal(r.status, 400, `round ${round}: the winner's refresh token`);
    }
  }
});

test('wrong client id is 401 invalid_client; another client\'s code and a different redirect_uri are invalid_grant', async () => {
  const p = pkce();
  const c = await code('conf', { challenge: p.challenge });
  const form = { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: p.verifier };
  const badClient = await postForm(s.tokenUrl, form, basic('BAD_CLIENT_ID', SECRET));
  assert.equal(badClient.status, 401);
  assert.equal(badClient.json.error, 'invalid_client');
  const wrongSecret = await postForm(s.tokenUrl, form, basic('conf', 'nope'));
  assert.equal(wrongSecret.status, 401);
  const p2 = pkce();
  const c2 = await code('conf', { challenge: p2.challenge });
  const otherRedirect = await postForm(s.tokenUrl, { ...form, code: c2, code_verifier: p2.verifier, redirect_uri: 'https://app.example/other' }, basic('conf', SECRET));
  assert.equal(otherRedirect.json.error, 'invalid_grant');
  const p3 = pkce();
  const c3 = await code('conf', { challenge: p3.challenge });
  const otherClient = await postForm(s.tokenUrl, { ...form, code: c3, code_verifier: p3.verifier, client_id: 'public' });
  assert.equal(otherClient.status, 400);
  assert.equal(otherClient.json.error, 'invalid_grant');
});

test('PKCE: missing, empty, wrong and "plain" verifiers are all refused', async () => {
  for (const verifier of [undefined, '', `${crypto.randomUUID()}-${crypto.randomUUID()}`, 'CHALLENGE']) {
    const p = pkce();
    const c = await code('conf', { challenge: p.challenge });
    const form: Record<string, string> = { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT };
    if (verifier !== undefined) form.code_verifier = verifier === 'CHALLENGE' ? p.challenge : verifier;
    const r = await postForm(s.tokenUrl, form, basic('conf', SECRET));
    assert.equal(r.status, 400, `verifier ${verifier}`);
    assert.equal(r.json.error, 'invalid_grant');
  }
  // A downgrade (RFC 9700 §4.8.2) cannot start: every client, confidential ones too, must send a challenge
  // (pkce-required.test.ts), and a code recorded without one is never exchanged.
});

test('authorize refuses plain PKCE, public clients without PKCE, a foreign aud, and unknown redirect_uri (page, no redirect)', async () => {
  const base = { response_type: 'code', client_id: 'public', redirect_uri: REDIRECT, scope: STANDALONE, state: 'xyz', aud: s.fhirBase };
  const go = (q: Record<string, string>) => fetch(`${s.baseUrl}/auth/authorize?${new URLSearchParams(q)}`, { redirect: 'manual' });
  const plain = await go({ ...base, code_challenge: pkce().verifier.slice(0, 43), code_challenge_method: 'plain' });
  const loc = new URL(plain.headers.get('location')!);
  assert.equal(loc.searchParams.get('error'), 'invalid_request');
  assert.equal(loc.searchParams.get('state'), 'xyz');
  assert.equal(loc.searchParams.get('code'), null);
  const none = new URL((await go(base)).headers.get('location')!);
  assert.equal(none.searchParams.get('error'), 'invalid_request');
  const aud = new URL((await go({ ...base, client_id: 'conf', aud: 'https://inferno.healthit.gov/invalid_aud' })).headers.get('location')!);
  assert.equal(aud.searchParams.get('error'), 'invalid_request');
  assert.equal(aud.searchParams.get('code'), null);
  const badRedirect = await go({ ...base, client_id: 'conf', redirect_uri: 'https://evil.example/cb' });
  assert.equal(badRedirect.status, 400);
  assert.equal(badRedirect.headers.get('location'), null);
  assert.match(await badRedirect.text(), /not registered/);
  const unknownClient = await go({ ...base, client_id: 'nobody' });
  assert.equal(unknownClient.status, 400);
  assert.equal(unknownClient.headers.get('location'), null);
});

test('system/ scopes are never granted through a user\'s authorization, even to a client registered without scope limits', async () => {
  const p = pkce();
  const c = await code('public', { challenge: p.challenge, scope: 'openid fhirUser system/Patient.rs system/*.cruds user/Patient.rs' });
  const r = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, code_verifier: p.verifier, client_id: 'public' });
  assert.equal(r.status, 200, r.text);
  const granted: string[] = r.json.scope.split(' ');
  assert.ok(granted.includes('user/Patient.rs'), r.json.scope);
  assert.deepEqual(granted.filter((x) => x.startsWith('system/')), [], 'client credentials (Backend Services) is the only way to system/ scopes');
});
