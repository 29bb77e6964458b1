// Writes search index rows in the resource's transaction: one statement per call that deletes the rows of
// the given rids from every index table and inserts the new ones from unnest()ed column arrays (data-modifying
// CTEs all see the statement's starting snapshot, so the delete never touches the rows inserted beside it).
// Tables: migrations/010_search_index.sql. A tenant's custom SearchParameters are added here, where the tenant is known.
import type { Tx } from './session.js';
import type { Resource } from 'fhir/r4';
import { extractIndex, extractMore, type ExtractedIndex } from '../search/extract.js';
import { customParamsOf } from '../registry/search-params.js';
import { ensureCustomParams } from './search-params-custom.js';

export interface IndexWrite { rid: string; tenant: string; type: string; index: ExtractedIndex }

const TABLES = ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] as const;
type Table = (typeof TABLES)[number];

/** Column name, element SQL type, and how the stored column is computed from the unnest()ed ones. */
const SPEC: Record<Table, { cols: Array<[string, string]>; select: string; target: string }> = {
  // every table also gets `type` (the resource's type, for row-level security), added below
  sp_token: { cols: [['rid', 'int8'], ['ph', 'int4'], ['pl', 'int4'], ['hh', 'int4'], ['hl', 'int4'], ['c', 'text']],
    target: 'rid, p, h, c', select: 'rid, (ph::int8 << 32) | (pl::int8 & 4294967295), (hh::int8 << 32) | (hl::int8 & 4294967295), c' },
  sp_string: { cols: [['rid', 'int8'], ['ph', 'int4'], ['pl', 'int4'], ['v', 'text'], ['x', 'text']],
    target: 'rid, p, v, x', select: 'rid, (ph::int8 << 32) | (pl::int8 & 4294967295), v, x' },
  sp_reference: { cols: [['rid', 'int8'], ['ph', 'int4'], ['pl', 'int4'], ['ttype', 'text'], ['tid', 'text']],
    target: 'rid, p, ttype, tid', select: 'rid, (ph::int8 << 32) | (pl::int8 & 4294967295), ttype, tid' },
  sp_date: { cols: [['rid', 'int8'], ['ph', 'int4'], ['pl', 'int4'], ['lo', 'int8'], ['hi', 'int8']],
    target: 'rid, p, lo, hi', select: 'rid, (ph::int8 << 32) | (pl::int8 & 4294967295), lo, hi' },
  sp_number: { cols: [['rid', 'int8'], ['ph', 'int4'], ['pl', 'int4'], ['lo', 'float8'], ['hi', 'float8'], ['system', 'text'], ['code', 'text'], ['unit', 'text']],
    target: 'rid, p, lo, hi, system, code, unit', select: 'rid, (ph::int8 << 32) | (pl::int8 & 4294967295), lo, hi, system, code, unit' },
  sp_composite: { cols: [['rid', 'int8'], ['ph', 'int4'], ['pl', 'int4'], ['hh', 'int4'], ['hl', 'int4'], ['lo', 'float8'], ['hi', 'float8'], ['system', 'text'], ['code', 'text'], ['unit', 'text']],
    target: 'rid, p, h, lo, hi, system, code, unit', select: 'rid, (ph::int8 << 32) | (pl::int8 & 4294967295), (hh::int8 << 32) | (hl::int8 & 4294967295), lo, hi, system, code, unit' },
};

for (const t of TABLES) {
  SPEC[t].cols.push(['ty', 'text']);
  SPEC[t].target += ', type';
  SPEC[t].select += ', ty';
}

type Columns = unknown[][];

function columnsOf(items: IndexWrite[]): Record<Table, Columns> {
  const c = Object.fromEntries(TABLES.map((t) => [t, SPEC[t].cols.map(() => [] as unknown[])])) as Record<Table, Columns>;
  for (const { rid, type, index: ix } of items) {
    const [tk, st, rf, dt, nm, cp] = [c.sp_token, c.sp_string, c.sp_reference, c.sp_date, c.sp_number, c.sp_composite];
    const mark = (cols: Columns, n: number) => { for (let i = 0; i < n; i++) cols[cols.length - 1].push(type); };
    mark(tk, ix.token.length); mark(st, ix.string.length); mark(rf, ix.reference.length);
    mark(dt, ix.date.length); mark(nm, ix.number.length); mark(cp, ix.composite.length);
    for (const r of ix.token) { tk[0].push(rid); tk[1].push(r.p[0]); tk[2].push(r.p[1]); tk[3].push(r.h[0]); tk[4].push(r.h[1]); tk[5].push(r.c); }
    for (const r of ix.string) { st[0].push(rid); st[1].push(r.p[0]); st[2].push(r.p[1]); st[3].push(r.v); st[4].push(r.x); }
    for (const r of ix.reference) { rf[0].push(rid); rf[1].push(r.p[0]); rf[2].push(r.p[1]); rf[3].push(r.ttype); rf[4].push(r.tid); }
    for (const r of ix.date) { dt[0].push(rid); dt[1].push(r.p[0]); dt[2].push(r.p[1]); dt[3].push(r.lo); dt[4].push(r.hi); }
    for (const r of ix.number) {
      nm[0].push(rid); nm[1].push(r.p[0]); nm[2].push(r.p[1]); nm[3].push(r.lo); nm[4].push(r.hi); nm[5].push(r.system); nm[6].push(r.code); nm[7].push(r.unit);
    }
    for (const r of ix.composite) {
      cp[0].push(rid); cp[1].push(r.p[0]); cp[2].push(r.p[1]); cp[3].push(r.h[0]); cp[4].push(r.h[1]); cp[5].push(r.lo); cp[6].push(r.hi);
      cp[7].push(r.system); cp[8].push(r.code); cp[9].push(r.unit);
    }
  }
  return c;
}

function deletes(ridParam: string): string[] {
  return TABLES.map((t) => `d_${t} as (delete from fhir.${t} where rid = any(${ridParam}::int8[]))`);
}

async function writeTenant(tx: Tx, tenant: string, items: IndexWrite[]): Promise<void> {
  const values: unknown[] = [items.map((i) => i.rid)];
  const ctes = deletes('$1');
  let tenantParam = '';
  const cols = columnsOf(items);
  for (const t of TABLES) {
    const spec = SPEC[t];
    const arrays = cols[t];
    if (arrays[0].length === 0) continue;
    if (!tenantParam) {
      values.push(tenant);
      tenantParam = `$${values.length}::text`;
    }
    const args = spec.cols.map(([, type], i) => {
      values.push(arrays[i]);
      return `$${values.length}::${type}[]`;
    });
    const names = spec.cols.map(([n]) => n).join(', ');
    ctes.push(`i_${t} as (insert into fhir.${t} (tenant, ${spec.target}) select ${tenantParam}, ${spec.select} from unnest(${args.join(', ')}) as u(${names}))`);
  }
  await tx.query(`with ${ctes.join(',\n')} select 1`, values);
}

/** Replaces the index rows of these resources (delete + insert, one statement per tenant). */
export async function writeIndex(tx: Tx, items: IndexWrite[]): Promise<void> {
  if (items.length === 0) return;
  const byTenant = new Map<string, IndexWrite[]>();
  for (const it of items) {
    let list = byTenant.get(it.tenant);
    if (!list) byTenant.set(it.tenant, (list = []));
    list.push(it);
  }
  for (const [tenant, list] of byTenant) {
    await ensureCustomParams(tx, tenant);
    const withCustom = list.map((it) => {
      const extra = customParamsOf(tenant, it.type);
      if (extra.length === 0) return it;
      const index: ExtractedIndex = { ...it.index, token: [...it.index.token], string: [...it.index.string], reference: [...it.index.reference],
        date: [...it.index.date], number: [...it.index.number], composite: [...it.index.composite] };
      extractMore(index, extra);
      return { ...it, index };
    });
    await writeTenant(tx, tenant, withCustom);
  }
}

/** Removes every index row of these resources (delete, or a resource leaving the current set). */
export async function deleteIndex(tx: Tx, rids: string[]): Promise<void> {
  if (rids.length === 0) return;
  await tx.query(`with ${deletes('$1').join(',\n')} select 1`, [rids]);
}

/**
 * Re-extracts and rewrites the index rows of current resources of one type (or one resource), in batches
 * of 500 by rid: what $reindex runs after custom SearchParameters were activated. Returns how many.
 */
export async function reindexResources(tx: Tx, tenant: string, type: string, id?: string): Promise<number> {
  let after = '0';
  let done = 0;
  for (;;) {
    const r = await tx.query<{ rid: string; content: string }>(
      `select rid::text, content from fhir.resource where tenant = $1 and type = $2 and not deleted and rid > $3::int8
       ${id === undefined ? '' : 'and id = $5'} order by rid limit $4`,
      id === undefined ? [tenant, type, after, 500] : [tenant, type, after, 500, id]);
    if (r.rows.length === 0) return done;
    await writeIndex(tx, r.rows.map((row) => ({ rid: row.rid, tenant, type, index: extractIndex(JSON.parse(row.content) as Resource) })));
    done += r.rows.length;
    after = r.rows[r.rows.length - 1].rid;
  }
}
