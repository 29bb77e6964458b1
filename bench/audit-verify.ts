// `audit verify` throughput (issue: ≥100,000 events/s). Appends N BALP-shaped read events through
// audit.append (batches of 1,000, several connections, so several stripes) into a fresh database on an
// embedded PostgreSQL (fsync on), then times verifyAudit three times: binary COPY streams (stripes split
// over VERIFY_STREAMS connections, default 4 as the CLI) and SHA-256 of every event in Node.
// Wall time depends on what else runs on the machine, so CPU time is reported too, per event: Node's
// own (user + system, including socket reads and GC) and that of the PostgreSQL backends serving the
// COPY streams (from /proc). eventsPerSecondCpuBound = events / max(Node CPU, backend CPU / streams):
// the rate when Node and the backends each have a core; on 2 idle cores the bound is
// 2 / (Node + backend µs per event) at best.
// Usage: node --import tsx bench/audit-verify.ts [EVENTS=200000]
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchDatabase } from './pg.js';
import { createPool } from '../src/store/pool.js';
import { migrate } from '../src/store/migrate.js';
import { withTx } from '../src/store/session.js';
import { appendAudit } from '../src/store/audit.js';
import { restAuditRows } from '../src/audit/request.js';
import { verifyAudit } from '../src/audit/verify.js';
import { loadTrustedKeys } from '../src/audit/signing.js';

const total = Number(process.argv[2] ?? 200_000);
const database = await benchDatabase();
const pool = createPool(database.url, 8);
try {
  await migrate(pool);
  const batch = 1000;
  const t0 = Date.now();
  const jobs: Array<() => Promise<void>> = [];
  for (let done = 0; done < total; done += batch) {
    const n = Math.min(batch, total - done);
    jobs.push(() => withTx({ pool }, { tenant: 'default', role: 'clinician' }, async (tx) => appendAudit(tx, Array.from({ length: n }, (_, i) => restAuditRows({
      actor: { tenant: 'default', role: 'clinician', userId: `user-${i % 50}`, fhirUser: `Practitioner/pr-${i % 50}`, clientId: 'ehr-app', address: '10.1.2.3' },
      method: 'GET', segments: ['Observation', `obs-${done + i}`], params: [], interaction: 'read', type: 'Observation', status: 200,
      requestId: `req-${done + i}`, headers: { ETag: 'W/"1"' }, patients: [`Patient/p-${(done + i) % 5000}`],
    }, { observer: 'fhirgate', address: 'https://fhir.example.org/fhir' })[0]))));
  }
  const workers = Array.from({ length: 6 }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  });
  await Promise.all(workers);
  const appendSeconds = (Date.now() - t0) / 1000;
  const size = await pool.query(`select count(*)::int as n, avg(length(content))::int as bytes, count(distinct stripe)::int as stripes from audit.event`);
  const dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-bench-'));
  const streams = Number(process.env.VERIFY_STREAMS ?? 4);
  const verifyPool = createPool(database.url, streams);
  const held = await Promise.all(Array.from({ length: streams }, () => verifyPool.connect()));
  const backends = await Promise.all(held.map(async (c) => (await c.query('select pg_backend_pid() as pid')).rows[0].pid as number));
  held.forEach((c) => c.release());
  const pgCpu = () => backends.reduce((sum, pid) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return sum + (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (100 Hz)
  }, 0);
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const pg0 = pgCpu();
    const node0 = process.cpuUsage();
    const r = await verifyAudit({ pool: verifyPool }, 'default', { dataDir, trusted: loadTrustedKeys(dataDir), streams });
    const nodeCpu = (process.cpuUsage(node0).user + process.cpuUsage(node0).system) / 1e6;
    const pgSeconds = pgCpu() - pg0;
    runs.push({ ...r, nodeCpu, pgSeconds });
  }
  await verifyPool.end();
  const best = runs.reduce((a, b) => (a.eventsPerSecond > b.eventsPerSecond ? a : b));
  const round = (x: number) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    events: best.events, streams, avgEventBytes: size.rows[0].bytes, stripes: size.rows[0].stripes, appendSeconds, appendPerSecond: Math.round(total / appendSeconds),
    verifyWallSeconds: runs.map((r) => r.seconds), verifyEventsPerWallSecond: runs.map((r) => r.eventsPerSecond),
    nodeCpuSeconds: runs.map((r) => round(r.nodeCpu)), pgBackendCpuSeconds: runs.map((r) => round(r.pgSeconds)),
    eventsPerSecondCpuBound: runs.map((r) => Math.round(r.events / Math.max(r.nodeCpu, r.pgSeconds / streams))),
    nodeCpuUsPerEvent: runs.map((r) => round(r.nodeCpu * 1e6 / r.events)), pgCpuUsPerEvent: runs.map((r) => round(r.pgSeconds * 1e6 / r.events)),
    ok: best.ok,
  }));
} finally {
  await pool.end();
  await database.stop();
}
