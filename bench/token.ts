// Benchmark of the SMART authorization server's two figures (the "Figures"):
//  1. token endpoint: client_credentials with private_key_jwt (RS384 and ES384), tokens/s over HTTP
//     with concurrent clients (target ≥ 300/s); assertions are signed before timing (the client's cost);
//  2. bearer verification: the cost verifyBearer adds to a FHIR request, p50 (target ≤ 0.5 ms), measured
//     in-process and end to end (the same GET /fhir/Patient/ID with AUTH=off and with a bearer token).
// A fresh embedded PostgreSQL (fsync on) in a temp dir, the real app (createApp + mountSmartRoutes).
// Run: node --import tsx bench/token.ts [--tokens N] [--concurrency C] [--reads N]
import { createServer } from 'node:http';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startEmbedded } from '../src/store/embedded.js';
import { createPool } from '../src/store/pool.js';
import { migrate } from '../src/store/migrate.js';
import { createApp } from '../src/http/app.js';
import { registerAll } from '../src/fhir/register.js';
import { startAuthRuntime } from '../src/auth/runtime.js';
import { verifyBearer } from '../src/auth/verify-token.js';
import { signAccessToken } from '../src/auth/tokens.js';
import { mountSmartRoutes } from '../src/http/smart-routes.js';
import { upsertClient } from '../src/store/auth-clients.js';
import type { Db } from '../src/store/session.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const TOKENS = arg('tokens', 3000);
const CONCURRENCY = arg('concurrency', 16);
const READS = arg('reads', 3000);
const log = createLogger('silent');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

// CPU seconds (user + system) of the PostgreSQL cluster: the postmaster and its children, from /proc.
function pgCpuSeconds(dataDir: string): number {
  const pm = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) === pm || Number(f[1]) === pm) ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks / 100;
}
const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

async function serve(config: Config, db: Db, withAuth: boolean) {
  const rt = withAuth ? await startAuthRuntime({ db, config }) : undefined;
  const app = createApp({
    config, db, log, ready: async () => true,
    ...(rt ? { mounts: [(a: import('express').Express) => mountSmartRoutes(a, rt)], authenticate: (h: string | undefined) => verifyBearer(h, rt) } : {}),
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(config.port, '127.0.0.1', r));
  return { rt, close: async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); await rt?.close(); } };
}

async function pool<T>(items: T[], c: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: c }, async () => { while (i < items.length) await fn(items[i++]); }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-bench-token-'));
  chmodSync(dir, 0o755); // as root, the cluster runs as an unprivileged user that must reach its directory
  const pg = await startEmbedded(dir, log);
  const pgPool = createPool(pg.url, 16);
  const db: Db = { pool: pgPool };
  await migrate(pgPool, process.env.MIGRATIONS_DIR); // MIGRATIONS_DIR: a subset, only for experiments
  if (process.env.BENCH_ASYNC_COMMIT) await pgPool.query('alter database fhirgate set synchronous_commit = off');
  registerAll();
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const config = loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent' });
  const tokenUrl = `${config.publicUrl}/auth/token`;
  const keys = await Promise.all((['RS384', 'ES384'] as const).map(async (alg) => {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { alg, kid: alg.toLowerCase(), privateKey, jwk: { ...(await exportJWK(publicKey)), kid: alg.toLowerCase(), alg } };
  }));
  await upsertClient(db, { tenant: 'default', id: 'bench', redirectUris: [], scopes: 'system/*.cruds', jwks: { keys: keys.map((k) => k.jwk) } });
  const srv = await serve(config, db, true);

  const results: Record<string, unknown> = {};
  let token = '';
  for (const k of keys) {
    const now = Math.floor(Date.now() / 1000);
    const bodies = await Promise.all(Array.from({ length: TOKENS }, async () => {
      const a = await new SignJWT({ jti: randomBytes(32).toString('hex') }).setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT' })
        .setIssuer('bench').setSubject('bench').setAudience(tokenUrl).setExpirationTime(now + 290).sign(k.privateKey);
      return new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/*.cruds', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a }).toString();
    }));
    const lat: number[] = [];
    let failed = 0;
    const cpu0 = cpuSeconds();
    const pg0 = pgCpuSeconds(dir);
    const t0 = performance.now();
    await pool(bodies, CONCURRENCY, async (body) => {
      const s = performance.now();
      const r = await fetch(tokenUrl, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const j = (await r.json()) as { access_token?: string };
      if (r.status !== 200) failed++;
      else token = j.access_token!;
      lat.push(performance.now() - s);
    });
    const secs = (performance.now() - t0) / 1000;
    // CPU per token, so the figure survives a machine shared with other work: node (server and, here,
    // the load generator too: an upper bound) plus PostgreSQL; capacity = cores / CPU per token.
    const nodeMs = ((cpuSeconds() - cpu0) * 1000) / TOKENS;
    const pgMs = ((pgCpuSeconds(dir) - pg0) * 1000) / TOKENS;
    results[`token ${k.alg}`] = {
      tokens: TOKENS, failed, tokensPerSecond: Math.round(TOKENS / secs), p50ms: +pct(lat, 0.5).toFixed(2), p99ms: +pct(lat, 0.99).toFixed(2),
      cpuMsPerToken: { node: +nodeMs.toFixed(3), postgres: +pgMs.toFixed(3) },
      capacityTokensPerSecond: Math.round((availableParallelism() * 1000) / (nodeMs + pgMs)),
    };
  }

  // Seed one Patient and measure reads with and without bearer verification.
  const put = await fetch(`${config.fhirBase}/Patient/bench-p1`, { method: 'PUT', body: JSON.stringify({ resourceType: 'Patient', id: 'bench-p1', gender: 'female' }), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' } });
  if (put.status >= 300) throw new Error(`seed: ${put.status} ${await put.text()}`);
  const header = `Bearer ${token}`;
  const srvKeys = srv.rt!.keys;
  const srvRevocations = srv.rt!.revocations;
  const inproc: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const s = process.hrtime.bigint();
    await verifyBearer(header, srv.rt!);
    inproc.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  // The same read against two servers on one database, interleaved so drift hits both alike:
  // this one (bearer verified) and a twin with AUTH=off (no verification at all).
  const offConfig: Config = { ...config, authOff: true, port: config.port + 1 };
  const off = await serve(offConfig, db, false);
  const withBearer: number[] = [];
  const noAuth: number[] = [];
  const cpu = { bearer: 0, off: 0 };
  const once = async (url: string, headers: Record<string, string>, out: number[]) => {
    const s = performance.now();
    const r = await fetch(url, { headers });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`read ${r.status}`);
    out.push(performance.now() - s);
  };
  // Alternating blocks: wall-clock latency per request, and node CPU per request (less sensitive to
  // other load on the machine than wall time).
  const BLOCK = 100;
  for (let i = 0; i < READS; i += BLOCK) {
    let c0 = cpuSeconds();
    for (let j = 0; j < BLOCK; j++) await once(`${config.fhirBase}/Patient/bench-p1`, { authorization: header, accept: 'application/fhir+json' }, withBearer);
    cpu.bearer += cpuSeconds() - c0;
    c0 = cpuSeconds();
    for (let j = 0; j < BLOCK; j++) await once(`http://127.0.0.1:${offConfig.port}/fhir/Patient/bench-p1`, { accept: 'application/fhir+json' }, noAuth);
    cpu.off += cpuSeconds() - c0;
  }
  withBearer.splice(0, READS / 10); // warm-up
  noAuth.splice(0, READS / 10);
  await off.close();
  await srv.close();
  // First sight of each token (signature verified; later requests with it hit the verified cache).
  const cold: number[] = [];
  const grant = { tenant: 'default', clientId: 'bench', role: 'system' as const, scopes: ['system/*.rs'] };
  const fresh = await Promise.all(Array.from({ length: 2000 }, () => signAccessToken({ keys: srvKeys, fhirBase: config.fhirBase }, grant, grant.scopes, 300)));
  for (const t of fresh) {
    const s = process.hrtime.bigint();
    await verifyBearer(`Bearer ${t.token}`, { keys: srvKeys, revocations: srvRevocations, fhirBase: config.fhirBase });
    cold.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  results['verifyBearer in-process, first use of a token'] = { calls: cold.length, p50ms: +pct(cold, 0.5).toFixed(4), p99ms: +pct(cold, 0.99).toFixed(4) };
  results['verifyBearer in-process, same token again'] = { calls: inproc.length, p50ms: +pct(inproc, 0.5).toFixed(4), p99ms: +pct(inproc, 0.99).toFixed(4) };
  results['GET Patient/ID, 1 connection'] = {
    authOffP50ms: +pct(noAuth, 0.5).toFixed(3), bearerP50ms: +pct(withBearer, 0.5).toFixed(3),
    addedP50ms: +(pct(withBearer, 0.5) - pct(noAuth, 0.5)).toFixed(3),
    nodeCpuMsPerRead: { bearer: +((cpu.bearer * 1000) / READS).toFixed(3), authOff: +((cpu.off * 1000) / READS).toFixed(3) },
  };
  console.log(JSON.stringify(results, null, 2));
  await pgPool.end();
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
