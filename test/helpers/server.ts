// A real fhirgate server for integration tests: its own database on the test run's PostgreSQL
// (scripts/run-tests.mjs starts one embedded cluster and exports TEST_PG_URL), migrations applied,
// HTTP on a free loopback port. Without TEST_PG_URL it starts an embedded cluster of its own.
import { createServer, type Server } from 'node:http';
import { answerClientErrors } from '../../src/http/client-errors.js';
import { before, after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { migrate } from '../../src/store/migrate.js';
import { startEmbedded } from '../../src/store/embedded.js';
import { createApp, type AppDeps } from '../../src/http/app.js';
import { registerAll } from '../../src/fhir/register.js';
import type { Db } from '../../src/store/session.js';
import { freePort } from './ports.js';
import { loadDeidSettings, setDeidSettings } from '../../src/deid/settings.js';

export interface TestServer {
  baseUrl: string;
  fhirBase: string;
  config: Config;
  db: Db;
  /** A connection to the test database as its owner (for direct SQL in tests). */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** AUTH=off (default true): requests run as the full-access development user. */
  authOff?: boolean;
  env?: Record<string, string>;
  /** Extra wiring (SMART endpoints, authentication) once the server's pieces exist. */
  configure?: (deps: AppDeps) => Promise<Partial<AppDeps>> | Partial<AppDeps>;
}

async function clusterUrl(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.TEST_PG_URL) return { url: process.env.TEST_PG_URL, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-pg-'));
  // 128 MB: the suite's clusters hold small fixtures, and several test processes run at once.
  const h = await startEmbedded(dir, createLogger('silent'), { sharedBuffersMb: 128 });
  return { url: h.url.replace(/\/fhirgate$/, '/postgres'), stop: async () => { await h.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const cluster = await clusterUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = cluster.url.replace(/\/[^/?]+(\?.*)?$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`).catch(() => {});
      await c.end();
      await cluster.stop();
    },
  };
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const port = await freePort();
  // Test servers keep their generated secrets (de-identification key) out of the work tree; a caller
  // that passes DATA_DIR manages that directory and its de-identification settings itself.
  const ownDataDir = !opts.env?.DATA_DIR;
  const dataDir = opts.env?.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'fhirgate-data-'));
  if (ownDataDir) setDeidSettings(loadDeidSettings({ ...process.env, ...opts.env }, dataDir));
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    AUTH: opts.authOff === false ? 'on' : 'off',
    LOG_LEVEL: 'silent',
    PG_POOL_SIZE: '8',
    ...opts.env,
  });
  const log = createLogger('silent');
  const pool: Pool = createPool(database.url, config.poolSize);
  await migrate(pool);
  registerAll();
  let deps: AppDeps = { config, db: { pool, groupSlots: config.groupSlots, kindSlots: { search: config.searchGroupSlots } }, log, ready: async () => true };
  if (opts.configure) deps = { ...deps, ...(await opts.configure(deps)) };
  const server: Server = createServer(createApp(deps));
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    baseUrl: config.publicUrl,
    fhirBase: config.fhirBase,
    config,
    db: deps.db,
    adminUrl: database.url,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
      await database.drop();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A test server and a scratch directory for the files a test file writes, both gone after its tests. */
export function useServerAndDir(prefix: string): { readonly server: TestServer; readonly dir: string } {
  let server: TestServer | undefined;
  let dir: string | undefined;
  before(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return { get server() { return server!; }, get dir() { return dir!; } };
}
