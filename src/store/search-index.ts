// Writes search index rows in the resource's transaction: one statement per call that deletes the rows of
// the given rids from every index table and inserts the new ones from unnest()ed column arrays (data-modifying
// CTEs all see the statement's starting snapshot, so the delete never touches the rows inserted beside it).
// Tables: migrations/010_search_index.sql; contained resources' rows (with cx) and fhir.sp_contained (014,
// R4 search.html#contained); fhir.sp_text (015, search.html#text/#content), computed by PostgreSQL from the
// stored content of the same rids. A tenant's custom SearchParameters are added here, where the tenant is known.
import type { Tx } from './session.js';
import type { Resource } from 'fhir/r4';
import { extractIndex, extractMore, type ExtractedIndex, type RowSet } from '../search/extract.js';
import { extractContained, extractContainedMore } from '../search/extract-contained.js';
import { customParamsOf } from '../registry/search-params.js';
import { ensureCustomParams } from './search-params-custom.js';

export interface IndexWrite { rid: string; tenant: string; type: string; index: ExtractedIndex }

const TABLES = ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'] as const;
type Table = (typeof TABLES)[number];
/** Tables of rows written only here (never by the bulk path), and every table holding rows of a resource. */
const DERIVED_TABLES = ['sp_contained', 'sp_text'] as const;
const ALL_TABLES = [...TABLES, ...DERIVED_TABLES] as const;

/** Column name, element SQL type, and how the stored column is computed from the unnest()ed ones. */
type Spec = { cols: Array<[string, string]>; select: string; target: string };
const SPEC: Record<Table, Spec> = {
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
/** Contained resources' rows: the same columns plus cx, their position in the container's `contained` array. */
const CONTAINED_SPEC = Object.fromEntries(TABLES.map((t) => [t, {
  cols: [...SPEC[t].cols, ['cx', 'int2']], target: `${SPEC[t].target}, cx`, select: `${SPEC[t].select}, cx`,
}])) as Record<Table, Spec>;

export type Columns = unknown[][];

const emptyColumns = (spec: Record<Table, Spec>): Record<Table, Columns> =>
  Object.fromEntries(TABLES.map((t) => [t, spec[t].cols.map(() => [] as unknown[])])) as Record<Table, Columns>;

/**
 * Appends one resource's index rows, keyed by `key` (its rid, or a batch position), to column arrays in the
 * index tables' column order: token, string, reference, date, number, composite. Shared by the identified
 * index (here) and the de-identified one (deid.ts), whose tables have the same leading columns.
 */
export function pushIndexColumns(c: readonly [Columns, Columns, Columns, Columns, Columns, Columns], key: unknown, ix: RowSet): void {
  const [tk, st, rf, dt, nm, cp] = c;
  for (const r of ix.token) { tk[0].push(key); tk[1].push(r.p[0]); tk[2].push(r.p[1]); tk[3].push(r.h[0]); tk[4].push(r.h[1]); tk[5].push(r.c); }
  for (const r of ix.string) { st[0].push(key); st[1].push(r.p[0]); st[2].push(r.p[1]); st[3].push(r.v); st[4].push(r.x); }
  for (const r of ix.reference) { rf[0].push(key); rf[1].push(r.p[0]); rf[2].push(r.p[1]); rf[3].push(r.ttype); rf[4].push(r.tid); }
  for (const r of ix.date) { dt[0].push(key); dt[1].push(r.p[0]); dt[2].push(r.p[1]); dt[3].push(r.lo); dt[4].push(r.hi); }
  for (const r of ix.number) {
    nm[0].push(key); nm[1].push(r.p[0]); nm[2].push(r.p[1]); nm[3].push(r.lo); nm[4].push(r.hi); nm[5].push(r.system); nm[6].push(r.code); nm[7].push(r.unit);
  }
  for (const r of ix.composite) {
    cp[0].push(key); cp[1].push(r.p[0]); cp[2].push(r.p[1]); cp[3].push(r.h[0]); cp[4].push(r.h[1]); cp[5].push(r.lo); cp[6].push(r.hi);
    cp[7].push(r.system); cp[8].push(r.code); cp[9].push(r.unit);
  }
}

/** Appends one resource's rows (or one contained resource's, with its cx) to the column arrays. */
function pushRows(c: Record<Table, Columns>, rid: string, type: string, ix: RowSet, cx?: number): void {
  const before = TABLES.map((t) => c[t][0].length);
  pushIndexColumns([c.sp_token, c.sp_string, c.sp_reference, c.sp_date, c.sp_number, c.sp_composite], rid, ix);
  TABLES.forEach((t, i) => {
    const cols = c[t];
    const ty = SPEC[t].cols.length - 1; // the `ty` column; cx (contained rows) follows it
    for (let k = before[i]; k < cols[0].length; k++) {
      cols[ty].push(type);
      if (cx !== undefined) cols[ty + 1].push(cx);
    }
  });
}

function deletes(ridParam: string, tables: readonly string[] = ALL_TABLES): string[] {
  return tables.map((t) => `d_${t} as (delete from fhir.${t} where rid = any(${ridParam}::int8[]))`);
}

/**
 * What one write statement does: `replace` deletes the rids' existing rows first (of every table, or of the
 * derived tables only); `builtIn` inserts the resources' own rows; `derived` inserts their contained
 * resources' rows, fhir.sp_contained and fhir.sp_text.
 */
interface WriteParts { replace: 'all' | 'derived' | 'none'; builtIn: boolean; derived: boolean }
const FULL: WriteParts = { replace: 'all', builtIn: true, derived: true };

async function writeTenant(tx: Tx, tenant: string, items: IndexWrite[], parts: WriteParts = FULL): Promise<void> {
  const values: unknown[] = [items.map((i) => i.rid)];
  const ctes = parts.replace === 'none' ? [] : deletes('$1', parts.replace === 'all' ? ALL_TABLES : DERIVED_TABLES);
  let tenantParam = '';
  const param = (v: unknown, type: string): string => {
    values.push(v);
    return `$${values.length}::${type}`;
  };
  const tenantArg = (): string => (tenantParam ||= param(tenant, 'text'));
  const inserts = (prefix: string, spec: Record<Table, Spec>, cols: Record<Table, Columns>): void => {
    for (const t of TABLES) {
      const arrays = cols[t];
      if (arrays[0].length === 0) continue;
      const tp = tenantArg();
      const args = spec[t].cols.map(([, type], i) => param(arrays[i], `${type}[]`));
      const names = spec[t].cols.map(([n]) => n).join(', ');
      ctes.push(`${prefix}_${t} as (insert into fhir.${t} (tenant, ${spec[t].target}) select ${tp}, ${spec[t].select} from unnest(${args.join(', ')}) as u(${names}))`);
    }
  };
  if (parts.builtIn) {
    const top = emptyColumns(SPEC);
    for (const { rid, type, index } of items) pushRows(top, rid, type, index);
    inserts('i', SPEC, top);
  }
  const withContained = parts.derived ? items.filter((i) => i.index.contained?.length) : [];
  if (withContained.length) {
    const inner = emptyColumns(CONTAINED_SPEC);
    const list: unknown[][] = [[], [], [], [], []];
    for (const { rid, type, index } of withContained) {
      for (const ci of index.contained!) {
        pushRows(inner, rid, type, ci, ci.cx);
        list[0].push(rid); list[1].push(ci.cx); list[2].push(type); list[3].push(ci.type); list[4].push(ci.id);
      }
    }
    inserts('ic', CONTAINED_SPEC, inner);
    const [a, b, c, d, e] = [param(list[0], 'int8[]'), param(list[1], 'int2[]'), param(list[2], 'text[]'), param(list[3], 'text[]'), param(list[4], 'text[]')];
    ctes.push(`i_sp_contained as (insert into fhir.sp_contained (tenant, rid, cx, type, ctype, cid)
      select ${tenantArg()}, rid, cx, ty, ct, ci from unnest(${a}, ${b}, ${c}, ${d}, ${e}) as u(rid, cx, ty, ct, ci))`);
  }
  // The text documents, from the content these rids hold now (stored earlier in this transaction). `offset 0`
  // keeps the subquery from being pulled up: both (inlined) document functions would then parse the content
  // as jsonb each (measured on Synthea: 25 µs of PostgreSQL CPU per resource of the ~95 the documents cost).
  if (parts.derived) ctes.push(`i_sp_text as (insert into fhir.sp_text (tenant, rid, type, narrative, content)
    select r.tenant, r.rid, r.type, fhir.text_narrative(d.doc), fhir.text_content(d.doc)
    from fhir.resource r cross join lateral (select r.content::jsonb as doc offset 0) d where r.rid = any($1::int8[]) and not r.deleted)`);
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
      const containedExtra = it.index.contained?.some((c) => customParamsOf(tenant, c.type).length > 0) ?? false;
      if (extra.length === 0 && !containedExtra) return it;
      const copy = (r: RowSet): RowSet => ({ token: [...r.token], string: [...r.string], reference: [...r.reference],
        date: [...r.date], number: [...r.number], composite: [...r.composite] });
      // (resource read explicitly: the importer defines it as a non-enumerable getter, which a spread drops)
      const index: ExtractedIndex = { ...it.index, ...copy(it.index), resource: it.index.resource, contained: it.index.contained?.map((c) => ({ ...c, ...copy(c) })) };
      if (extra.length) extractMore(index, extra);
      if (containedExtra) extractContainedMore(index.resource, index.contained!, (t) => customParamsOf(tenant, t));
      return { ...it, index };
    });
    await writeTenant(tx, tenant, withCustom);
  }
}

/**
 * Index rows the bulk path (store/bulk-write.ts) does not write itself, for resources it has just stored or
 * re-indexed (their built-in rows already replaced): a tenant's custom SearchParameters (added beside them),
 * the contained resources' rows and fhir.sp_contained (R4 search.html#contained) and the text documents
 * (#text, #content), which replace any earlier ones of these rids. Only resources that need it are parsed:
 * types with custom parameters, and content with a `contained` array.
 */
export async function writeCustomIndex(tx: Tx, items: ReadonlyArray<{ rid: string; type: string; content: string }>, opts: { fresh?: boolean } = {}): Promise<void> {
  if (items.length === 0) return;
  const tenant = tx.ctx.tenant;
  await ensureCustomParams(tx, tenant);
  const writes: IndexWrite[] = items.map((it) => {
    const params = customParamsOf(tenant, it.type);
    const contains = it.content.includes('"contained"');
    const resource = (params.length || contains ? JSON.parse(it.content) : {}) as Resource;
    const index: ExtractedIndex = { compartments: [], token: [], string: [], reference: [], date: [], number: [], composite: [], resource };
    if (params.length) extractMore(index, params);
    const contained = contains ? extractContained(resource) : undefined;
    if (contained) {
      index.contained = contained;
      extractContainedMore(resource, contained, (t) => customParamsOf(tenant, t));
    }
    return { rid: it.rid, tenant, type: it.type, index };
  });
  // `fresh`: rids created in this statement's transaction just now have no rows to replace.
  await writeTenant(tx, tenant, writes, { replace: opts.fresh ? 'none' : 'derived', builtIn: true, derived: true });
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
