// PKCE for every app, confidential ones included (SMART App Launch 2 app-launch.html "Considerations
// for PKCE Support": "All SMART apps SHALL support Proof Key for Code Exchange (PKCE)"; the authorize
// parameters table marks code_challenge and code_challenge_method required; "the EHR SHALL ensure that
// the code_verifier is present and valid when the code is exchanged"). A request without a challenge
// is sent back as invalid_request once client and redirect_uri are proven (RFC 6749 §4.1.2.1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { SECRET, seed } from './helpers/fixtures.js';
import { basic, pkce, postForm } from './helpers/oauth.js';
import { createCode } from '../../src/store/auth-grants.js';
import { randomToken, sha256 } from '../../src/auth/secrets.js';
import type { CodeData } from '../../src/auth/issue.js';

const REDIRECT = 'https://app.example/callback';
let s: SmartServer;

before(async () => {
  s = await startSmartServer();
  await seed(s, REDIRECT);
});
after(async () => s?.stop());

const authorize = (q: Record<string, string>) => fetch(`${s.baseUrl}/auth/authorize?${new URLSearchParams(q)}`, { redirect: 'manual' });

test('every client, confidential (symmetric, asymmetric) or public, without code_challenge is sent back invalid_request', async () => {
  for (const client of ['conf', 'asym', 'public']) {
    const base = { response_type: 'code', client_id: client, redirect_uri: REDIRECT, scope: 'openid user/Patient.rs', state: `st-${client}`, aud: s.fhirBase };
    for (const extra of [{}, { code_challenge_method: 'S256' }] as Array<Record<string, string>>) {
      const r = await authorize({ ...base, ...extra });
      assert.equal(r.status, 303, `${client}: redirected back to the app`);
      const back = new URL(r.headers.get('location')!);
      assert.equal(back.origin + back.pathname, REDIRECT);
      assert.equal(back.searchParams.get('error'), 'invalid_request', `${client} ${JSON.stringify(extra)}`);
      assert.match(back.searchParams.get('error_description') ?? '', /code_challenge/);
      assert.equal(back.searchParams.get('state'), `st-${client}`);
      assert.equal(back.searchParams.get('code'), null);
    }
    // With S256 the same request goes on to the sign-in page.
    const ok = await authorize({ ...base, code_challenge: pkce().challenge, code_challenge_method: 'S256' });
    assert.notEqual(new URL(ok.headers.get('location') ?? '/', s.baseUrl).origin, 'https://app.example', `${client} with PKCE`);
  }
});

test('discovery still names S256 as the only code_challenge_method', async () => {
  for (const doc of ['smart-configuration', 'openid-configuration']) {
    const c = await (await fetch(`${s.fhirBase}/.well-known/${doc}`)).json();
    assert.deepEqual(c.code_challenge_methods_supported, ['S256'], doc);
  }
});

test('a code recorded without a code_challenge is never exchanged, with or without a verifier', async () => {
  for (const verifier of [undefined, pkce().verifier]) {
    const code = randomToken(32);
    const data: CodeData = { grant: { tenant: 'default', clientId: 'conf', role: 'clinician', scopes: ['user/Patient.rs'], userId: 'u1' }, redirectUri: REDIRECT };
    await createCode(s.db, sha256(code), 'default', 'conf', data, 60);
    const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
    if (verifier) form.code_verifier = verifier;
    const r = await postForm(s.tokenUrl, form, basic('conf', SECRET));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'invalid_grant');
    assert.equal(r.json.access_token, undefined);
  }
});
