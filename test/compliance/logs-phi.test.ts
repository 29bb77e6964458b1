// Logs never hold PHI (issue "Logs and secrets"; CONTRACT.md "logs"): the real server (src/main.ts) runs
// as a child process at LOG_LEVEL=debug, loads Synthea patients, serves reads, history, errors and
// refused requests, then every line it wrote is scanned for the names, birth dates, identifiers,
// telecoms and addresses it was given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { syntheaBundles } from '../helpers/synthea.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../helpers/server.js';
import { freePort } from '../helpers/ports.js';
import { startArgs } from '../../scripts/start-args.js';

const FILES = 4;
type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let database: { url: string; drop: () => Promise<void> };
let child: ChildProcess;
let base: string;
let output = '';

before(async () => {
  database = await createTestDatabase();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, startArgs, {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: base, DATABASE_URL: database.url, AUTH: 'off', LOG_LEVEL: 'debug',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'fhirgate-logs-')), DEID_HMAC_KEY: 'logs-test-key-logs-test-key-0123456789', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => { output += d.toString('utf8'); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString('utf8'); });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${output.slice(0, 500)}`);
});
after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await database?.drop();
});

/** The identifying values a log must never carry, from the bundles themselves. */
function phiOf(bundle: J): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 4) out.add(v);
  };
  for (const { resource: r } of bundle.entry) {
    if (r.resourceType !== 'Patient' && r.resourceType !== 'Practitioner') continue;
    for (const n of r.name ?? []) {
      add(n.family);
      for (const g of n.given ?? []) add(g);
    }
    add(r.birthDate);
    for (const i of r.identifier ?? []) add(i.value);
    for (const t of r.telecom ?? []) add(t.value);
    for (const a of r.address ?? []) {
      for (const l of a.line ?? []) add(l);
      add(a.city);
      add(a.postalCode);
    }
  }
  return out;
}

const fhir = (path: string, init: RequestInit = {}) => fetch(`${base}/fhir/${path}`, { ...init, headers: { 'content-type': 'application/fhir+json', ...init.headers } });

test('loading Synthea and serving it leaves no PHI in the log', { timeout: 300_000 }, async () => {
  const phi = new Set<string>();
  for (const text of syntheaBundles(FILES)) {
    const bundle = JSON.parse(text);
    for (const v of phiOf(bundle)) phi.add(v);
    const r = await fhir('', { method: 'POST', body: text });
    assert.equal(r.status, 200, await r.clone().text().then((t) => t.slice(0, 300)));
    const out = (await r.json()) as J;
    const locations: string[] = out.entry.map((e: J) => e.response.location as string).filter(Boolean);
    for (const loc of locations.slice(0, 60)) {
      const rel = loc.replace(/^.*\/fhir\//, '').replace(/\/_history\/\d+$/, '');
      assert.equal((await fhir(rel)).status, 200);
      await fhir(`${rel}/_history`);
    }
    const patient = locations.find((l) => /(^|\/)Patient\//.test(l))!.replace(/^.*\/fhir\//, '').replace(/\/_history\/\d+$/, '');
    const current = (await (await fhir(patient)).json()) as J;
    // Errors whose bodies carry PHI: an invalid update, a bad patch, an unknown id, a wrong If-Match.
    await fhir(patient, { method: 'PUT', body: JSON.stringify({ ...current, birthDate: `${current.birthDate}-not-a-date` }) });
    await fhir(patient, { method: 'PATCH', body: JSON.stringify([{ op: 'test', path: '/name/0/family', value: 'nobody' }]) });
    await fhir(patient, { method: 'PUT', headers: { 'if-match': 'W/"99"' }, body: JSON.stringify(current) });
    await fhir(`${patient}x`);
    await fhir('Patient/_history?_since=not-a-date');
    await fhir('', { method: 'POST', body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...current, gender: 42 }, request: { method: 'PUT', url: patient } }] }) });
  }
  await fhir('_history?_count=500');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  assert.ok(output.length > 0, 'the server logged');
  assert.ok(output.split('\n').some((l) => l.includes('"msg":"fhir"')), 'request logging was on (debug)');
  assert.ok(phi.size > 20, `${phi.size} PHI values to look for`);
  // A value is found when it stands on its own. An all-digit value (a postal code such as 01085) turns up by
  // chance inside longer tokens: pino's epoch-millisecond "time", a duration's decimals (12.01013), the hex
  // of a request id or ETag (a01013f); so digits, letters or a decimal point beside it make it part of
  // something else. Other values (Synthea names carry digits: Ana972) only need digits not beside them.
  const escape = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alone = (v: string) => /^[0-9]+$/.test(v)
    ? new RegExp(`(?<![0-9A-Za-z.])${v}(?![0-9A-Za-z])`)
    : new RegExp(`(?<![0-9])${escape(v)}(?![0-9])`);
  // Each finding is shown with the text around it, so a failure says which log line carried it.
  const found = [...phi].flatMap((v) => {
    const m = alone(v).exec(output);
    return m ? [`${v} in …${output.slice(Math.max(0, m.index - 80), m.index + v.length + 40)}…`] : [];
  });
  assert.deepEqual(found, [], 'PHI found in the log');
});
