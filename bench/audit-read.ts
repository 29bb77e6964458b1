// Reads by id with and without audit (issue: "With audit on, reads by id still reach ≥2,500 requests/s
// at 32 clients (group commit helps); report with and without audit"). The real server (src/main.ts,
// AUTH=off) on a fresh data dir seeded with Synthea Patients and Observations; autocannon with 32
// connections; then the same runs with audit.append replaced by a no-op in this throwaway database
// (the JS side still builds the events, so "without" slightly flatters neither side). With audit, every
// read is a writing transaction whose COMMIT waits for its WAL flush; commits from the 32 connections
// share flushes (commit_delay/commit_siblings in src/store/embedded.ts) and the stripes (16 chain
// heads per tenant, SKIP LOCKED) keep them from queueing on one lock.
// Run: node --import tsx bench/audit-read.ts [--seconds 10] [--connections 32] [--patients 100]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, FIXTURES, cpuSeconds, freshDir, postgresCpu, startServer, withDatabase } from './lib.js';

const args = process.argv.slice(2);
const opt = (name: string, d: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : d; };
const seconds = Number(opt('seconds', '10'));
const connections = Number(opt('connections', '32'));
const patients = Number(opt('patients', '100'));

interface Histogram { average: number; p50: number; p99: number }
interface CannonResult { requests: Histogram & { total: number }; latency: Histogram; non2xx: number; errors: number; duration: number }
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = (await import('autocannon' as string)).default as Cannon;

type J = { resourceType: string; id: string; subject?: { reference?: string } };

const dir = freshDir(join(BENCH_DIR, 'audit-read-data'));
const server = await startServer(dir, { PG_POOL_SIZE: '32' });
try {
  const ids: Record<'Patient' | 'Observation', string[]> = { Patient: [], Observation: [] };
  await withDatabase(dir, async (q) => {
    for (const f of readdirSync(join(FIXTURES, 'synthea/small')).filter((x) => x.endsWith('.json')).slice(0, patients)) {
      const bundle = JSON.parse(readFileSync(join(FIXTURES, 'synthea/small', f), 'utf8')) as { entry: Array<{ resource: J }> };
      const pat = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
      for (const { resource: r } of bundle.entry) {
        if (r.resourceType !== 'Patient' && r.resourceType !== 'Observation') continue;
        if (r.subject) r.subject.reference = `Patient/${pat.id}`;
        const content = JSON.stringify({ ...r, meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00.000Z' } });
        await q(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content) values ('default', $1, $2, 1, now(), $3, $4)`,
          [r.resourceType, r.id, [`Patient/${pat.id}`], content]);
        ids[r.resourceType as 'Patient' | 'Observation'].push(r.id);
      }
    }
    await q('analyze fhir.resource');
  });
  const run = (type: 'Patient' | 'Observation', duration: number) => autocannon({
    url: `http://127.0.0.1:${server.port}`, connections, duration,
    requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/fhir/${type}/${ids[type][Math.floor(Math.random() * ids[type].length)]}` }) }],
  });
  const measure = async (label: string) => {
    await run('Observation', 3); // warm-up
    const out: Record<string, number> = {};
    for (const type of ['Patient', 'Observation'] as const) {
      const pg0 = postgresCpu(dir);
      const node0 = cpuSeconds(server.child.pid!);
      const r = await run(type, seconds);
      const cpu = postgresCpu(dir) - pg0 + cpuSeconds(server.child.pid!) - node0;
      const k = `${label}${type}`;
      out[`${k}RequestsPerSecond`] = Math.round(r.requests.total / r.duration);
      out[`${k}P50Ms`] = r.latency.p50;
      out[`${k}P99Ms`] = r.latency.p99;
      out[`${k}Non2xx`] = r.non2xx + r.errors;
      out[`${k}CpuMicrosPerRequest`] = Math.round((cpu * 1e6) / Math.max(1, r.requests.total));
    }
    return out;
  };
  const audited = await measure('withAudit');
  const events = await withDatabase(dir, async (q) => {
    const n = Number((await q('select count(*)::int as n from audit.event'))[0].n);
    // Audit off, for comparison only, in this throwaway database: appends become a no-op.
    await q(`create or replace function audit.append(p_events jsonb) returns integer language sql as 'select 0'`);
    return n;
  });
  const plain = await measure('withoutAudit');
  process.stdout.write(`BENCH_RESULT ${JSON.stringify({ name: 'audit-read', metrics: { connections, seconds, resources: ids.Patient.length + ids.Observation.length, auditEventsWritten: events, ...audited, ...plain } })}\n`);
} finally {
  await server.stop();
}
