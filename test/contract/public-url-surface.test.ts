// CONTRACT "Start" and "FHIR API" over HTTP, with PUBLIC_URL unlike the address the server listens on (a proxy
// in front): every absolute URL the server emits (Bundle links, Location, Content-Location, the SMART
// endpoints, `aud`) starts with $PUBLIC_URL; /healthz answers 503 until ready, then 200; metadata and SMART
// discovery need no token, everything else under /fhir does. CONTRACT "Sign-in pages": the forms' fields.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createAuthRuntime, type AuthRuntime } from '../../src/auth/runtime.js';
import { verifyBearer } from '../../src/auth/verify-token.js';
import { mountSmartRoutes } from '../../src/http/smart-routes.js';
import { run as clientAdd } from '../../src/cli/client-add.js';
import { run as userAdd } from '../../src/cli/user-add.js';
import { assertion, clientKey, HttpBrowser, pkce, postForm, field, checkboxes } from '../auth/helpers/oauth.js';

const PUBLIC = 'http://fhir.public.example:9443/gw';
const REDIRECT = 'https://app.example/cb';
let s: TestServer;
let rt: AuthRuntime;
let ready = false;
let local: string; // where the server really listens
let token: string;
let dir: string;

before(async () => {
  s = await startTestServer({
    authOff: false,
    env: { PUBLIC_URL: PUBLIC },
    configure: async (deps) => {
      rt = createAuthRuntime({ db: deps.db, config: deps.config, settings: { slowStepMs: 10 } });
      await rt.start();
      return {
        ready: async () => ready,
        mounts: [(app) => mountSmartRoutes(app, rt)],
        authenticate: async (authorization, address) => ({ ...(await verifyBearer(authorization, rt)), address }),
      };
    },
  });
  local = `http://127.0.0.1:${s.config.port}`;
  dir = mkdtempSync(join(tmpdir(), 'fhirgate-public-url-'));
  const key = await clientKey('ES384');
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [key.publicJwk] }));
  const deps = { db: s.db, config: s.config };
  await clientAdd(['--id', 'svc', '--jwks-file', jwks, '--scope', 'system/*.cruds'], deps);
  await clientAdd(['--id', 'app', '--redirect-uri', REDIRECT], deps);
  await userAdd(['--username', 'doc', '--password', 'right password', '--role', 'clinician'], deps);
  // The client's assertion is addressed to the public token endpoint (what discovery names).
  const r = await postForm(`${local}/auth/token`, {
    grant_type: 'client_credentials', scope: 'system/*.cruds', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion('svc', key, `${PUBLIC}/auth/token`),
  });
  assert.equal(r.status, 200, r.text);
  token = r.json.access_token;
});
after(async () => {
  await rt?.close();
  await s?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fhir = (path: string, init: RequestInit = {}, auth = true) =>
  fetch(`${local}/fhir/${path}`, { ...init, headers: { accept: 'application/fhir+json', 'content-type': 'application/fhir+json', ...(auth ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

test('/healthz: 503 before the server is ready, 200 after', async () => {
  ready = false;
  assert.equal((await fetch(`${local}/healthz`)).status, 503);
  ready = true;
  assert.equal((await fetch(`${local}/healthz`)).status, 200);
});

test('no token: metadata and SMART discovery answer; any other /fhir path is a 401 OperationOutcome', async () => {
  assert.equal((await fhir('metadata', {}, false)).status, 200);
  const disco = await fhir('.well-known/smart-configuration', {}, false);
  assert.equal(disco.status, 200);
  const c = await disco.json();
  assert.equal(c.issuer, `${PUBLIC}/fhir`);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) assert.ok(c[k].startsWith(`${PUBLIC}/auth/`), `${k}: ${c[k]}`);
  for (const path of ['Patient', 'Patient/x', '', '_history']) {
    const r = await fhir(path, {}, false);
    assert.equal(r.status, 401, path);
    assert.equal((await r.json()).resourceType, 'OperationOutcome');
  }
});

test('Location, Content-Location, Bundle links and fullUrls, and the token\'s aud start with PUBLIC_URL', async () => {
  assert.equal(decodeJwt(token).aud, `${PUBLIC}/fhir`);
  // CONTRACT "Roles": a client registered without --role, with keys and system/ scopes, is a system client.
  assert.equal(decodeJwt(token).role, 'system');
  const created = await fhir('Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient', gender: 'female' }) });
  assert.equal(created.status, 201);
  const location = created.headers.get('location')!;
  assert.match(location, new RegExp(`^${PUBLIC}/fhir/Patient/[^/]+/_history/1$`));
  const id = /\/Patient\/([^/]+)\//.exec(location)![1];
  const updated = await fhir(`Patient/${id}`, { method: 'PUT', body: JSON.stringify({ resourceType: 'Patient', id, gender: 'male' }) });
  assert.equal(updated.status, 200);
  assert.equal(updated.headers.get('content-location'), `${PUBLIC}/fhir/Patient/${id}/_history/2`);
  await fhir('Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient' }) });
  const bundle = await (await fhir('Patient?_count=1')).json();
  assert.ok(bundle.link.length >= 2, 'self and next');
  for (const l of bundle.link) assert.ok(l.url.startsWith(`${PUBLIC}/fhir/Patient?`), l.url);
  for (const e of bundle.entry) assert.ok(e.fullUrl.startsWith(`${PUBLIC}/fhir/Patient/`), e.fullUrl);
  const history = await (await fhir(`Patient/${id}/_history`)).json();
  for (const l of history.link) assert.ok(l.url.startsWith(`${PUBLIC}/fhir/`), l.url);
});

test('sign-in pages: username/password form, the error for wrong credentials, consent checkboxes `scope` checked by default and a `deny` button; no JavaScript', async () => {
  const { challenge, verifier } = pkce();
  const query = (aud: string) => new URLSearchParams({ response_type: 'code', client_id: 'app', redirect_uri: REDIRECT, scope: 'openid user/Patient.rs user/Observation.rs',
    state: 'st', aud, code_challenge: challenge, code_challenge_method: 'S256' });
  // aud is $PUBLIC_URL/fhir, not the address the server listens on.
  const foreign = await fetch(`${local}/auth/authorize?${query(`${local}/fhir`)}`, { redirect: 'manual' });
  assert.equal(new URL(foreign.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  const b = new HttpBrowser(local);
  const login = await b.go(`/auth/authorize?${query(`${PUBLIC}/fhir`)}`);
  const forms = (html: string) => html.match(/<form[\s\S]*?<\/form>/g) ?? [];
  const submits = (form: string) => (form.match(/<button type="submit"/g) ?? []).length;
  assert.equal(login.status, 200);
  assert.doesNotMatch(login.html, /<script/i);
  assert.match(login.html, /<input type="text" name="username"/);
  assert.match(login.html, /<input type="password" name="password"/);
  assert.deepEqual(forms(login.html).map(submits), [1]);
  const req = field(login.html, 'req') ?? '';
  const wrong = await b.go('/auth/login', 'POST', { req, username: 'doc', password: 'wrong password' });
  assert.match(wrong.html, /The username or password is not correct\./);
  assert.match(wrong.html, /name="password"/, 'the form is shown again');
  const consent = await b.go('/auth/login', 'POST', { req: field(wrong.html, 'req') ?? req, username: 'doc', password: 'right password' });
  assert.doesNotMatch(consent.html, /<script/i);
  const offered = checkboxes(consent.html);
  assert.deepEqual(offered.filter((o) => ['openid', 'user/Patient.rs', 'user/Observation.rs'].includes(o.value)).map((o) => o.checked), [true, true, true]);
  const form = forms(consent.html)[0] ?? '';
  assert.equal(submits(form), 2, 'Allow and Deny');
  assert.match(form, /<button type="submit" name="deny"/);
  // CONTRACT "Roles": a client registered without --role (and without keys) acts for the user who signs in.
  const back = await b.go('/auth/consent', 'POST', { req: field(consent.html, 'req') ?? '', scope: offered.filter((o) => o.checked).map((o) => o.value) });
  const code = back.outside?.searchParams.get('code');
  assert.ok(code, back.html.slice(0, 300));
  const t = await postForm(`${local}/auth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: 'app' });
  assert.equal(t.status, 200, t.text);
  assert.equal(decodeJwt(t.json.access_token).role, 'clinician');
  assert.equal(decodeJwt(t.json.access_token).aud, `${PUBLIC}/fhir`);
});
