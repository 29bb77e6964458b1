// CONTRACT "Command line", through the real `fhirgate` binary on DATABASE_URL: each command prints exactly one
// JSON object on stdout and exits 0, or one line on stderr (nothing on stdout) and exits non-zero;
// `--tenant T` selects the tenant of every command. Flag handling per command is in test/auth and test/cli.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../helpers/server.js';

let database: { url: string; drop: () => Promise<void> };
let dir: string;
before(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-out-'));
});
after(async () => {
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/fhirgate.js', ...args], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'info' }, encoding: 'utf8', timeout: 60_000,
  });
}

/** Exit 0 and exactly one line on stdout, a JSON object. */
function ok(out: ReturnType<typeof cli>): Record<string, unknown> {
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.split('\n');
  assert.equal(lines.length, 2, `one line: ${out.stdout}`);
  assert.equal(lines[1], '');
  const value = JSON.parse(lines[0]);
  assert.equal(typeof value, 'object');
  assert.ok(value && !Array.isArray(value));
  return value;
}

/** Non-zero exit, nothing on stdout, one `fhirgate: …` line on stderr. */
function fails(out: ReturnType<typeof cli>, message: RegExp): void {
  assert.notEqual(out.status, 0);
  assert.equal(out.stdout, '');
  assert.match(out.stderr, /^fhirgate: [^\n]+\n$/, out.stderr);
  assert.match(out.stderr, message);
}

test('migrate: one JSON object; idempotent (the second run applies nothing and says so)', () => {
  const first = ok(cli('migrate'));
  assert.ok(Array.isArray(first.applied) && typeof first.total === 'number');
  const second = ok(cli('migrate'));
  assert.deepEqual(second.applied, []);
  assert.equal(second.total, first.total);
});

test('import: {"resources":N,"seconds":S}; audit verify: {"events":N,"ok":true}; --tenant selects the tenant; a refused launch prints its error line only (no warning before it)', () => {
  const file = join(dir, 'p.ndjson');
  writeFileSync(file, JSON.stringify({ resourceType: 'Patient', id: 'cli-out-1' }) + '\n');
  const imported = ok(cli('import', file, '--tenant', 'cli-t2'));
  assert.equal(imported.resources, 1);
  assert.equal(typeof imported.seconds, 'number');
  const verified = ok(cli('audit', 'verify'));
  assert.equal(typeof verified.events, 'number');
  assert.equal(verified.ok, true);
  const user = ok(cli('user', 'add', '--username', 'cli-out', '--password', 'pw', '--role', 'auditor', '--tenant=cli-t2'));
  assert.equal(user.tenant, 'cli-t2');
  const client = ok(cli('client', 'add', '--tenant', 'cli-t2', '--id', 'cli-out-app', '--redirect-uri', 'https://a.example/cb'));
  assert.equal(client.tenant, 'cli-t2');
  assert.deepEqual(Object.keys(ok(cli('launch', '--patient', 'cli-out-1', '--tenant', 'cli-t2'))), ['launch']);
  // The launch's user must exist in the selected tenant; the refusal is the one line on stderr (the launch
  // used to warn about the unstored patient first: two lines).
  fails(cli('launch', '--patient', 'cli-out-1', '--user', 'cli-out'), /no user cli-out/);
  assert.equal(ok(cli('audit', 'verify', '--tenant', 'cli-t2')).ok, true);
});

test('client add: no secret and no keys = public; --secret = confidential symmetric; keys = confidential asymmetric', () => {
  assert.equal(ok(cli('client', 'add', '--id', 'pub')).type, 'public');
  assert.equal(ok(cli('client', 'add', '--id', 'sym', '--secret', 's3cret')).type, 'confidential-symmetric');
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-384', kid: 'k1', x: 'hXbwnW3CD-SBCwOxx91fSxFvWd6j-wS9EbAi1S1cF_ERd4q6W6Iz4yZ_U9uqPY2A', y: 'N6-8o6EnbTkLyf8n3H_kMrJ1Sz1lz8X3J-6Gm0uLJ3oc-Il8TpnRZzqgWQ3Ka_c0', alg: 'ES384' }] }));
  const backend = ok(cli('client', 'add', '--id', 'svc', '--jwks-file', jwks, '--scope', 'system/Patient.rs'));
  assert.equal(backend.type, 'confidential-asymmetric');
  assert.equal(ok(cli('client', 'add', '--id', 'svc-url', '--jwks-url', 'https://keys.example/jwks.json')).type, 'confidential-asymmetric');
});

test('every command\'s refusals: one line on stderr, nothing on stdout, non-zero exit', () => {
  fails(cli(), /unknown command/);
  fails(cli('import'), /usage: fhirgate import/);
  fails(cli('import', '--bogus', join(dir, 'x.json')), /unknown option --bogus/);
  fails(cli('client', 'add'), /--id is required/);
  fails(cli('client', 'add', '--id', 'x', '--redirect-uri', 'not a url'), /Invalid URL/); // one line, though it does not name the flag (see report)
  fails(cli('client', 'add', '--id', 'x', '--jwks-file', join(dir, 'missing.json')), /missing\.json/);
  fails(cli('user', 'add', '--username', 'u'), /--password is required/);
  fails(cli('user', 'add', '--username', 'u', '--password', 'p', '--role', 'system'), /--role must be one of clinician, patient, researcher, auditor, admin/);
  fails(cli('user', 'add', '--username', 'u', '--password', 'p', '--role', 'clinician', '--fhir-user', 'Observation/1'), /--fhir-user/);
  fails(cli('launch'), /--patient is required/);
  fails(cli('launch', '--patient', 'a b'), /--patient must be a FHIR id/);
  fails(cli('audit', 'verify', '--tenant', ''), /--tenant/);
});
