// Headless Chromium (Debian's package, /usr/bin/chromium) driven by playwright-core, plus the "app"
// side of a launch: a small server on its own origin with the redirect target, a JWKS, and pages
// that run the fhirclient library (its browser build) as a real SMART app.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch a fresh temporary --user-data-dir of its own (it refuses the flag).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

const FHIRCLIENT = readFileSync(new URL('../../../node_modules/fhirclient/build/fhir-client.js', import.meta.url), 'utf8');

function appPage(script: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script src="/fhir-client.js"></script></head>
<body><pre id="out">waiting</pre><script>${script}</script></body></html>`;
}

/** The app's pages: launch.html (EHR launch), standalone.html, index.html (redirect target). */
export function fhirclientPages(clientId: string, scope: string, standaloneScope: string): Record<string, string> {
  const show = `const out = document.getElementById('out');`;
  return {
    '/launch.html': appPage(`FHIR.oauth2.authorize({ clientId: ${JSON.stringify(clientId)}, scope: ${JSON.stringify(scope)}, redirectUri: 'index.html' });`),
    '/standalone.html': appPage(`FHIR.oauth2.authorize({ clientId: ${JSON.stringify(clientId)}, scope: ${JSON.stringify(standaloneScope)}, redirectUri: 'index.html',
      iss: new URLSearchParams(location.search).get('fhir') });`),
    '/index.html': appPage(`${show}
      FHIR.oauth2.ready()
        .then((client) => Promise.all([client.patient.read(), client.user.read().catch((e) => ({ id: 'no-user:' + e.message })), Promise.resolve(client)]))
        .then(([p, u, client]) => { out.textContent = JSON.stringify({ patient: p.id, family: p.name[0].family, user: u.resourceType + '/' + u.id,
          encounter: client.encounter.id || null, scope: client.state.tokenResponse.scope }); })
        .catch((e) => { out.textContent = 'ERROR ' + e.message; });`),
  };
}

export interface AppServer { origin: string; server: Server; close(): Promise<void> }

export async function startAppServer(pages: Record<string, string> = {}): Promise<AppServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/fhir-client.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(FHIRCLIENT);
    if (pages[path]) return void res.writeHead(200, { 'content-type': 'text/html' }).end(pages[path]);
    if (path === '/callback') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('callback');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { origin, server, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/auth/login"] button[type=submit]')]);
}

/** Submits the consent form after setting the given checkboxes (scope value → checked). */
export async function consent(page: Page, set: Record<string, boolean> = {}, deny = false): Promise<void> {
  for (const [scope, on] of Object.entries(set)) {
    const box = page.locator(`input[name=scope][value="${scope}"]`);
    await box.evaluate((el) => { const d = el.closest('details'); if (d) d.open = true; });
    if (on) await box.check();
    else await box.uncheck();
  }
  await page.click(deny ? 'button[name=deny]' : 'form[action="/auth/consent"] button:not([name=deny])');
}

/** Waits until the browser is back at the app's origin and returns that URL. */
export async function backAtApp(page: Page, origin: string): Promise<URL> {
  await page.waitForURL((u) => u.origin === origin, { timeout: 15_000 });
  return new URL(page.url());
}
