// Shared pieces of the benchmarks (bench/run.ts runs them): the test data, a server child process started
// like `npm start` (DATA_DIR, PORT, AUTH=off, LOG_LEVEL=warn) and stopped again, CPU and memory read
// from /proc (this box has 2 cores shared by Node and PostgreSQL, so CPU seconds say more than wall
// time when something else runs too), and one JSON result line per benchmark.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { freePort } from '../src/ports.js';
import { join, resolve } from 'node:path';
import { startArgs } from '../scripts/start-args.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const BENCH_DIR = join(ROOT, '.bench');
export const FIXTURES = join(ROOT, '.fixtures');
/** The data dir `bench/import.ts` leaves loaded with synthea shared + large (reused by read and startup). */
/** The loaded data dir; BENCH_LOADED_DIR points read/search benchmarks at a copy while an import benchmark rebuilds this one. */
export const LOADED_DIR = process.env.BENCH_LOADED_DIR ?? join(BENCH_DIR, 'import-data');

export interface Goal {
  metric: string;
  value: number;
  goal: string;
  ok: boolean;
}

export interface BenchResult {
  name: string;
  metrics: Record<string, number | string>;
  goals: Goal[];
  notes?: string[];
}

/** The result line bench/run.ts reads: the last stdout line, prefixed so it is easy to find. */
export function report(result: BenchResult): void {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

export const atLeast = (metric: string, value: number, goal: number): Goal => ({ metric, value, goal: `≥ ${goal}`, ok: value >= goal });
export const atMost = (metric: string, value: number, goal: number): Goal => ({ metric, value, goal: `≤ ${goal}`, ok: value <= goal });

/** Unpacks ../shared/data into .fixtures (idempotent). */
export function fixtures(): string {
  const script = resolve(ROOT, '../shared/data/unpack.sh');
  if (!existsSync(join(FIXTURES, 'synthea/large'))) {
    if (!existsSync(script)) throw new Error(`no test data: ${script} is missing`);
    const r = spawnSync(script, [FIXTURES], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('unpacking the test data failed');
  }
  return join(FIXTURES, 'synthea');
}

export function freshDir(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

export { freePort };

/** utime + stime of a process (threads included) in seconds; with `children`, also of its reaped children. */
export function cpuSeconds(pid: number, children = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL cluster in a data dir: postmaster, its live backends and the ones that exited. */
export function postgresCpu(dataDir: string): number {
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return 0;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  let total = cpuSeconds(postmaster, true);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (ppid === postmaster) total += cpuSeconds(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

/** Peak resident set (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

export function serverEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  return { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', AUTH: 'off', LOG_LEVEL: 'warn', DATABASE_URL: '', NODE_ENV: 'development' };
}

export interface RunningServer {
  child: ChildProcess;
  port: number;
  base: string;
  dataDir: string;
  /** Milliseconds from spawn to the first /healthz 200. */
  readyMs: number;
  stop(): Promise<void>;
}

export async function waitHealthy(port: number, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was healthy`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('server did not become healthy');
}

/** SIGTERM and wait; a server that hangs is killed and its embedded PostgreSQL stopped by pid. */
async function stopChild(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 20_000));
  if (await Promise.race([exited.then(() => true), timer])) return;
  child.kill('SIGKILL');
  await exited;
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGINT'); // fast shutdown
    } catch {
      /* already gone */
    }
  }
}

/** Servers started here and not yet stopped: stopped too when the benchmark is interrupted. */
const live = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([...live].map((stop) => stop())).then(() => process.exit(130));
  });
}

/** `npm start` on a data dir (src/main.ts through tsx), resolved once /healthz answers 200. */
export async function startServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, startArgs, { cwd: ROOT, env: { ...serverEnv(dataDir, port), ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = async () => {
    live.delete(stop);
    await stopChild(child, dataDir);
  };
  live.add(stop);
  try {
    await waitHealthy(port, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, port, base: `http://127.0.0.1:${port}/fhir`, dataDir, readyMs: Math.round(performance.now() - t0), stop };
}

/** Runs `fhirgate …` to completion on a data dir (no timing), failing on a non-zero exit. */
export function cli(dataDir: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['bin/fhirgate.js', ...args], { cwd: ROOT, env: { ...serverEnv(dataDir, 0) }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`fhirgate ${args[0]} failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** A data dir holding synthea shared + large, made by the import benchmark or, failing that, here. */
export function loadedDataDir(): string {
  if (existsSync(join(LOADED_DIR, '.loaded'))) return LOADED_DIR;
  // Never wipe a data dir someone else filled (BENCH_LOADED_DIR may point at any loaded database).
  if (existsSync(LOADED_DIR) && readdirSync(LOADED_DIR).length > 0 && LOADED_DIR !== join(BENCH_DIR, 'import-data')) {
    throw new Error(`${LOADED_DIR} holds data but no .loaded marker: refusing to replace it`);
  }
  const data = fixtures();
  freshDir(LOADED_DIR);
  cli(LOADED_DIR, ['import', '--keep-ids', join(data, 'shared'), join(data, 'large')]);
  spawnSync('touch', [join(LOADED_DIR, '.loaded')]);
  return LOADED_DIR;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `fn` against the embedded database of a data dir (started here if no server runs on it). */
export async function withDatabase<T>(dataDir: string, fn: (query: (sql: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>) => Promise<T>): Promise<T> {
  const { startEmbedded } = await import('../src/store/embedded.js');
  const { createLogger } = await import('../src/log.js');
  const pg = (await import('pg')).default;
  const h = await startEmbedded(dataDir, createLogger('silent'));
  const stop = async () => {
    live.delete(stop);
    await h.stop();
  };
  live.add(stop);
  const client = new pg.Client({ connectionString: h.url });
  await client.connect();
  try {
    return await fn(async (sql, values) => (await client.query(sql, values as unknown[])).rows);
  } finally {
    await client.end();
    await stop();
  }
}
