// De-identification cost per resource (issue budget: ≲30 µs per Synthea resource, it runs on every write).
// Loads Synthea patients (ids and references as the server stores them: urn:uuid → Type/id), then times
// deidentify() + JSON.stringify (what the write path does) over every resource, several rounds; also the
// process CPU time of the transform alone (wall time is unreliable on a shared machine).
// Usage: node --import tsx bench/deid.ts [DIR=.fixtures/synthea/small] [FILES=100] [ROUNDS=5]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deidentify } from '../src/deid/safe-harbor.js';
import { Pseudonyms } from '../src/deid/pseudonym.js';

const dir = process.argv[2] ?? '.fixtures/synthea/small';
const maxFiles = Number(process.argv[3] ?? 100);
const rounds = Number(process.argv[4] ?? 5);

interface Item { resource: Record<string, unknown>; compartments: string[] }

function load(): Item[] {
  const items: Item[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).slice(0, maxFiles)) {
    const bundle = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { entry: Array<{ fullUrl: string; resource: Record<string, unknown> }> };
    const ids = new Map<string, string>();
    for (const e of bundle.entry) ids.set(e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`);
    const text = JSON.stringify(bundle.entry.map((e) => e.resource)).replace(/"urn:uuid:([0-9a-f-]{36})"/g, (m, u) => {
      const r = ids.get(`urn:uuid:${u}`);
      return r ? `"${r}"` : m;
    });
    const resources = JSON.parse(text) as Array<Record<string, unknown>>;
    const patient = resources.find((r) => r.resourceType === 'Patient');
    for (const r of resources) {
      const inCompartment = r.resourceType !== 'Organization' && r.resourceType !== 'Practitioner';
      items.push({ resource: r, compartments: inCompartment && patient ? [`Patient/${patient.id}`] : [] });
    }
  }
  return items;
}

const items = load();
const bytes = items.reduce((n, i) => n + JSON.stringify(i.resource).length, 0);
const p = new Pseudonyms(Buffer.from('bench-key-bench-key-bench-key-0123456789'), 'bench', 'default');
const now = new Date();
for (const mode of ['safe-harbor', 'date-shift'] as const) {
  let sink = 0;
  for (const it of items.slice(0, 2000)) sink += JSON.stringify(deidentify(it.resource, it.compartments, { mode, pseudonyms: p, now })?.resource).length;
  const transform: number[] = [];
  const total: number[] = [];
  const cpuTransform: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // CPU time of the transform alone (no per-item clock reads), robust when the machine is shared.
    const c0 = process.cpuUsage();
    for (const it of items) deidentify(it.resource, it.compartments, { mode, pseudonyms: p, now });
    const c = process.cpuUsage(c0);
    cpuTransform.push((c.user + c.system) / items.length);
    let tTransform = 0n;
    let tTotal = 0n;
    for (const it of items) {
      const t0 = process.hrtime.bigint();
      const d = deidentify(it.resource, it.compartments, { mode, pseudonyms: p, now });
      const t1 = process.hrtime.bigint();
      if (d) sink += JSON.stringify(d.resource).length;
      const t2 = process.hrtime.bigint();
      tTransform += t1 - t0;
      tTotal += t2 - t0;
    }
    transform.push(Number(tTransform) / 1e3 / items.length);
    total.push(Number(tTotal) / 1e3 / items.length);
  }
  const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] * 100) / 100;
  console.log(JSON.stringify({
    mode, resources: items.length, avgBytes: Math.round(bytes / items.length), rounds,
    usPerResourceTransform: median(transform), usPerResourceWithStringify: median(total), cpuUsPerResourceTransform: median(cpuTransform), sink: sink > 0,
  }));
}
