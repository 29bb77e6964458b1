// The sign-in pages in headless Chromium (plain HTML forms, no JavaScript needed): standalone launch
// with a patient picker and a sub-resource grant, EHR launch with a POSTed authorization request,
// deny, TOTP, lockout, a foreign redirect_uri (error page, no redirect) and the 15-minute idle session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { generate } from 'otplib';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { PASSWORD, SECRET, fhirGet, seed, type Fixture } from './helpers/fixtures.js';
import { basic, pkce, postForm } from './helpers/oauth.js';
import { backAtApp, consent, launchBrowser, signIn, startAppServer, type AppServer } from './helpers/browser.js';
import { run as launchCmd } from '../../src/cli/launch.js';

const OBS_LAB = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
let s: SmartServer;
let fx: Fixture;
let app: AppServer;
let browser: Browser;

before(async () => {
  app = await startAppServer();
  s = await startSmartServer({ lockAfter: 4 });
  fx = await seed(s, `${app.origin}/callback`);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
  await s?.stop();
});

function authorizeUrl(scope: string, o: { client?: string; challenge?: string; state?: string; redirect?: string; launch?: string } = {}): string {
  const q = new URLSearchParams({
    response_type: 'code', client_id: o.client ?? 'conf', redirect_uri: o.redirect ?? fx.redirect, scope, state: o.state ?? 'state-1', aud: s.fhirBase,
    code_challenge: o.challenge ?? pkce().challenge, code_challenge_method: 'S256', ...(o.launch ? { launch: o.launch } : {}),
  });
  return `${s.baseUrl}/auth/authorize?${q}`;
}

async function fresh(): Promise<Page> {
  const ctx = await browser.newContext();
  return ctx.newPage();
}

async function exchange(code: string, verifier: string, client = 'conf'): Promise<any> {
  const r = await postForm(s.tokenUrl, { grant_type: 'authorization_code', code, redirect_uri: fx.redirect, code_verifier: verifier }, basic(client, SECRET));
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test('standalone: sign in, pick a patient, grant a sub-resource scope instead of a whole type', async () => {
  const page = await fresh();
  const p = pkce();
  await page.goto(authorizeUrl('launch/patient openid fhirUser offline_access patient/Patient.rs patient/Observation.rs patient/Condition.rs', { challenge: p.challenge }));
  await signIn(page, 'doc', PASSWORD);
  await page.selectOption('select[name=patient]', 'p1');
  await page.click('form[action="/auth/patient"] button');
  assert.equal(await page.locator('input[name=scope]:checked').count(), 7, 'every requested scope is checked by default');
  await consent(page, { 'patient/Observation.rs': false, 'patient/Condition.rs': false, [OBS_LAB]: true });
  const back = await backAtApp(page, app.origin);
  assert.equal(back.searchParams.get('state'), 'state-1');
  const t = await exchange(back.searchParams.get('code')!, p.verifier);
  const granted = t.scope.split(' ');
  assert.ok(granted.includes(OBS_LAB));
  assert.ok(!granted.includes('patient/Observation.rs'));
  assert.equal(t.patient, 'p1');
  assert.equal((await fhirGet(s, 'Condition/c1', t.access_token)).status, 403);
  assert.equal((await fhirGet(s, 'Patient/p1', t.access_token)).status, 200);
  await page.context().close();
});

test('EHR launch: POSTed authorization request with a launch bound to patient, encounter and user', async () => {
  const { launch } = await launchCmd(['--patient', 'p1', '--encounter', 'e1', '--user', 'doc'], { db: s.db, config: s.config });
  const page = await fresh();
  const p = pkce();
  const params = new URL(authorizeUrl('launch openid fhirUser offline_access user/Patient.rs user/Encounter.rs', { challenge: p.challenge, launch: String(launch) })).searchParams;
  // Like Inferno's post_auth.html: an auto-submitted form POST to the authorize endpoint.
  const inputs = [...params].map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`).join('');
  await page.goto(`${app.origin}/callback`);
  await page.setContent(`<form method="post" action="${s.baseUrl}/auth/authorize">${inputs}<button>go</button></form>`);
  await Promise.all([page.waitForURL(/\/auth\/flow/), page.click('button')]);
  await signIn(page, 'doc', PASSWORD);
  await consent(page);
  const back = await backAtApp(page, app.origin);
  const t = await exchange(back.searchParams.get('code')!, p.verifier);
  assert.equal(t.patient, 'p1');
  assert.equal(t.encounter, 'e1');
  assert.equal(t.need_patient_banner, false);
  assert.deepEqual(t.fhirContext, []);
  const style = await fetch(t.smart_style_url);
  assert.equal(style.status, 200);
  assert.equal(typeof (await style.json()).color_background, 'string');
  assert.equal((await fhirGet(s, 'Encounter/e1', t.access_token)).status, 200);
  await page.context().close();
});

test('deny sends access_denied with the state and no code', async () => {
  const page = await fresh();
  await page.goto(authorizeUrl('openid fhirUser user/Patient.rs', { state: 'deny-me' }));
  await signIn(page, 'doc', PASSWORD);
  await consent(page, {}, true);
  const back = await backAtApp(page, app.origin);
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), 'deny-me');
  assert.equal(back.searchParams.get('code'), null);
  await page.context().close();
});

test('TOTP: a user with a second factor must give the current code', async () => {
  const page = await fresh();
  await page.goto(authorizeUrl('openid user/Patient.rs'));
  await signIn(page, 'otp', PASSWORD);
  assert.equal(await page.locator('input[name=otp]').count(), 1);
  await page.fill('input[name=otp]', '000000');
  await page.click('form[action="/auth/otp"] button');
  assert.match(await page.content(), /one-time code is not correct/);
  const code = await generate({ secret: fx.totpSecret });
  await page.fill('input[name=otp]', code);
  await page.click('form[action="/auth/otp"] button');
  assert.equal(await page.locator('form[action="/auth/consent"]').count(), 1);
  await page.context().close();
  // The same code a second time (another browser, within its 30 s) is refused: RFC 6238 §5.2.
  const again = await fresh();
  await again.goto(authorizeUrl('openid user/Patient.rs'));
  await signIn(again, 'otp', PASSWORD);
  await again.fill('input[name=otp]', code);
  await again.click('form[action="/auth/otp"] button');
  assert.match(await again.content(), /one-time code is not correct/);
  await again.context().close();
});

test('repeated failed sign-ins are slowed, then the account is locked even for the right password', async () => {
  const page = await fresh();
  await page.goto(authorizeUrl('openid user/Patient.rs'));
  const started = Date.now();
  for (let i = 0; i < 4; i++) {
    await signIn(page, 'pat', 'wrong password');
    assert.match(await page.content(), i < 3 ? /not correct/ : /locked/);
  }
  assert.ok(Date.now() - started >= 50, 'attempts past the third are delayed');
  await signIn(page, 'pat', PASSWORD);
  assert.match(await page.content(), /locked/);
  assert.equal(await page.locator('form[action="/auth/consent"]').count(), 0);
  await page.context().close();
});

test('an unregistered redirect_uri shows an error page and never redirects', async () => {
  const page = await fresh();
  const res = await page.goto(authorizeUrl('openid user/Patient.rs', { redirect: 'https://evil.example/cb' }));
  assert.equal(res?.status(), 400);
  assert.equal(new URL(page.url()).origin, s.baseUrl);
  assert.match(await page.content(), /redirect_uri is not registered/);
  await page.context().close();
});

test('the browser session is reused while active and expires after 15 minutes idle', async () => {
  const page = await fresh();
  await page.goto(authorizeUrl('openid user/Patient.rs'));
  await signIn(page, 'doc', PASSWORD);
  await consent(page);
  await backAtApp(page, app.origin);
  await page.goto(authorizeUrl('openid user/Patient.rs'));
  assert.equal(await page.locator('form[action="/auth/consent"]').count(), 1, 'no second sign-in while the session is active');
  await s.db.pool.query(`update auth.sessions set last_seen = now() - interval '16 minutes'`);
  await page.goto(authorizeUrl('openid user/Patient.rs'));
  assert.equal(await page.locator('input[name=password]').count(), 1, 'sign in again after 15 minutes idle');
  await page.context().close();
});
