// The fhirclient library (its browser build) as a real SMART app in headless Chromium, on its own
// origin: discovery, PKCE, the token exchange over CORS and FHIR reads with the bearer token.
// EHR launch from the clinician's launcher page, and a patient's standalone launch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { PASSWORD, seed } from './helpers/fixtures.js';
import { consent, fhirclientPages, launchBrowser, signIn, startAppServer, type AppServer } from './helpers/browser.js';
import { run as clientAdd } from '../../src/cli/client-add.js';

let s: SmartServer;
let app: AppServer;
let browser: Browser;

before(async () => {
  app = await startAppServer(fhirclientPages('fc-app', 'launch openid fhirUser user/Patient.rs user/Practitioner.rs user/Encounter.rs',
    'launch/patient openid fhirUser patient/Patient.rs'));
  s = await startSmartServer();
  await seed(s, `${app.origin}/callback`);
  await clientAdd(['--id', 'fc-app', '--redirect-uri', `${app.origin}/index.html`], { db: s.db, config: s.config });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
  await s?.stop();
});

async function appResult(page: import('playwright-core').Page): Promise<any> {
  await page.waitForURL((u) => u.pathname === '/index.html', { timeout: 15_000 });
  await page.waitForFunction(() => { const t = document.getElementById('out')?.textContent; return !!t && t !== 'waiting'; }, undefined, { timeout: 15_000 });
  const text = (await page.textContent('#out')) ?? '';
  assert.ok(!text.startsWith('ERROR'), text);
  return JSON.parse(text);
}

test('EHR launch from the launcher page: fhirclient reads the launch patient, encounter and user', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${s.baseUrl}/auth/launcher`);
  await signIn(page, 'doc', PASSWORD);
  await page.selectOption('select[name=patient]', 'p1');
  await page.fill('input[name=encounter]', 'e1');
  await page.fill('input[name=launch_url]', `${app.origin}/launch.html`);
  await page.click('form[action="/auth/launcher"] button');
  // fhirclient: launch.html?iss&launch → discovery → authorize → (already signed in) consent.
  await page.waitForSelector('form[action="/auth/consent"]');
  await consent(page);
  const r = await appResult(page);
  assert.deepEqual({ patient: r.patient, family: r.family, user: r.user, encounter: r.encounter }, { patient: 'p1', family: 'Alpha', user: 'Practitioner/dr1', encounter: 'e1' });
  await page.context().close();
});

test('the launcher refuses launch URLs outside registered applications', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${s.baseUrl}/auth/launcher`);
  await signIn(page, 'doc', PASSWORD);
  await page.selectOption('select[name=patient]', 'p2');
  await page.fill('input[name=launch_url]', 'https://elsewhere.example/launch');
  await page.click('form[action="/auth/launcher"] button');
  assert.match(await page.content(), /not on the site of a registered application/);
  await page.context().close();
});

test('standalone launch by a patient: fhirclient gets the patient context without a picker', async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${app.origin}/standalone.html?fhir=${encodeURIComponent(s.fhirBase)}`);
  await page.waitForSelector('input[name=username]');
  await signIn(page, 'pat', PASSWORD);
  await consent(page);
  const r = await appResult(page);
  assert.equal(r.patient, 'p1');
  assert.equal(r.user, 'Patient/p1');
  assert.match(r.scope, /patient\/Patient\.rs/);
  await page.context().close();
});
