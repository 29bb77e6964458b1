// Refresh (RFC 6749 §6: rotation, never wider, bound to its client), introspection (RFC 7662: the
// exact inactive body, protected endpoint) and revocation (RFC 7009: revoking the refresh token
// ends its access tokens at once), as Inferno's refresh, introspection and revocation groups use them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { PASSWORD, SECRET, fhirGet, seed } from './helpers/fixtures.js';
import { authorizeOverHttp, basic, pkce, postForm } from './helpers/oauth.js';

const REDIRECT = 'https://app.example/callback';
const SCOPE = 'launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs';
let s: SmartServer;

before(async () => {
  s = await startSmartServer();
  await seed(s, REDIRECT);
});
after(async () => s?.stop());

async function launch(clientId = 'conf', scope = SCOPE): Promise<any> {
  const p = pkce();
  const back = await authorizeOverHttp(s.baseUrl, {
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope, state: 's', aud: s.fhirBase, code_challenge: p.challenge, code_challenge_method: 'S256',
  }, { username: 'doc', password: PASSWORD, patient: 'p1' });
  const form: Record<string, string> = { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier };
  const r = clientId === 'public' ? await postForm(s.tokenUrl, { ...form, client_id: 'public' }) : await postForm(s.tokenUrl, form, basic(clientId, SECRET));
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('refresh rotates the refresh token, keeps or narrows scope, and a reused one ends the grant', async () => {
  const t = await launch();
  const r1 = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic('conf', SECRET));
  assert.equal(r1.status, 200, r1.text);
  assert.match(r1.headers.get('cache-control') ?? '', /no-store/);
  assert.notEqual(r1.json.refresh_token, t.refresh_token);
  assert.deepEqual(r1.json.scope.split(' ').sort(), SCOPE.split(' ').sort());
  assert.equal((await fhirGet(s, 'Patient/p1', r1.json.access_token)).status, 200);
  // With the scope parameter: the same scopes are fine, a narrower set narrows, a wider one is invalid_scope.
  const r2 = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: r1.json.refresh_token, scope: 'openid patient/Patient.rs' }, basic('conf', SECRET));
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.json.scope, 'openid patient/Patient.rs');
  assert.equal((await fhirGet(s, 'Observation/o-lab', r2.json.access_token)).status, 403);
  const wider = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: r2.json.refresh_token, scope: 'patient/*.cruds' }, basic('conf', SECRET));
  assert.equal(wider.status, 400);
  assert.equal(wider.json.error, 'invalid_scope');
  // The refresh token keeps the full grant: a later refresh without scope gets everything back, no more.
  const r3 = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: r2.json.refresh_token }, basic('conf', SECRET));
  assert.deepEqual(r3.json.scope.split(' ').sort(), SCOPE.split(' ').sort());
  // Reusing a rotated refresh token revokes the grant: the newest tokens stop working too.
  const reuse = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic('conf', SECRET));
  assert.equal(reuse.status, 400);
  assert.equal(reuse.json.error, 'invalid_grant');
  assert.equal((await fhirGet(s, 'Patient/p1', r3.json.access_token)).status, 401);
  const after = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: r3.json.refresh_token }, basic('conf', SECRET));
  assert.equal(after.status, 400);
});

test('refresh tokens are bound to their client; an unknown refresh token is 400', async () => {
  const t = await launch();
  const other = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic('limited', SECRET));
  assert.equal(other.status, 400);
  assert.equal(other.json.error, 'invalid_grant');
  const random = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: crypto.randomUUID() }, basic('conf', SECRET));
  assert.equal(random.status, 400);
  // The rightful client can still use it (the failed attempt by another client did not consume it).
  const ok = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic('conf', SECRET));
  assert.equal(ok.status, 200);
});

test('introspection: active details match the token response and id_token; anything else is exactly {"active":false}', async () => {
  const t = await launch();
  const idt = decodeJwt(t.id_token);
  // Inferno concatenates the token into the body unencoded: URL-safe tokens survive that.
  const raw = await fetch(`${s.baseUrl}/auth/introspect`, {
    method: 'POST', body: `token=${t.access_token}`, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...basic('conf', SECRET) },
  });
  assert.equal(raw.status, 200);
  const a = await raw.json();
  assert.equal(a.active, true);
  assert.equal(a.client_id, 'conf');
  assert.deepEqual(a.scope.split(' ').sort(), t.scope.split(' ').sort());
  assert.ok(a.exp >= Date.now() / 1000);
  assert.equal(a.patient, 'p1');
  assert.equal(a.iss, idt.iss);
  assert.equal(a.sub, idt.sub);
  const rt = await postForm(`${s.baseUrl}/auth/introspect`, { token: t.refresh_token }, basic('conf', SECRET));
  assert.equal(rt.json.active, true);
  for (const token of ['invalid_token_value', `${t.access_token.slice(0, -4)}AAAA`]) {
    const r = await postForm(`${s.baseUrl}/auth/introspect`, { token }, basic('conf', SECRET));
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"active":false}');
  }
  // The endpoint is protected: no credentials is 401; a bearer token of this server also works.
  assert.equal((await postForm(`${s.baseUrl}/auth/introspect`, { token: t.access_token })).status, 401);
  const viaBearer = await postForm(`${s.baseUrl}/auth/introspect`, { token: t.access_token }, { authorization: `Bearer ${t.access_token}` });
  assert.equal(viaBearer.json.active, true);
});

test('revocation: revoking the refresh token ends its access tokens immediately; unknown tokens are 200', async () => {
  const t = await launch('public');
  assert.equal((await fhirGet(s, 'Patient/p1', t.access_token)).status, 200);
  const r = await postForm(`${s.baseUrl}/auth/revoke`, { token: t.refresh_token, token_type_hint: 'refresh_token', client_id: 'public' });
  assert.equal(r.status, 200);
  assert.equal((await fhirGet(s, 'Patient/p1', t.access_token)).status, 401);
  const refresh = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: 'public' });
  assert.equal(refresh.status, 400);
  const inactive = await postForm(`${s.baseUrl}/auth/introspect`, { token: t.access_token }, basic('conf', SECRET));
  assert.equal(inactive.text, '{"active":false}');
  assert.equal((await postForm(`${s.baseUrl}/auth/revoke`, { token: 'nothing-like-it', client_id: 'public' })).status, 200);
  // Another client cannot revoke someone else's token.
  const t2 = await launch();
  await postForm(`${s.baseUrl}/auth/revoke`, { token: t2.access_token, client_id: 'public' });
  assert.equal((await fhirGet(s, 'Patient/p1', t2.access_token)).status, 200);
  // Revoking an access token also ends its grant (and the refresh token).
  await postForm(`${s.baseUrl}/auth/revoke`, { token: t2.access_token }, basic('conf', SECRET));
  assert.equal((await fhirGet(s, 'Patient/p1', t2.access_token)).status, 401);
  assert.equal((await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t2.refresh_token }, basic('conf', SECRET))).status, 400);
});

test('token errors: unknown grant_type is exactly 400; a JSON body is invalid_request', async () => {
  const r = await postForm(s.tokenUrl, { grant_type: 'not_a_grant_type' }, basic('conf', SECRET));
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'unsupported_grant_type');
  const j = await fetch(s.tokenUrl, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(j.status, 400);
  assert.equal((await j.json()).error, 'invalid_request');
});

test('a control character in a form field is invalid_request, never a server error; an edited cookie is ignored', async () => {
  for (const [url, body] of [
    [s.tokenUrl, 'grant_type=client_credentials&client_id=a%00b&client_secret=x'],
    [s.tokenUrl, 'grant_type=refresh_token&refresh_token=a%01&client_id=conf'],
    [`${s.baseUrl}/auth/introspect`, 'token=a%00'],
  ] as const) {
    const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 400, `${url} ${body}`);
    assert.equal((await r.json()).error, 'invalid_request');
  }
  const flow = await fetch(`${s.baseUrl}/auth/flow?id=x`, { redirect: 'manual', headers: { cookie: 'fg_session=%00; other=%E0%A4%A' } });
  assert.ok(flow.status < 500, String(flow.status));
});

test('a wrong or unknown token_type_hint never hides a token (RFC 7662 §2.1, RFC 7009 §2.1)', async () => {
  const t = await launch();
  const wrong = await postForm(`${s.baseUrl}/auth/introspect`, { token: t.access_token, token_type_hint: 'refresh_token' }, basic('conf', SECRET));
  assert.equal(wrong.status, 200, wrong.text);
  assert.equal(wrong.json.active, true);
  const r = await postForm(`${s.baseUrl}/auth/revoke`, { token: t.refresh_token, token_type_hint: 'foo' }, basic('conf', SECRET));
  assert.equal(r.status, 200, r.text);
  assert.equal((await fhirGet(s, 'Patient/p1', t.access_token)).status, 401, 'revoking the refresh token ended its access token');
});

test('a NUL in client credentials is invalid_client, never a server error', async () => {
  const nulBasic = { authorization: `Basic ${Buffer.from('con\u0000f:x').toString('base64')}` };
  for (const path of ['/auth/token', '/auth/introspect', '/auth/revoke']) {
    const r = await postForm(`${s.baseUrl}${path}`, { grant_type: 'client_credentials', token: 'x' }, nulBasic);
    assert.equal(r.status, 401, `${path}: ${r.text}`);
    assert.equal(r.json.error, 'invalid_client');
  }
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const assertion = `${b64({ alg: 'RS384' })}.${b64({ iss: 'a\u0000', sub: 'a\u0000' })}.x`;
  const r = await postForm(s.tokenUrl, { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error, 'invalid_client');
});

test('an empty scope on refresh is invalid_scope; a body the form parser refuses is OAuth JSON, not an OperationOutcome', async () => {
  const t = await launch();
  const empty = await postForm(s.tokenUrl, { grant_type: 'refresh_token', refresh_token: t.refresh_token, scope: '' }, basic('conf', SECRET));
  assert.equal(empty.status, 400, empty.text);
  assert.equal(empty.json.error, 'invalid_scope');
  const many = new URLSearchParams(Array.from({ length: 150 }, (_, i) => [`p${i}`, 'x'])).toString();
  for (const [body, type] of [[many, 'application/x-www-form-urlencoded'], ['a=b', 'application/x-www-form-urlencoded; charset=koi8-r'], ['x'.repeat(70 * 1024), 'application/x-www-form-urlencoded']]) {
    const r = await fetch(s.tokenUrl, { method: 'POST', headers: { 'content-type': type }, body });
    assert.equal(r.status, 400, type);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
    assert.equal((await r.json()).error, 'invalid_request');
  }
});
