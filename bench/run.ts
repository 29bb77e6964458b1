// `npm run bench`: runs each benchmark script in turn (each a child process, so one's memory and
// servers never leak into the next) and prints a summary table of their figures against the goals.
// The foundation's own come first, in an order where later ones reuse earlier data (import leaves the
// loaded data dir that read and startup use); then every other bench/*.ts, alphabetically.
// Run: npm run bench [-- --only import,read] [-- --list]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type BenchResult } from './lib.js';

const FIRST = ['import', 'http-transactions', 'read', 'startup'];
const NOT_BENCHMARKS = new Set(['run', 'lib']);

const argv = process.argv.slice(2);
const only = argv.flatMap((a, i) => (argv[i - 1] === '--only' ? a.split(',') : a.startsWith('--only=') ? a.slice(7).split(',') : []));
const found = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((n) => !NOT_BENCHMARKS.has(n));
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

function runOne(name: string): Promise<{ result: BenchResult; code: number | null; seconds: number }> {
  const t0 = performance.now();
  process.stderr.write(`\n=== bench/${name}.ts\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    process.stderr.write(d);
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ result: resultOf(name, out), code, seconds: (performance.now() - t0) / 1000 })));
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
