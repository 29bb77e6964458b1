// SMART Backend Services (client_credentials + private_key_jwt, RFC 7523 §3): RS384 and ES384
// assertions, system/ scopes never beyond the registration, and every assertion refusal — wrong
// assertion type, replayed jti, exp too far ahead, wrong aud, unknown kid, bad signature — plus
// keys fetched from a registered JWKS URL (cached, honouring Cache-Control).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { fhirGet, seed, type Fixture } from './helpers/fixtures.js';
import { assertion, clientKey, postForm, type ClientKey } from './helpers/oauth.js';
import { run as clientAdd } from '../../src/cli/client-add.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let s: SmartServer;
let fx: Fixture;
let jwksServer: Server;
let jwksHits = 0;
let jwksKey: ClientKey;

before(async () => {
  s = await startSmartServer();
  fx = await seed(s, 'https://app.example/callback');
  jwksKey = await clientKey('ES384');
  jwksServer = createServer((_req, res) => {
    jwksHits++;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=120' }).end(JSON.stringify({ keys: [jwksKey.publicJwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const port = (jwksServer.address() as { port: number }).port;
  await clientAdd(['--id', 'bulk', '--jwks-url', `http://127.0.0.1:${port}/jwks.json`, '--scope', 'system/*.rs'], { db: s.db, config: s.config });
});
after(async () => {
  jwksServer?.close();
  await s?.stop();
});

const cc = async (clientId: string, key: ClientKey, scope: string, o: Parameters<typeof assertion>[3] & { aud?: string; type?: string } = {}) =>
  postForm(s.tokenUrl, { grant_type: 'client_credentials', scope, client_assertion_type: o.type ?? JWT_BEARER, client_assertion: await assertion(clientId, key, o.aud ?? s.tokenUrl, o) });

test('RS384 and ES384 assertions get system tokens within the registration', async () => {
  for (const key of [fx.rs384, fx.es384]) {
    const r = await cc('reader', key, 'system/Patient.rs');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(typeof r.json.expires_in, 'number');
    assert.ok(r.json.expires_in <= 300);
    assert.equal(r.json.scope, 'system/Patient.rs');
    assert.equal(r.json.refresh_token, undefined);
    assert.equal((await fhirGet(s, 'Patient/p2', r.json.access_token)).status, 200);
    assert.equal((await fhirGet(s, 'Condition/c1', r.json.access_token)).status, 403);
  }
  // v1 syntax within a v2 registration is fine; more than registered, or a user/ scope, is invalid_scope.
  assert.equal((await cc('reader', fx.rs384, 'system/Patient.read')).status, 200);
  for (const scope of ['system/Condition.rs', 'system/*.rs', 'system/Patient.cruds', 'user/Patient.rs']) {
    const r = await cc('reader', fx.rs384, scope);
    assert.equal(r.status, 400, scope);
    assert.equal(r.json.error, 'invalid_scope');
  }
});

test('assertion refusals: type, replay, exp, aud, iss/sub, kid, signature, unknown client', async () => {
  const bad = async (r: Promise<{ status: number; json: any }>, why: string) => {
    const x = await r;
    assert.ok(x.status === 400 || x.status === 401, `${why}: ${x.status}`);
    assert.equal(x.json.error, 'invalid_client', why);
  };
  await bad(cc('reader', fx.es384, 'system/Patient.rs', { type: 'not_an_assertion_type' }), 'assertion type');
  const jti = 'a'.repeat(64);
  assert.equal((await cc('reader', fx.es384, 'system/Patient.rs', { jti })).status, 200);
  await bad(cc('reader', fx.es384, 'system/Patient.rs', { jti }), 'jti replay');
  await bad(cc('reader', fx.es384, 'system/Patient.rs', { exp: Math.floor(Date.now() / 1000) + 600 }), 'exp too far');
  await bad(cc('reader', fx.es384, 'system/Patient.rs', { exp: Math.floor(Date.now() / 1000) - 120 }), 'expired');
  await bad(cc('reader', fx.es384, 'system/Patient.rs', { aud: `${s.fhirBase}` }), 'wrong aud');
  await bad(cc('reader', fx.es384, 'system/Patient.rs', { iss: 'backend' }), 'iss != sub');
  await bad(cc('reader', await clientKey('ES384'), 'system/Patient.rs'), 'unknown kid');
  const impostor = await clientKey('RS384');
  await bad(cc('reader', { ...impostor, kid: fx.rs384.kid }, 'system/Patient.rs'), 'bad signature');
  await bad(cc('nobody', fx.rs384, 'system/Patient.rs'), 'unknown client');
  const badGrant = await postForm(s.tokenUrl, { grant_type: 'not_a_grant_type', client_assertion_type: JWT_BEARER, client_assertion: await assertion('reader', fx.rs384, s.tokenUrl) });
  assert.equal(badGrant.status, 400);
});

test('keys from a registered JWKS URL are fetched once and cached; a jku header must name that URL', async () => {
  const before = jwksHits;
  for (let i = 0; i < 3; i++) assert.equal((await cc('bulk', jwksKey, 'system/Patient.rs')).status, 200);
  assert.equal(jwksHits - before, 1);
  const port = (jwksServer.address() as { port: number }).port;
  assert.equal((await cc('bulk', jwksKey, 'system/Patient.rs', { jku: `http://127.0.0.1:${port}/jwks.json` })).status, 200);
  const foreign = await cc('bulk', jwksKey, 'system/Patient.rs', { jku: 'https://attacker.example/jwks.json' });
  assert.equal(foreign.status, 401);
});

test('a system token can be revoked by its client and fails at once', async () => {
  const r = await cc('reader', fx.rs384, 'system/Patient.rs');
  const token = r.json.access_token;
  assert.equal((await fhirGet(s, 'Patient/p1', token)).status, 200);
  const rv = await postForm(`${s.baseUrl}/auth/revoke`, { token, client_assertion_type: JWT_BEARER, client_assertion: await assertion('reader', fx.rs384, s.tokenUrl) });
  assert.equal(rv.status, 200, rv.text);
  assert.equal((await fhirGet(s, 'Patient/p1', token)).status, 401);
});
