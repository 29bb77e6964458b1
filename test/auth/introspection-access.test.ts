// Who may introspect which token (RFC 7662 §2.1 "the endpoint MUST also require some form of
// authorization", §4 "SHOULD require protected resources to be specifically authorized to call the
// introspection endpoint", §2.2 a token the caller "is not allowed to introspect" is {"active":false};
// SMART token-introspection.html: an appropriately-scoped Backend Service bearer token may introspect
// tokens of any client). An app sees its own tokens only; a backend service sees every token of its tenant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { PASSWORD, SECRET, seed, systemToken, type Fixture } from './helpers/fixtures.js';
import { JWT_BEARER } from '../../src/auth/client-auth.js';
import { assertion, authorizeOverHttp, basic, pkce, postForm } from './helpers/oauth.js';

const REDIRECT = 'https://app.example/callback';
const SCOPE = 'launch/patient openid fhirUser offline_access patient/Patient.rs';
let s: SmartServer;
let fx: Fixture;

before(async () => {
  s = await startSmartServer();
  fx = await seed(s, REDIRECT);
});
after(async () => s?.stop());

async function launch(clientId: string, username = 'doc'): Promise<{ access_token: string; refresh_token: string }> {
  const p = pkce();
  const back = await authorizeOverHttp(s.baseUrl, {
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: SCOPE, state: 's', aud: s.fhirBase, code_challenge: p.challenge, code_challenge_method: 'S256',
  }, { username, password: PASSWORD, patient: 'p1' });
  const form: Record<string, string> = { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier };
  const r = clientId === 'public' ? await postForm(s.tokenUrl, { ...form, client_id: 'public' }) : await postForm(s.tokenUrl, form, basic(clientId, SECRET));
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const introspect = (token: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}) =>
  postForm(`${s.baseUrl}/auth/introspect`, { token, ...extra }, headers);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

test('an app\'s bearer token introspects its own tokens only; any other token is {"active":false}', async () => {
  const mine = await launch('limited');
  const theirs = await launch('conf');
  const patients = await launch('public', 'pat');
  // Its own access token and the refresh token of the same grant.
  assert.equal((await introspect(mine.access_token, bearer(mine.access_token))).json.active, true);
  assert.equal((await introspect(mine.refresh_token, bearer(mine.access_token))).json.active, true);
  // Another client's tokens (and another user's): not its business, answered as inactive.
  for (const [who, b] of [['limited', mine.access_token], ['public', patients.access_token]] as const) {
    for (const t of [theirs.access_token, theirs.refresh_token]) {
      const r = await introspect(t, bearer(b));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, '{"active":false}', `${who} introspecting conf's token`);
    }
  }
  // The same client but another grant (another user of the same public app): inactive too.
  const other = await launch('public', 'pat');
  assert.equal((await introspect(other.access_token, bearer(patients.access_token))).text, '{"active":false}');
});

test('a confidential app authenticating as itself introspects only tokens issued to it', async () => {
  const mine = await launch('limited');
  const theirs = await launch('conf');
  assert.equal((await introspect(mine.access_token, basic('limited', SECRET))).json.active, true);
  assert.equal((await introspect(mine.refresh_token, basic('limited', SECRET))).json.active, true);
  for (const t of [theirs.access_token, theirs.refresh_token]) {
    const r = await introspect(t, basic('limited', SECRET));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '{"active":false}');
  }
  // No credentials at all, or a public client's bare client_id: 401 invalid_client (unchanged).
  assert.equal((await introspect(theirs.access_token)).status, 401);
  assert.equal((await introspect(theirs.access_token, {}, { client_id: 'public' })).status, 401);
});

test('a backend service (its bearer token, or private_key_jwt) introspects any token of its tenant', async () => {
  const t = await launch('conf');
  const sys = await systemToken(s, 'reader', fx.rs384, 'system/Patient.rs');
  for (const token of [t.access_token, t.refresh_token]) {
    const viaBearer = await introspect(token, bearer(sys));
    assert.equal(viaBearer.status, 200, viaBearer.text);
    assert.equal(viaBearer.json.active, true);
    assert.equal(viaBearer.json.client_id, 'conf');
    const viaKey = await introspect(token, {}, { client_assertion_type: JWT_BEARER, client_assertion: await assertion('backend', fx.es384, s.tokenUrl) });
    assert.equal(viaKey.status, 200, viaKey.text);
    assert.equal(viaKey.json.active, true);
    assert.equal(viaKey.json.patient, 'p1');
  }
  // A revoked token is inactive for it as for anyone.
  await postForm(`${s.baseUrl}/auth/revoke`, { token: t.refresh_token }, basic('conf', SECRET));
  assert.equal((await introspect(t.access_token, bearer(sys))).text, '{"active":false}');
});
