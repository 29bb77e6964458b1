// Benchmark: read by id (`GET /fhir/Patient/ID`, `GET /fhir/Observation/ID`) with 32 concurrent connections
// (autocannon), over random ids of the loaded Synthea data (goal ≥ 4,000 requests/s, p99 ≤ 25 ms; with
// audit ≥ 2,500). Then Patient again on a server started with AUDIT=off, to show what the audit costs
// (issue "Compliance": report the figure with and without audit). The load generator runs on the same
// 2 cores as the server and PostgreSQL, so its CPU counts against them.
// Run: node --import tsx bench/read.ts [--seconds 15] [--connections 32]
import { loadedDataDir, startServer, withDatabase, cpuSeconds, postgresCpu, report, atLeast, atMost } from './lib.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const seconds = Number(opt('seconds') ?? 15);
const connections = Number(opt('connections') ?? 32);

interface Histogram { average: number; p50: number; p99: number }
interface CannonResult { requests: Histogram & { total: number }; latency: Histogram; non2xx: number; errors: number; duration: number }
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
// autocannon ships no types; its options and result are described in its README.
const autocannon = (await import('autocannon' as string)).default as Cannon;

const dir = loadedDataDir();
const ids = await withDatabase(dir, async (q) => {
  const pick = async (type: string, n: number) => (await q(`select id from fhir.resource where type = $1 and not deleted order by random() limit $2`, [type, n])).map((r) => r.id as string);
  return { Patient: await pick('Patient', 565), Observation: await pick('Observation', 20000) };
});

type Kind = 'Patient' | 'Observation';

/** `seconds` of reads of `types` against a server on the data dir, started with `env`. */
async function measure(env: Record<string, string>, types: Kind[], prefix: string, result: Record<string, number>): Promise<void> {
  const server = await startServer(dir, env);
  try {
    const run = (type: Kind, duration: number) => autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections,
      duration,
      requests: [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/fhir/${type}/${ids[type][Math.floor(Math.random() * ids[type].length)]}` }) }],
    });
    for (const type of types) await run(type, 3); // warm-up: JIT, connection pool, PostgreSQL's buffers
    for (const type of types) {
      const pg0 = postgresCpu(dir);
      const node0 = cpuSeconds(server.child.pid!);
      const r = await run(type, seconds);
      const pgCpu = postgresCpu(dir) - pg0;
      const nodeCpu = cpuSeconds(server.child.pid!) - node0;
      const k = prefix + type.toLowerCase();
      result[`${k}RequestsPerSecond`] = Math.round(r.requests.total / r.duration);
      result[`${k}P50Ms`] = r.latency.p50;
      result[`${k}P99Ms`] = r.latency.p99;
      result[`${k}Non2xx`] = r.non2xx + r.errors;
      result[`${k}NodeCpuMicrosPerRequest`] = Math.round((nodeCpu * 1e6) / Math.max(1, r.requests.total));
      result[`${k}PostgresCpuMicrosPerRequest`] = Math.round((pgCpu * 1e6) / Math.max(1, r.requests.total));
    }
  } finally {
    await server.stop();
  }
}

const result: Record<string, number> = {};
await measure({}, ['Patient', 'Observation'], '', result);
await measure({ AUDIT: 'off' }, ['Patient'], 'noAudit_', result);
const errors = result.patientNon2xx + result.observationNon2xx + result.noAudit_patientNon2xx;
report({
  name: 'read',
  metrics: { connections, seconds, ...result },
  goals: [
    atLeast('patientRequestsPerSecond', result.patientRequestsPerSecond, 4000),
    atMost('patientP99Ms', result.patientP99Ms, 25),
    atLeast('observationRequestsPerSecond', result.observationRequestsPerSecond, 4000),
    atMost('observationP99Ms', result.observationP99Ms, 25),
    atLeast('patientRequestsPerSecond (with audit, issue Compliance)', result.patientRequestsPerSecond, 2500),
    { metric: 'errors', value: errors, goal: '0', ok: errors === 0 },
  ],
});
