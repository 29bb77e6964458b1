// Sign-in delegated to an external OpenID Connect provider (hospital SSO) through openid-client,
// against a real provider (oidc-provider on loopback) in headless Chromium: the provider's own
// login and consent, back to fhirgate, which maps the provider's preferred_username to a local
// login (role, fhirUser) and continues the SMART flow to a code and a token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import Provider from 'oidc-provider';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { SECRET, seed } from './helpers/fixtures.js';
import { basic, pkce, postForm } from './helpers/oauth.js';
import { backAtApp, consent, launchBrowser, startAppServer, type AppServer } from './helpers/browser.js';
import { freePort } from '../helpers/ports.js';

let s: SmartServer;
let app: AppServer;
let browser: Browser;
let idp: Server;

before(async () => {
  const idpPort = await freePort();
  const issuer = `http://127.0.0.1:${idpPort}`;
  // The provider is discovered at first use, so fhirgate can start first and tell its callback URL.
  s = await startSmartServer({ federation: { issuer, clientId: 'fhirgate', clientSecret: 'sso-secret', usernameClaim: 'preferred_username', label: 'Hospital SSO' } });
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'fhirgate', client_secret: 'sso-secret', redirect_uris: [`${s.baseUrl}/auth/sso/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, preferred_username: id }) }),
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['test-cookie-key'] },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
  } as never);
  idp = createServer(provider.callback());
  await new Promise<void>((r) => idp.listen(idpPort, '127.0.0.1', r));
  app = await startAppServer();
  await seed(s, `${app.origin}/callback`);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
  idp?.closeAllConnections();
  idp?.close();
  await s?.stop();
});

/** From fhirgate's sign-in page through the provider's development login (and consent, when it asks) back to fhirgate. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.click('form[action="/auth/sso/start"] button');
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.origin === s.baseUrl || u.pathname.includes('interaction'));
  if (new URL(page.url()).origin !== s.baseUrl) {
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.origin === s.baseUrl);
  }
}

test('sign in through the hospital OpenID Connect provider, then consent and get tokens', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.route('https://fonts.googleapis.com/**', (r) => r.abort()); // the provider's dev pages import a web font
  const p = pkce();
  const q = new URLSearchParams({
    response_type: 'code', client_id: 'conf', redirect_uri: `${app.origin}/callback`, scope: 'openid fhirUser user/Patient.rs', state: 'sso-state',
    aud: s.fhirBase, code_challenge: p.challenge, code_challenge_method: 'S256',
  });
  await page.goto(`${s.baseUrl}/auth/authorize?${q}`);
  await signInAtProvider(page, 'doc');
  await page.waitForSelector('form[action="/auth/consent"]');
  await consent(page);
  const back = await backAtApp(page, app.origin);
  assert.equal(back.searchParams.get('state'), 'sso-state');
  const r = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: `${app.origin}/callback`, code_verifier: p.verifier }, basic('conf', SECRET));
  assert.equal(r.status, 200, r.text);
  const idt = JSON.parse(Buffer.from(r.json.id_token.split('.')[1], 'base64url').toString());
  assert.equal(idt.fhirUser, `${s.fhirBase}/Practitioner/dr1`);
  await page.context().close();
});

test('a provider account without a local login is refused', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.route('https://fonts.googleapis.com/**', (r) => r.abort()); // the provider's dev pages import a web font
  const q = new URLSearchParams({
    response_type: 'code', client_id: 'conf', redirect_uri: `${app.origin}/callback`, scope: 'openid user/Patient.rs', state: 'x',
    aud: s.fhirBase, code_challenge: pkce().challenge, code_challenge_method: 'S256',
  });
  await page.goto(`${s.baseUrl}/auth/authorize?${q}`);
  await signInAtProvider(page, 'stranger');
  assert.match(await page.content(), /no login on this server/);
  await page.context().close();
});
