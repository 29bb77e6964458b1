// `npm run bench`: runs each benchmark script in turn (each a child process, so one's memory and
// servers never leak into the next) and prints a summary table of their figures against the goals.
// The foundation's own come first, in an order where later ones reuse earlier data (import leaves the
// loaded data dir that read and startup use); then every other bench/*.ts, alphabetically.
// Run: npm run bench [-- --only import,read] [-- --list]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type BenchResult } from './lib.js';
import { benchDatabase } from './pg.js';

const FIRST = ['import', 'http-transactions', 'read', 'startup'];

/** A benchmark script says how it is run in its header (`// Run: … bench/NAME.ts …` or `// Usage: …`); helpers (lib, pg) do not. */
function runLine(name: string): string | undefined {
  const head = readFileSync(join(ROOT, 'bench', `${name}.ts`), 'utf8').split('\n').slice(0, 20);
  return head.find((l) => /^\/\/ (Run|Usage):/.test(l) && l.includes(`bench/${name}.ts`));
}

const argv = process.argv.slice(2);
const only = argv.flatMap((a, i) => (argv[i - 1] === '--only' ? a.split(',') : a.startsWith('--only=') ? a.slice(7).split(',') : []));
const found = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((n) => n !== 'run' && runLine(n));
const ordered = [...FIRST.filter((n) => found.includes(n)), ...found.filter((n) => !FIRST.includes(n)).sort()];
const selected = only.length ? ordered.filter((n) => only.includes(n)) : ordered;
for (const n of only) if (!found.includes(n)) throw new Error(`no benchmark '${n}'; there are: ${ordered.join(', ')}`);
if (argv.includes('--list')) {
  process.stdout.write(ordered.join('\n') + '\n');
  process.exit(0);
}

/** A script's result: the BENCH_RESULT line (bench/lib.ts), else the last JSON object it printed. */
function resultOf(name: string, stdout: string): BenchResult {
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (line) return JSON.parse(line.slice(13)) as BenchResult;
  for (let at = stdout.lastIndexOf('{'); at >= 0; at = stdout.lastIndexOf('{', at - 1)) {
    if (at > 0 && stdout[at - 1] !== '\n') continue;
    try {
      const value = JSON.parse(stdout.slice(at).trim().split('\n}\n')[0]) as Record<string, unknown>;
      const metrics: Record<string, number | string> = {};
      const flat = (o: Record<string, unknown>, prefix: string) => {
        for (const [k, v] of Object.entries(o)) {
          if (typeof v === 'number' || (typeof v === 'string' && v.length < 40)) metrics[prefix + k] = v;
          else if (v && typeof v === 'object' && !Array.isArray(v)) flat(v as Record<string, unknown>, `${prefix}${k}.`);
        }
      };
      flat(value, '');
      return { name, metrics, goals: [] };
    } catch {
      /* not JSON from here: look further back */
    }
  }
  return { name, metrics: {}, goals: [], notes: ['printed no result'] };
}

async function runOne(name: string): Promise<{ result: BenchResult; code: number | null; seconds: number }> {
  const t0 = performance.now();
  process.stderr.write(`\n=== bench/${name}.ts\n`);
  // Scripts run as `DATABASE_URL=… node …` get a throwaway embedded PostgreSQL of their own.
  const db = runLine(name)?.includes('DATABASE_URL=') && !process.env.DATABASE_URL ? await benchDatabase() : undefined;
  const env = db ? { ...process.env, DATABASE_URL: db.url } : process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  // An interrupted run interrupts the benchmark, which stops the servers it started (bench/lib.ts).
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    process.stderr.write(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  await db?.stop();
  return { result: resultOf(name, out), code, seconds: (performance.now() - t0) / 1000 };
}

const rows: string[][] = [];
let failed = false;
for (const name of selected) {
  const { result, code, seconds } = await runOne(name);
  if (code !== 0) {
    failed = true;
    rows.push([name, 'exit code', String(code), '0', 'FAIL']);
  }
  const goals = new Map(result.goals.map((g) => [g.metric, g]));
  for (const g of result.goals) if (!(g.metric in result.metrics)) rows.push([name, g.metric, String(g.value), g.goal, g.ok ? 'ok' : 'MISS']);
  for (const [metric, value] of Object.entries(result.metrics)) {
    const g = goals.get(metric);
    rows.push([name, metric, String(value), g?.goal ?? '', g ? (g.ok ? 'ok' : 'MISS') : '']);
  }
  for (const n of result.notes ?? []) rows.push([name, 'note', n.slice(0, 100), '', '']);
  rows.push([name, 'benchmark seconds', seconds.toFixed(0), '', '']);
}

const head = ['benchmark', 'metric', 'value', 'goal', ''];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const fmt = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
process.stdout.write(`\n${fmt(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(fmt).join('\n')}\n`);
process.exit(failed ? 1 : 0);
