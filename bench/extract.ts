// Write-time extraction speed (budget ≈ 20 µs per resource on average, issue "import ≥15,000 res/s"):
// extracts every resource of N Synthea bundles repeatedly and reports µs per resource and rows per resource.
// Run: node --import tsx bench/extract.ts [bundles=20]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { extractIndex } from '../src/search/extract.js';

const dir = join(process.cwd(), '.fixtures/synthea/large');
if (!existsSync(dir)) {
  console.error('unpack the data first: /work/shared/data/unpack.sh .fixtures');
  process.exit(1);
}
const n = Number(process.argv[2] ?? 20);
const resources: Resource[] = [];
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).slice(0, n)) {
  for (const e of JSON.parse(readFileSync(join(dir, f), 'utf8')).entry) resources.push({ ...e.resource, id: e.resource.id ?? String(resources.length) });
}
const byType = new Map<string, { n: number; ns: number; rows: number }>();
let rows = 0;
for (const r of resources) extractIndex(r); // warm-up: compile every expression once
const rounds = 3;
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
for (let k = 0; k < rounds; k++) {
  for (const r of resources) {
    const s = process.hrtime.bigint();
    const ix = extractIndex(r);
    const ns = Number(process.hrtime.bigint() - s);
    const cnt = ix.token.length + ix.string.length + ix.reference.length + ix.date.length + ix.number.length + ix.composite.length;
    rows += cnt;
    const st = byType.get(r.resourceType) ?? { n: 0, ns: 0, rows: 0 };
    st.n++; st.ns += ns; st.rows += cnt;
    byType.set(r.resourceType, st);
  }
}
const total = Number(process.hrtime.bigint() - t0) / 1e3;
const cpu = process.cpuUsage(c0);
const perType = Object.fromEntries([...byType].map(([t, s]) => [t, { count: s.n / rounds, us: +(s.ns / s.n / 1e3).toFixed(1), rows: +(s.rows / s.n).toFixed(1) }]));
console.log(JSON.stringify({ resources: resources.length, usPerResource: +(total / resources.length / rounds).toFixed(2), cpuUsPerResource: +((cpu.user + cpu.system) / resources.length / rounds).toFixed(2), rowsPerResource: +(rows / resources.length / rounds).toFixed(1), perType }, null, 1));
