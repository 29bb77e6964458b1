// Benchmark: the least CPU a stored resource can cost with the work the issues require of every write, each
// step measured alone (issue "Foundation": import ≥ 15,000 res/s, i.e. at most 133 µs of CPU per resource on
// these 2 cores; issue "Compliance": the de-identified copy, searchable, in the same transaction).
// Node, one thread, over real Synthea resources (warm, after a first pass): parse, R4 validation, search
// index extraction, the de-identified copy (de-identification, its text and its own index), COPY encoding.
// PostgreSQL, one backend's CPU (/proc), no row-level security, no audit, no constraint: COPY of the staged
// rows, the resource and index rows as bare heap rows (no btree at all), the full-text documents, and then the
// same index rows into tables with their real btrees (migrations/010). The sum of the floors is a lower bound
// of what any layout of these tables costs per resource; the figures of bench/import.ts are the real thing.
// Run: node --import tsx bench/write-floor.ts [--bundles 20]
import { readdirSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { BENCH_DIR, fixtures, freshDir, cli, cpuSeconds, report, withDatabase } from './lib.js';
import { parseJson } from '../src/json/parse.js';
import { stringifyJson } from '../src/json/stringify.js';
import { validateResource } from '../src/fhir/validation/validate.js';
import { extractIndex } from '../src/search/extract.js';
import { deidRowOf } from '../src/deid/copy.js';
import { keyIdOf, setDeidSettings } from '../src/deid/settings.js';
import { indexFields, stageLine, INDEX_COLUMNS } from '../src/store/stage-text.js';

const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
const bundles = Number(opt('bundles') ?? 20);

const key = randomBytes(32);
setDeidSettings({ mode: 'safe-harbor', key, keyId: keyIdOf(key), k: 5 });

const dir = join(fixtures(), 'small');
const texts: string[] = [];
for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort().slice(0, bundles)) {
  const b = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { entry: Array<{ resource: Resource }> };
  for (const e of b.entry) texts.push(JSON.stringify({ ...e.resource, meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00.000Z' } }));
}
const n = texts.length;
const micros = (t0: number) => Math.round(((performance.now() - t0) * 1000 / n) * 10) / 10;

// Node: each step over every resource, after one warm-up pass of all of them.
const steps = {
  parse: (t: string) => parseJson(t) as Resource,
  validate: (r: Resource) => validateResource(r, { mode: 'update' }),
  extract: (r: Resource) => extractIndex(r),
  deidCopy: (r: Resource) => deidRowOf('default', r, 1, extractIndex(r).compartments),
};
const resources = texts.map(steps.parse);
for (const r of resources) { steps.validate(r); steps.deidCopy(r); }
const node: Record<string, number> = {};
let t0 = performance.now();
for (const t of texts) steps.parse(t);
node.parseUs = micros(t0);
t0 = performance.now();
for (const r of resources) steps.validate(r);
node.validateUs = micros(t0);
t0 = performance.now();
const indexes = resources.map(steps.extract);
node.extractUs = micros(t0);
t0 = performance.now();
const copies = resources.map(steps.deidCopy);
node.deidCopyUs = Math.round((micros(t0) - node.extractUs) * 10) / 10; // deidRowOf re-extracts the source's compartments: not its own cost
t0 = performance.now();
const lines: string[] = [];
const deidLines: string[] = [];
resources.forEach((r, i) => {
  lines.push(stageLine({ type: r.resourceType, id: r.id!, version: 1, lastUpdated: '2026-01-01T00:00:00Z', compartments: indexes[i].compartments, content: stringifyJson(r) }, indexFields(indexes[i])));
  const c = copies[i];
  if (c) deidLines.push(stageLine({ type: c.type, id: c.id, version: 1, lastUpdated: '2026-01-01T00:00:00Z', compartments: c.compartments, content: c.content }, indexFields(c.index)));
});
node.encodeUs = micros(t0);

// PostgreSQL: a scratch schema in a fresh cluster, the superuser's one backend.
const data = freshDir(join(BENCH_DIR, 'floor-data'));
cli(data, ['migrate']);
const TABLES: Array<[string, string]> = [
  ['sp_token', 'p, h, c'], ['sp_string', 'p, v, x'], ['sp_reference', 'p, ttype, tid'],
  ['sp_date', 'p, lo, hi'], ['sp_number', 'p, lo, hi, system, code, unit'], ['sp_composite', 'p, h, lo, hi, system, code, unit'],
];
const UNNEST: Record<string, string> = {
  sp_token: 's.tk_p, s.tk_h, s.tk_c', sp_string: 's.st_p, s.st_v, s.st_x', sp_reference: 's.rf_p, s.rf_tt, s.rf_ti',
  sp_date: 's.dt_p, s.dt_lo, s.dt_hi', sp_number: 's.nm_p, s.nm_lo, s.nm_hi, s.nm_sy, s.nm_co, s.nm_un',
  sp_composite: 's.cp_p, s.cp_h, s.cp_lo, s.cp_hi, s.cp_sy, s.cp_co, s.cp_un',
};
const pg = await withDatabase(data, async (q) => {
  const pid = Number((await q('select pg_backend_pid() as pid'))[0].pid);
  const cpu = async (sql: string): Promise<number> => {
    const c0 = cpuSeconds(pid);
    await q(sql);
    return Math.round(((cpuSeconds(pid) - c0) * 1e6 / n) * 10) / 10;
  };
  await q('create schema floor');
  await q(`create table floor.stage (deid boolean default true, type text, id text, version integer, last_updated timestamptz, compartments text[], content text,
    ${INDEX_COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')})`);
  await q('create table floor.resource (rid bigserial, deid boolean, type text, id text, content text)');
  for (const [t] of TABLES) {
    await q(`create table floor.${t} (like fhir.${t} including defaults)`);
    await q(`create table floor.${t}_ix (like fhir.${t} including all)`);
  }
  await q('create table floor.sp_text (rid bigint, narrative tsvector, content tsvector)');
  const out: Record<string, number> = {};
  // A server-side COPY of a file the cluster's user can read: the backend's work is the same as over the wire.
  // The identified versions, then their copies (the column list leaves `deid` to its default, true).
  const cols = `(type, id, version, last_updated, compartments, content, ${INDEX_COLUMNS.map(([c]) => c).join(', ')})`;
  const copyFile = `/tmp/fhirgate-floor-${process.pid}.tsv`;
  out.copyStageUs = 0;
  for (const [part, deid] of [[lines, false], [deidLines, true]] as const) {
    writeFileSync(copyFile, part.join(''));
    chmodSync(copyFile, 0o644);
    try {
      out.copyStageUs = Math.round((out.copyStageUs + (await cpu(`copy floor.stage ${cols} from '${copyFile}'`))) * 10) / 10;
    } finally {
      rmSync(copyFile, { force: true });
    }
    if (!deid) await q('update floor.stage set deid = false');
  }
  out.resourceRowsUs = await cpu('insert into floor.resource (deid, type, id, content) select deid, type, id, content from floor.stage');
  let bare = 0;
  let indexed = 0;
  for (const [t, cols] of TABLES) {
    const sel = `select 'default', 0, 'x', u.* from floor.stage s cross join lateral unnest(${UNNEST[t]}) as u`;
    bare += await cpu(`insert into floor.${t} (tenant, rid, type, ${cols}) ${sel}`);
    indexed += await cpu(`insert into floor.${t}_ix (tenant, rid, type, ${cols}) ${sel}`);
  }
  out.indexRowsBareUs = Math.round(bare * 10) / 10;
  out.indexRowsWithBtreesUs = Math.round(indexed * 10) / 10;
  out.textDocumentsUs = await cpu(`insert into floor.sp_text select 0, fhir.text_narrative(d.doc), fhir.text_content(d.doc)
    from floor.resource r cross join lateral (select r.content::jsonb as doc offset 0) d where not r.deid`);
  out.indexRowsPerResource = Math.round(Number((await q(`select (${TABLES.map(([t]) => `(select count(*) from floor.${t})`).join(' + ')})::float8 / ${n} as k`))[0].k) * 10) / 10;
  return out;
});

const nodeFloor = node.parseUs + node.validateUs + node.extractUs + node.deidCopyUs + node.encodeUs;
const pgFloor = pg.copyStageUs + pg.resourceRowsUs + pg.indexRowsBareUs + pg.textDocumentsUs;
const floor = Math.round((nodeFloor + pgFloor) * 10) / 10;
const ceiling = Math.round(2e6 / floor); // 2 cores, everything perfectly parallel, no lock, no commit, no audit
report({
  name: 'write-floor',
  metrics: { resources: n, ...node, ...pg, nodeFloorUs: Math.round(nodeFloor * 10) / 10, postgresFloorUs: Math.round(pgFloor * 10) / 10, floorUs: floor, ceilingResPerSecond: ceiling },
  goals: [],
  notes: [`15,000 res/s on 2 cores allows 133 µs of CPU per resource; the floor of the required work is ${floor} µs (ceiling ${ceiling} res/s)`],
});
