// Benchmark: `fhirgate import --keep-ids` of the Synthea shared + large sets into an empty data dir
// (goal ≥ 15,000 resources/s, peak memory of the import process < 500 MB), then the counts the data's
// README promises (Patient 565, Observation 81,213). Leaves the loaded data dir for read and startup.
// Run: npm run bench -- --only import   (or: node --import tsx bench/import.ts [--workers N] [--set small])
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, LOADED_DIR, fixtures, freshDir, cli, cpuSeconds, peakRssMb, postgresCpu, report, atLeast, atMost, withDatabase, serverEnv } from './lib.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const set = opt('set') ?? 'large';
const extra = opt('workers') ? ['--workers', opt('workers')!] : [];

const data = fixtures();
freshDir(LOADED_DIR);
cli(LOADED_DIR, ['migrate']); // initdb and migrations outside the timing: the import starts on an empty, ready database

const timeFile = join(LOADED_DIR, 'time.txt');
const useTime = existsSync('/usr/bin/time');
const cmd = ['bin/fhirgate.js', 'import', '--keep-ids', ...extra, join(data, 'shared'), join(data, set)];
const t0 = performance.now();
const child = useTime
  ? spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, ...cmd], { cwd: ROOT, env: serverEnv(LOADED_DIR, 0), stdio: ['ignore', 'pipe', 'inherit'] })
  : spawn(process.execPath, cmd, { cwd: ROOT, env: serverEnv(LOADED_DIR, 0), stdio: ['ignore', 'pipe', 'inherit'] });
let stdout = '';
child.stdout!.on('data', (d) => (stdout += d));

/** The node process: the child itself, or the one /usr/bin/time runs. */
function nodePid(): number | undefined {
  if (!useTime) return child.pid;
  try {
    return Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || undefined;
  } catch {
    return undefined;
  }
}
let rss = 0;
let nodeCpu = 0;
let pgCpu = 0;
const poll = setInterval(() => {
  const pid = nodePid();
  if (!pid) return;
  rss = Math.max(rss, peakRssMb(pid));
  nodeCpu = Math.max(nodeCpu, cpuSeconds(pid));
  pgCpu = Math.max(pgCpu, postgresCpu(LOADED_DIR));
}, 100);
const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
clearInterval(poll);
const wall = (performance.now() - t0) / 1000;
if (code !== 0) throw new Error(`import exited with ${code}`);
const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { resources: number; seconds: number; rejected: number; created: number; updated: number; unchanged: number };
const [, user, sys, maxKb] = useTime ? readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) : [0, 0, 0, 0];

const counts = await withDatabase(LOADED_DIR, async (q) => {
  const rows = await q(`select type, count(*)::int as n from fhir.resource where not deleted and tenant = 'default' group by type`);
  return Object.fromEntries(rows.map((r) => [r.type as string, r.n as number]));
});
if (set === 'large') writeFileSync(join(LOADED_DIR, '.loaded'), new Date().toISOString());

const perSecond = Math.round(out.resources / out.seconds);
const total = Object.values(counts).reduce((a, b) => a + b, 0);
const expect = set === 'large' ? { Patient: 565, Observation: 81213 } : { Patient: 100 };
const countsOk = Object.entries(expect).every(([t, n]) => counts[t] === n);
report({
  name: 'import',
  metrics: {
    set, resources: out.resources, created: out.created, updated: out.updated, unchanged: out.unchanged, rejected: out.rejected,
    seconds: out.seconds, resourcesPerSecond: perSecond, processWallSeconds: Math.round(wall * 100) / 100,
    resourcesPerWallSecond: Math.round(out.resources / wall), peakRssMb: rss,
    nodeCpuSeconds: Math.round(nodeCpu * 10) / 10, postgresCpuSeconds: Math.round(pgCpu * 10) / 10,
    cpuMicrosPerResource: Math.round(((nodeCpu + pgCpu) * 1e6) / out.resources),
    nodeMicrosPerResource: Math.round((nodeCpu * 1e6) / out.resources), postgresMicrosPerResource: Math.round((pgCpu * 1e6) / out.resources),
    ...(useTime ? { timeUserSeconds: user, timeSysSeconds: sys, timeMaxRssMb: Math.round(maxKb / 1024) } : {}),
    patients: counts.Patient ?? 0, observations: counts.Observation ?? 0, organizations: counts.Organization ?? 0,
    practitioners: counts.Practitioner ?? 0, storedResources: total,
  },
  goals: [
    atLeast('resourcesPerSecond', perSecond, 15000),
    atMost('peakRssMb', rss, 500),
    { metric: 'counts', value: countsOk ? 1 : 0, goal: JSON.stringify(expect), ok: countsOk },
  ],
});
