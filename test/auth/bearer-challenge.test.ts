// The FHIR API's answers to a missing, unusable or too narrow access token (RFC 6750 §3, §3.1): a
// WWW-Authenticate: Bearer challenge with realm; error="invalid_token" (401) for a malformed, badly
// signed, expired or revoked token, error="insufficient_scope" (403) when the scopes do not cover the
// request, each with an error_description; no error code when no Bearer credentials were sent at all.
// The body stays an OperationOutcome (CONTRACT.md "FHIR API").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { fhirGet, seed, systemToken, type Fixture } from './helpers/fixtures.js';
import { assertion, postForm } from './helpers/oauth.js';
import { JWT_BEARER } from '../../src/auth/client-auth.js';
import { signAccessToken } from '../../src/auth/tokens.js';

let s: SmartServer;
let fx: Fixture;

before(async () => {
  s = await startSmartServer();
  fx = await seed(s, 'https://app.example/callback');
});
after(async () => s?.stop());

/** The auth-params of a `Bearer` challenge (RFC 6750 §3: quoted-string values without `"` or `\`). */
function challenge(header: string | null): Record<string, string> {
  assert.ok(header, 'WWW-Authenticate is present');
  const m = /^Bearer (.*)$/.exec(header);
  assert.ok(m, `a Bearer challenge: ${header}`);
  const out: Record<string, string> = {};
  const re = /\s*([a-z_]+)="([\x20\x21\x23-\x5B\x5D-\x7E]*)"\s*(,|$)/gy;
  let at = 0;
  for (let p = re.exec(m[1]); p; p = re.exec(m[1])) {
    out[p[1]] = p[2];
    at = re.lastIndex;
  }
  assert.equal(at, m[1].length, `well-formed auth-params: ${m[1]}`);
  return out;
}

async function outcome(path: string, authorization?: string) {
  const res = await fetch(`${s.fhirBase}/${path}`, { headers: { accept: 'application/fhir+json', ...(authorization !== undefined ? { authorization } : {}) } });
  const body = await res.json();
  assert.equal(body.resourceType, 'OperationOutcome', 'the body stays an OperationOutcome');
  return { status: res.status, params: challenge(res.headers.get('www-authenticate')) };
}

test('no token, or credentials of another scheme: 401 with a bare Bearer challenge (no error code)', async () => {
  for (const authorization of [undefined, 'Basic Y29uZjpzZWNyZXQ=']) {
    const r = await outcome('Patient/p1', authorization);
    assert.equal(r.status, 401, String(authorization));
    assert.equal(r.params.realm, 'fhirgate');
    assert.equal(r.params.error, undefined, 'RFC 6750 §3: no error information without Bearer credentials');
  }
});

test('a malformed, forged, expired or revoked token: 401 error="invalid_token" with a description', async () => {
  const grant = { tenant: 'default', clientId: 'reader', role: 'system' as const, scopes: ['system/Patient.rs'] };
  const expired = await signAccessToken({ keys: s.rt.keys, fhirBase: s.fhirBase }, grant, grant.scopes, -120);
  const revoked = await systemToken(s, 'reader', fx.rs384, 'system/Patient.rs');
  assert.equal((await fhirGet(s, 'Patient/p1', revoked)).status, 200);
  const r = await postForm(`${s.baseUrl}/auth/revoke`, { token: revoked, client_assertion_type: JWT_BEARER, client_assertion: await assertion('reader', fx.rs384, s.tokenUrl) });
  assert.equal(r.status, 200, r.text);
  for (const [what, authorization] of [
    ['not b64token syntax', 'Bearer not a token!'],
    ['empty', 'Bearer '],
    ['not a JWT', 'Bearer abc.def.ghi'],
    ['expired', `Bearer ${expired.token}`],
    ['revoked', `Bearer ${revoked}`],
  ]) {
    const r = await outcome('Patient/p1', authorization);
    assert.equal(r.status, 401, what);
    assert.equal(r.params.realm, 'fhirgate', what);
    assert.equal(r.params.error, 'invalid_token', what);
    assert.ok(r.params.error_description, `${what}: error_description`);
  }
});

test('scopes that do not cover the request: 403 error="insufficient_scope" with a description', async () => {
  const reader = await systemToken(s, 'reader', fx.rs384, 'system/Patient.rs system/Observation.rs');
  assert.equal((await fhirGet(s, 'Patient/p1', reader)).headers.get('www-authenticate'), null, 'no challenge on success');
  for (const path of ['Condition/c1', 'Condition?subject=Patient/p1', 'AuditEvent']) {
    const r = await outcome(path, `Bearer ${reader}`);
    assert.equal(r.status, 403, path);
    assert.equal(r.params.realm, 'fhirgate', path);
    assert.equal(r.params.error, 'insufficient_scope', path);
    assert.ok(r.params.error_description, `${path}: error_description`);
  }
  const write = await fetch(`${s.fhirBase}/Patient/p1`, { method: 'DELETE', headers: { authorization: `Bearer ${reader}` } });
  assert.equal(write.status, 403);
  assert.equal(challenge(write.headers.get('www-authenticate')).error, 'insufficient_scope');
});
