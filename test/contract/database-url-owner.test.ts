// CONTRACT "Start" / README "Configuration": DATABASE_URL may name a role that owns its database and may
// create roles but is not a superuser (RDS, Cloud SQL). `fhirgate migrate` applies every migration as that
// role, twice without change (idempotent), the other commands and the server run on it. Each test runs on a
// PostgreSQL cluster of its own: the request roles are cluster-wide, and whoever created them matters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded } from '../../src/store/embedded.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/ports.js';
import { startArgs } from '../../scripts/start-args.js';

function cli(url: string, ...args: string[]) {
  return spawnSync(process.execPath, ['bin/fhirgate.js', ...args], { env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000 });
}

/**
 * A fresh cluster; `fn` gets a function making a database owned by a new non-superuser CREATEROLE role, and one
 * running a statement as the cluster's superuser (what a managed instance's administrator can do).
 */
async function withCluster(fn: (ownedDatabase: () => Promise<string>, asAdmin: (sql: string) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-owner-pg-'));
  const h = await startEmbedded(dir, createLogger('silent'), { sharedBuffersMb: 32 });
  const su = new pg.Client({ connectionString: h.url });
  await su.connect();
  try {
    await fn(async () => {
      const role = `own_${randomBytes(4).toString('hex')}`;
      const db = `o_${randomBytes(5).toString('hex')}`;
      await su.query(`create role ${role} login password 'pw' nosuperuser createrole nocreatedb`);
      await su.query(`create database ${db} owner ${role}`);
      return h.url.replace(/\/\/[^@]+@/, `//${role}:pw@`).replace(/\/[^/?]+(\?.*)?$/, `/${db}`);
    }, async (sql) => {
      await su.query(sql);
    });
  } finally {
    await su.end();
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('DATABASE_URL as a non-superuser owner with CREATEROLE: migrate (twice), user add, client add, launch, audit verify, the server', { timeout: 60_000 }, async () => {
  await withCluster(async (ownedDatabase) => {
    const url = await ownedDatabase();
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const { rows } = await check.query('select rolsuper from pg_roles where rolname = current_user');
    await check.end();
    assert.equal(rows[0].rolsuper, false);

    const first = cli(url, 'migrate');
    assert.equal(first.status, 0, first.stderr);
    const m1 = JSON.parse(first.stdout);
    assert.ok(m1.total > 0);
    const second = cli(url, 'migrate');
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout).applied, [], 'a second migrate applies nothing');

    const u = cli(url, 'user', 'add', '--username', 'owner-test', '--password', 'pw', '--role', 'clinician');
    assert.equal(u.status, 0, u.stderr);
    const c = cli(url, 'client', 'add', '--id', 'owner-app', '--redirect-uri', 'https://a.example/cb');
    assert.equal(c.status, 0, c.stderr);
    const l = cli(url, 'launch', '--patient', 'p1');
    assert.equal(l.status, 0, l.stderr);
    const v = cli(url, 'audit', 'verify');
    assert.equal(v.status, 0, v.stderr);
    assert.equal(JSON.parse(v.stdout).ok, true);

    // The server on the same URL: requests switch into the request roles the owner created (SET LOCAL ROLE).
    const port = await freePort();
    const server = spawn(process.execPath, startArgs, {
      env: { ...process.env, DATABASE_URL: url, PORT: String(port), AUTH: 'off', LOG_LEVEL: 'silent' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    server.stderr!.on('data', (d) => (errors += d));
    const exited = new Promise<number | null>((r) => server.on('exit', (code) => r(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let t0 = Date.now(); ; ) {
        const h = await fetch(`${base}/healthz`).then((r) => r.status, () => 0);
        if (h === 200) break;
        assert.ok(Date.now() - t0 < 20_000, `not healthy: ${errors.slice(-500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const put = await fetch(`${base}/fhir/Patient/owner-1`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'owner-1' }) });
      assert.equal(put.status, 201, await put.text());
      assert.equal((await fetch(`${base}/fhir/Patient?_id=owner-1`)).status, 200);
    } finally {
      server.kill('SIGTERM');
      assert.equal(await exited, 0, errors.slice(-500));
    }
  });
});

// A second fhirgate database on the same managed instance, owned by another non-superuser role: the request
// roles (fhirgate_clinician, …) already exist, created by the first owner, and on PostgreSQL 16+ only a holder
// of ADMIN OPTION may grant them (src/store/migrate-roles.ts). Before any migration runs, `migrate` refuses in
// one line naming the GRANT an administrator must run; once it has, the second database migrates.
test('a second non-superuser owner on the same cluster: refused with the GRANT to run, then migrates once granted', { timeout: 90_000 }, async () => {
  await withCluster(async (ownedDatabase, asAdmin) => {
    const first = cli(await ownedDatabase(), 'migrate');
    assert.equal(first.status, 0, first.stderr);
    const url = await ownedDatabase();
    const refused = cli(url, 'migrate');
    assert.equal(refused.status, 1, refused.stdout);
    assert.equal(refused.stdout, '');
    const lines = refused.stderr.trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr);
    const grant = /have an administrator run: (GRANT .+ WITH ADMIN OPTION)$/.exec(lines[0]);
    assert.ok(grant, lines[0]);
    assert.match(grant[1], /fhirgate_clinician/);
    await asAdmin(grant[1]);
    const second = cli(url, 'migrate');
    assert.equal(second.status, 0, second.stderr);
    assert.ok(JSON.parse(second.stdout).applied.length > 0);
  });
});
