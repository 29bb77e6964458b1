// Discovery (SMART App Launch 2.2 §"SMART configuration", OpenID Connect Discovery §4), the key
// ring (generated once, rotated with the previous key still published, or loaded from
// SIGNING_KEY_FILE), and the contract's CLI commands `client add`, `user add`, `launch`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPKCS8, generateKeyPair, decodeProtectedHeader } from 'jose';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { fhirGet, seed, systemToken, type Fixture } from './helpers/fixtures.js';
import { run as clientAdd } from '../../src/cli/client-add.js';
import { run as userAdd } from '../../src/cli/user-add.js';
import { run as launchCmd } from '../../src/cli/launch.js';
import { KeyRing } from '../../src/auth/keys.js';
import express from 'express';
import { createServer } from 'node:http';
import { createAuthRuntime } from '../../src/auth/runtime.js';
import { mountSmartRoutes } from '../../src/http/smart-routes.js';
import { CAPABILITIES } from '../../src/auth/smart-configuration.js';
import { signAccessToken } from '../../src/auth/tokens.js';
import { verifyBearer } from '../../src/auth/verify-token.js';
import { FhirError } from '../../src/errors.js';

let s: SmartServer;
let fx: Fixture;
before(async () => {
  s = await startSmartServer();
  fx = await seed(s, 'https://app.example/callback');
});
after(async () => s?.stop());

test('smart-configuration: JSON with CORS, every capability, S256 only, endpoints, auth methods', async () => {
  const r = await fetch(`${s.fhirBase}/.well-known/smart-configuration`, { headers: { accept: 'application/json', origin: 'https://inferno.example' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(['*', 'https://inferno.example'].includes(r.headers.get('access-control-allow-origin') ?? ''));
  const c = await r.json();
  for (const cap of CAPABILITIES) assert.ok(c.capabilities.includes(cap), cap);
  assert.equal(CAPABILITIES.length, 18);
  assert.deepEqual(c.code_challenge_methods_supported, ['S256']);
  assert.ok(c.grant_types_supported.includes('authorization_code') && c.grant_types_supported.includes('client_credentials'));
  assert.deepEqual(c.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
  assert.deepEqual(c.token_endpoint_auth_signing_alg_values_supported, ['RS384', 'ES384']);
  assert.equal(c.issuer, s.fhirBase);
  assert.equal(c.token_endpoint, `${s.baseUrl}/auth/token`);
  assert.equal(c.jwks_uri, `${s.baseUrl}/auth/jwks`);
  for (const k of ['authorization_endpoint', 'introspection_endpoint', 'revocation_endpoint']) assert.match(c[k], /^http:\/\/127\.0\.0\.1:\d+\/auth\//);
  const oidc = await (await fetch(`${c.issuer}/.well-known/openid-configuration`)).json();
  for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported']) assert.ok(oidc[k], k);
});

test('the CapabilityStatement (no token needed) names the same OAuth endpoints as smart-configuration', async () => {
  const meta = await fhirGet(s, 'metadata');
  assert.equal(meta.status, 200);
  const security = meta.json.rest[0].security;
  assert.ok(security.service.some((c: { coding: Array<{ code: string }> }) => c.coding.some((x) => x.code === 'SMART-on-FHIR')));
  const ext = security.extension.find((e: { url: string }) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
  const uris = Object.fromEntries(ext.extension.map((e: { url: string; valueUri: string }) => [e.url, e.valueUri]));
  const c = await (await fetch(`${s.fhirBase}/.well-known/smart-configuration`)).json();
  assert.equal(uris.authorize, c.authorization_endpoint);
  assert.equal(uris.token, c.token_endpoint);
  assert.equal(uris.introspect, c.introspection_endpoint);
  assert.equal(uris.revoke, c.revocation_endpoint);
  assert.equal(uris.manage, c.management_endpoint);
});

test('key rotation: JWKS publishes current and previous; tokens signed by the previous key still verify', async () => {
  const before = (await (await fetch(`${s.baseUrl}/auth/jwks`)).json()).keys;
  assert.equal(before.length, 1);
  assert.equal(before[0].kty, 'RSA');
  const old = fx.systemToken;
  await s.rt.keys.rotate();
  const keys = (await (await fetch(`${s.baseUrl}/auth/jwks`)).json()).keys;
  assert.equal(keys.length, 2);
  assert.ok(keys.every((k: { kid?: string; d?: string }) => k.kid && !k.d), 'kids set, no private members');
  assert.equal((await fhirGet(s, 'Patient/p1', old)).status, 200);
  const fresh = await systemToken(s, 'backend', fx.rs384, 'system/*.rs');
  assert.equal(decodeProtectedHeader(fresh).kid, s.rt.keys.signingKey().kid);
  assert.notEqual(decodeProtectedHeader(fresh).kid, decodeProtectedHeader(old).kid);
  // A second process on the same database loads the same keys instead of making new ones.
  const other = new KeyRing(s.db);
  await other.load();
  assert.equal(other.signingKey().kid, s.rt.keys.signingKey().kid);
});

test('SIGNING_KEY_FILE: a PEM key from the operator signs and is published', async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const file = join(mkdtempSync(join(tmpdir(), 'fhirgate-key-')), 'key.pem');
  writeFileSync(file, await exportPKCS8(privateKey));
  const ring = new KeyRing(s.db, file);
  await ring.load();
  const kid = ring.signingKey().kid;
  assert.ok(ring.publicJwks().keys.some((k) => k.kid === kid));
  assert.ok(ring.verificationKey(kid));
});

test('CLI: client add, user add and launch print JSON and refuse bad input', async () => {
  const deps = { db: s.db, config: s.config };
  assert.deepEqual(await clientAdd(['--id', 'cli-app', '--redirect-uri', 'https://a.example/cb', '--redirect-uri', 'https://a.example/cb2', '--scope', 'openid patient/*.rs'], deps),
    { client: 'cli-app', tenant: 'default', type: 'public', redirectUris: ['https://a.example/cb', 'https://a.example/cb2'], scope: 'openid patient/*.rs' });
  assert.equal((await clientAdd(['--id', 'cli-app', '--secret', 's3cret'], deps)).type, 'confidential-symmetric');
  const stored = await s.db.pool.query(`select secret_hash from auth.clients where id = 'cli-app'`);
  assert.match(stored.rows[0].secret_hash, /^scrypt\$/);
  await assert.rejects(clientAdd(['--id', 'x', '--secret', 'a', '--jwks-url', 'https://k.example/jwks'], deps), /only one/);
  await assert.rejects(clientAdd(['--id', 'x', '--scope', 'patient/*.bogus'], deps), /unknown scope/);
  await assert.rejects(clientAdd(['--id', 'x', '--role', 'wizard'], deps), /--role/);
  await assert.rejects(clientAdd(['--id', 'x', '--jwks-url', 'http://k.example/jwks'], deps), /https/);
  const u = await userAdd(['--username', 'nurse', '--password', 'pw', '--role', 'clinician', '--fhir-user', 'Practitioner/dr1'], deps);
  assert.equal(u.user, 'nurse');
  const again = await userAdd(['--username', 'nurse', '--password', 'pw2', '--role', 'clinician'], deps);
  assert.equal(again.id, u.id, 'replacing a login keeps its subject id');
  await assert.rejects(userAdd(['--username', 'p', '--password', 'pw', '--role', 'patient'], deps), /Patient\/ID/);
  await assert.rejects(userAdd(['--username', 'p', '--password', 'pw', '--role', 'system'], deps), /--role/);
  await assert.rejects(userAdd(['--username', 'p', '--password', 'pw', '--role', 'clinician', '--totp-secret', 'not base32!'], deps), /base32/);
  const l = await launchCmd(['--patient', 'p1', '--encounter', 'e1'], deps);
  assert.deepEqual(Object.keys(l), ['launch']);
  assert.match(String(l.launch), /^[A-Za-z0-9_-]{32}$/);
  await assert.rejects(launchCmd(['--patient', 'p1', '--user', 'ghost'], deps), /no user/);
  await assert.rejects(launchCmd([], deps), /--patient/);
});

test('an unknown launch value is sent back as invalid_request, not silently ignored', async () => {
  const q = new URLSearchParams({ response_type: 'code', client_id: 'conf', redirect_uri: 'https://app.example/callback', scope: 'launch openid user/Patient.rs',
    state: 's', aud: s.fhirBase, launch: 'made-up', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
  const r = await fetch(`${s.baseUrl}/auth/authorize?${q}`, { redirect: 'manual' });
  const loc = new URL(r.headers.get('location')!);
  assert.equal(loc.searchParams.get('error'), 'invalid_request');
  assert.equal(loc.searchParams.get('code'), null);
});

test('the fhirgate binary dispatches client add, user add and launch on DATABASE_URL', () => {
  const env = { ...process.env, DATABASE_URL: s.adminUrl, LOG_LEVEL: 'silent' };
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/fhirgate.js', ...args], { env, encoding: 'utf8' });
  const c = cli('client', 'add', '--id', 'bin-app', '--redirect-uri', 'https://bin.example/cb');
  assert.equal(c.status, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).client, 'bin-app');
  const u = cli('user', 'add', '--username', 'bin-user', '--password', 'pw', '--role', 'researcher');
  assert.equal(u.status, 0, u.stderr);
  const l = cli('launch', '--patient', 'p1', '--user', 'bin-user');
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout.trim(), /^\{"launch":"[A-Za-z0-9_-]+"\}$/);
  const bad = cli('client', 'add', '--id', 'x', '--bogus', 'y');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown option --bogus/);
});

test('before start() (migrations not yet applied) the SMART endpoints answer 503, then serve', async () => {
  const rt = createAuthRuntime({ db: s.db, config: s.config });
  const app = express();
  mountSmartRoutes(app, rt);
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/fhir/.well-known/smart-configuration`;
  try {
    assert.equal((await fetch(url)).status, 503);
    await rt.start();
    assert.equal((await fetch(url)).status, 200);
  } finally {
    server.close();
    await rt.close();
  }
});

test('expired and foreign-issuer access tokens are 401 with WWW-Authenticate: Bearer', async () => {
  const grant = { tenant: 'default', clientId: 'backend', role: 'system' as const, scopes: ['system/*.rs'] };
  const expired = await signAccessToken({ keys: s.rt.keys, fhirBase: s.fhirBase }, grant, grant.scopes, -120);
  const foreign = await signAccessToken({ keys: s.rt.keys, fhirBase: 'https://other.example/fhir' }, grant, grant.scopes, 300);
  for (const t of [expired.token, foreign.token]) {
    const r = await fhirGet(s, 'Patient/p1', t);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  }
  await assert.rejects(verifyBearer('Basic abc', s.rt), (e: unknown) => e instanceof FhirError && e.status === 401);
  const ok = await signAccessToken({ keys: s.rt.keys, fhirBase: s.fhirBase }, grant, grant.scopes, 300);
  assert.equal((await verifyBearer(`Bearer ${ok.token}`, s.rt)).role, 'system');
});

test('launch warns (stderr, exit 0) about a patient or encounter that is not stored in the tenant, and mints the context', async () => {
  const warnings: string[] = [];
  const deps = { db: s.db, config: s.config, warn: (line: string) => void warnings.push(line) };
  const put = async (path: string, body: object, method = 'PUT') => {
    const r = await fetch(`${s.fhirBase}/${path}`, { method, body: method === 'PUT' ? JSON.stringify(body) : undefined,
      headers: { authorization: `Bearer ${fx.systemToken}`, 'content-type': 'application/fhir+json' } });
    assert.ok(r.status < 300, `${method} ${path}: ${r.status}`);
  };
  await put('Patient/gone', { resourceType: 'Patient', id: 'gone' });
  await put('Patient/gone', {}, 'DELETE');
  await put('Encounter/e-p2', { resourceType: 'Encounter', id: 'e-p2', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p2' } });
  const cases: Array<[string[], RegExp | undefined, string, string?]> = [
    [['--patient', 'nobody'], /Patient\/nobody/, 'never stored'],
    [['--patient', 'gone'], /Patient\/gone/, 'a deleted patient'],
    [['--patient', 'p1'], /Patient\/p1/, 'another tenant', 'elsewhere'],
    [['--patient', 'p1', '--encounter', 'nope'], /Encounter\/nope/, 'an unknown encounter'],
    [['--patient', 'p1', '--encounter', 'e-p2'], /Encounter\/e-p2/, 'an encounter of another patient'],
    [['--patient', 'p2', '--encounter', 'e-p2'], undefined, 'both stored'],
  ];
  for (const [args, warning, what, tenant] of cases) {
    warnings.length = 0;
    const out = await launchCmd(args, tenant ? { ...deps, tenant } : deps);
    assert.deepEqual(Object.keys(out), ['launch'], what);
    if (warning) assert.match(warnings.join('\n'), warning, what);
    else assert.deepEqual(warnings, [], what);
  }
  await assert.rejects(launchCmd(['--patient', 'not an id!'], deps), /FHIR id/);
  const env = { ...process.env, DATABASE_URL: s.adminUrl, LOG_LEVEL: 'silent' };
  const bin = spawnSync(process.execPath, ['bin/fhirgate.js', 'launch', '--patient', 'nobody'], { env, encoding: 'utf8' });
  assert.equal(bin.status, 0);
  assert.match(bin.stdout, /^\{"launch":"[A-Za-z0-9_-]{32}"\}\n$/);
  assert.match(bin.stderr, /warning: .*Patient\/nobody/);
});

test('client add warns about system/ scopes without keys (a backend service authenticates with private_key_jwt), and registers as given', async () => {
  const warnings: string[] = [];
  const deps = { db: s.db, config: s.config, warn: (line: string) => void warnings.push(line) };
  assert.equal((await clientAdd(['--id', 'pub-sys', '--scope', 'system/*.rs'], deps)).type, 'public');
  assert.equal((await clientAdd(['--id', 'sym-sys', '--secret', 's3cret', '--scope', 'system/Patient.rs'], deps)).type, 'confidential-symmetric');
  assert.equal(warnings.length, 2);
  for (const w of warnings) assert.match(w, /system\/.*--jwks-file/);
  // With keys, or without system/ scopes, no warning.
  warnings.length = 0;
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-'));
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [fx.rs384.publicJwk] }));
  assert.equal((await clientAdd(['--id', 'key-sys', '--jwks-file', join(dir, 'jwks.json'), '--scope', 'system/Patient.rs'], deps)).type, 'confidential-asymmetric');
  assert.equal((await clientAdd(['--id', 'url-sys', '--jwks-url', 'https://keys.example/jwks.json', '--scope', 'system/Patient.rs'], deps)).type, 'confidential-asymmetric');
  assert.equal((await clientAdd(['--id', 'pub-user', '--redirect-uri', 'https://a.example/cb', '--scope', 'openid patient/*.rs'], deps)).type, 'public');
  assert.deepEqual(warnings, []);
});
