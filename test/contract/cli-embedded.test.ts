// CONTRACT "Command line": every command works whether the server is running or not, on the database the
// server uses — here the embedded one in DATA_DIR: before the server ever started (the command creates the
// cluster), while it runs (the command joins the server's cluster and leaves it running), and after it stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startArgs } from '../../scripts/start-args.js';

test('fhirgate on DATA_DIR: before, during and after a server run, on the same data', { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-cli-embedded-'));
  const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '' };
  const cli = (...args: string[]) => {
    const out = spawnSync(process.execPath, ['bin/fhirgate.js', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(out.status, 0, out.stderr);
    return JSON.parse(out.stdout) as Record<string, unknown>;
  };
  try {
    const t0 = Date.now();
    assert.ok((cli('migrate').applied as string[]).length > 0, 'the first command creates the cluster and migrates it');
    const firstMs = Date.now() - t0;
    const port = await freePort();
    const server = spawn(process.execPath, startArgs, { env: { ...env, PORT: String(port), AUTH: 'off' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    server.stderr!.on('data', (d) => (errors += d));
    const exited = new Promise<number | null>((r) => server.on('exit', (c) => r(c)));
    try {
      for (let t = Date.now(); ; ) {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0)) === 200) break;
        assert.ok(Date.now() - t < 20_000, `not healthy: ${errors.slice(-500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(cli('migrate').applied, [], 'a second start and a second migrate apply nothing');
      assert.equal(cli('user', 'add', '--username', 'while-running', '--password', 'pw', '--role', 'auditor').user, 'while-running');
      // The command left the server's database running.
      const put = await fetch(`http://127.0.0.1:${port}/fhir/Patient/emb-1`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'emb-1' }) });
      assert.equal(put.status, 201);
    } finally {
      server.kill('SIGTERM');
      assert.equal(await exited, 0, errors.slice(-500));
    }
    assert.equal(cli('audit', 'verify').ok, true);
    assert.equal(cli('launch', '--patient', 'emb-1', '--user', 'while-running').launch !== undefined, true, 'the server\'s data and the running-time user are there');
    assert.ok(firstMs < 30_000, `first command took ${firstMs} ms`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
