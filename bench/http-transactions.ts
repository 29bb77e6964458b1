// Benchmark: Synthea patient bundles POSTed as FHIR transactions over HTTP by 4 concurrent clients
// (goal ≥ 2,500 resources/s), on a fresh data dir with the server started like `npm start` (AUTH=off).
// The shared Organizations and Practitioners are loaded first with `fhirgate import`; in each bundle
// their entries become `PUT Type/id` (update in place) instead of POST (which would duplicate them).
// Bundles are read and rewritten before the clock starts, so the client's timed work is sending.
// The small set (the first 100 patients of large, 32,833 resources) by default: enough for a steady rate.
// Run: node --import tsx bench/http-transactions.ts [--set small|large] [--clients 4] [--limit N]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, fixtures, freshDir, cli, startServer, postgresCpu, cpuSeconds, report, atLeast, withDatabase, median } from './lib.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const set = opt('set') ?? 'small';
const clients = Number(opt('clients') ?? 4);
const limit = Number(opt('limit') ?? Infinity);

interface Entry { fullUrl?: string; resource: { resourceType: string; id?: string }; request: { method: string; url: string } }

const data = fixtures();
const files = readdirSync(join(data, set)).filter((f) => f.endsWith('.json')).sort().slice(0, limit);
let resources = 0;
const bodies: string[] = files.map((f) => {
  const b = JSON.parse(readFileSync(join(data, set, f), 'utf8')) as { entry: Entry[] };
  for (const e of b.entry) {
    const t = e.resource.resourceType;
    if ((t === 'Organization' || t === 'Practitioner') && e.resource.id) e.request = { method: 'PUT', url: `${t}/${e.resource.id}` };
  }
  resources += b.entry.length;
  return JSON.stringify(b);
});

const dir = freshDir(join(BENCH_DIR, 'http-data'));
cli(dir, ['migrate']);
const server = await startServer(dir);
let failures = 0;
const notes: string[] = [];
try {
  cli(dir, ['import', '--keep-ids', join(data, 'shared')]); // the embedded cluster of the running server
  const pgCpu0 = postgresCpu(dir);
  const nodeCpu0 = cpuSeconds(server.child.pid!);
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const s = performance.now();
      const r = await fetch(server.base, { method: 'POST', body: bodies[i], headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' } });
      const text = await r.text();
      latencies.push(performance.now() - s);
      if (r.status !== 200) {
        failures++;
        if (notes.length < 3) notes.push(`${files[i]}: ${r.status} ${text.slice(0, 200)}`);
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const pgCpu = postgresCpu(dir) - pgCpu0;
  const nodeCpu = cpuSeconds(server.child.pid!) - nodeCpu0;
  await server.stop();
  const counts = await withDatabase(dir, async (q) => Object.fromEntries((await q(
    `select type, count(*)::int as n from fhir.resource where not deleted and type in ('Patient', 'Observation', 'Organization') group by type`,
  )).map((r) => [r.type as string, r.n as number])));
  const perSecond = Math.round((resources * (1 - failures / bodies.length)) / seconds);
  latencies.sort((a, b) => a - b);
  report({
    name: 'http-transactions',
    metrics: {
      set, bundles: bodies.length, clients, resources, failedBundles: failures, seconds: Math.round(seconds * 100) / 100,
      resourcesPerSecond: perSecond, bundleP50Ms: Math.round(median(latencies)), bundleP99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
      serverCpuSeconds: Math.round(nodeCpu * 10) / 10, postgresCpuSeconds: Math.round(pgCpu * 10) / 10,
      cpuMicrosPerResource: Math.round(((nodeCpu + pgCpu) * 1e6) / resources),
      serverMicrosPerResource: Math.round((nodeCpu * 1e6) / resources), postgresMicrosPerResource: Math.round((pgCpu * 1e6) / resources),
      patients: counts.Patient ?? 0, observations: counts.Observation ?? 0, organizations: counts.Organization ?? 0,
    },
    goals: [atLeast('resourcesPerSecond', perSecond, 2500), { metric: 'failedBundles', value: failures, goal: '0', ok: failures === 0 }],
    notes,
  });
} finally {
  await server.stop();
}
