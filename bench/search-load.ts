// Loads the Synthea "large" set (565 patient transaction bundles) for bench/search.ts, optionally cloned ×N
// with fresh ids (references kept consistent; the shared Organizations and Practitioners are loaded once),
// straight through the write path's pieces: fhir.resource rows + extractIndex + writeIndex, 2 writers.
// Run: DATABASE_URL=postgres://… node --import tsx bench/search-load.ts [clones=1]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from 'fhir/r4';
import { createPool } from '../src/store/pool.js';
import { migrate } from '../src/store/migrate.js';
import { withTx, type Db } from '../src/store/session.js';
import { extractIndex } from '../src/search/extract.js';
import { writeIndex } from '../src/store/search-index.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL');
const clones = Number(process.argv[2] ?? 1);
const dir = join(process.cwd(), '.fixtures/synthea');
if (!existsSync(join(dir, 'large'))) throw new Error('unpack the data first: /work/shared/data/unpack.sh .fixtures');
const pool = createPool(url, 4);
await migrate(pool);
const db: Db = { pool };
const ctx = { tenant: 'default', role: 'system' as const, scopes: 'system/*.cruds' };

/** Rewrites urn:uuid references to Type/id (and ids to their clone's), as a transaction Bundle's processing would. */
function rewrite(value: unknown, map: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, map));
  if (value && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = k === 'reference' && typeof v === 'string' && map.has(v) ? map.get(v) : rewrite(v, map);
    return o;
  }
  return value;
}

let seq = 0;
async function write(batch: Resource[]): Promise<void> {
  await withTx(db, ctx, async (tx) => {
    const now = Date.now();
    const stamped = batch.map((r) => ({ ...r, meta: { ...r.meta, versionId: '1', lastUpdated: new Date(now + seq++).toISOString() } }) as Resource);
    const indexes = stamped.map((r) => extractIndex(r));
    const ins = await tx.query<{ rid: string }>(
      `insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content)
       select $1, t, i, 1, lu::timestamptz, string_to_array(c, ' '), j
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) with ordinality as u(t, i, lu, c, j, n)
       order by n on conflict (tenant, type, id) do nothing returning rid, type, id`,
      ['default', stamped.map((r) => r.resourceType), stamped.map((r) => r.id), stamped.map((r) => r.meta!.lastUpdated),
        indexes.map((x) => x.compartments.join(' ')), stamped.map((r) => JSON.stringify(r))],
    );
    const byKey = new Map(stamped.map((r, k) => [`${r.resourceType}/${r.id}`, k]));
    await writeIndex(tx, ins.rows.map((row: any) => {
      const k = byKey.get(`${row.type}/${row.id}`)!;
      return { rid: row.rid, tenant: 'default', type: stamped[k].resourceType, index: indexes[k] };
    }));
  });
}

const started = Date.now();
let total = 0;
const queue: Promise<void>[] = [];
async function submit(batch: Resource[]): Promise<void> {
  if (queue.length >= 2) await queue.shift();
  queue.push(write(batch));
  total += batch.length;
}

// Shared Organizations and Practitioners once (their ids are the same in every bundle and clone).
const shared: Resource[] = [];
for (const f of readdirSync(join(dir, 'shared')).filter((f) => f.endsWith('.json'))) {
  const j = JSON.parse(readFileSync(join(dir, 'shared', f), 'utf8'));
  for (const e of j.entry ?? [j]) shared.push((e.resource ?? e) as Resource);
}
const sharedIds = new Set(shared.map((r) => `${r.resourceType}/${r.id}`));
await submit(shared);

const files = readdirSync(join(dir, 'large')).filter((f) => f.endsWith('.json')).sort();
let batch: Resource[] = [];
for (let c = 0; c < clones; c++) {
  for (const f of files) {
    const bundle = JSON.parse(readFileSync(join(dir, 'large', f), 'utf8'));
    const map = new Map<string, string>();
    for (const e of bundle.entry) {
      const r = e.resource as Resource;
      const id = c === 0 ? r.id! : `${r.id}-c${c}`;
      map.set(e.fullUrl, `${r.resourceType}/${sharedIds.has(`${r.resourceType}/${r.id}`) ? r.id : id}`);
    }
    for (const e of bundle.entry) {
      const r = e.resource as Resource;
      if (sharedIds.has(`${r.resourceType}/${r.id}`)) continue;
      const out = rewrite(r, map) as Resource;
      out.id = map.get(e.fullUrl)!.split('/')[1];
      batch.push(out);
      if (batch.length >= 1000) { await submit(batch); batch = []; }
    }
  }
  process.stderr.write(`clone ${c + 1}/${clones}: ${total} resources, ${Math.round(total / ((Date.now() - started) / 1000))}/s\n`);
}
if (batch.length) await submit(batch);
await Promise.all(queue);
const loadSeconds = (Date.now() - started) / 1000;
await pool.query('vacuum analyze');
console.log(JSON.stringify({ resources: total, loadSeconds, perSecond: Math.round(total / loadSeconds), vacuumSeconds: (Date.now() - started) / 1000 - loadSeconds }));
await pool.end();
