// The de-identified copy (schema deid, migrations/031_deid.sql, 040_deid_search_index.sql): written by
// request roles only through deid.put_indexed / deid.remove (SECURITY DEFINER), read only by the researcher
// role (RLS: tenant wall and the types its scopes grant). Each copy carries its own search index rows
// (deid.sp_*, the shape of fhir.sp_*), extracted from the de-identified resource and written in the same
// statement. The k-anonymity report groups Patient rows by their quasi-identifiers.
import type { Tx } from './session.js';
import type { ExtractedIndex } from '../search/extract.js';
import { pushIndexColumns } from './search-index.js';

export interface DeidRow {
  type: string;
  /** The pseudonymous id. */
  id: string;
  version: number;
  compartments: string[];
  content: string;
  keyId: string;
  /** The source's lastUpdated generalised to its year (1 January, UTC): the row's search/sort value. */
  lastUpdated: string;
  /** Search index rows of the de-identified resource (src/search/extract.ts run on the copy). */
  index: ExtractedIndex;
  qiBirth?: string;
  qiSex?: string;
  qiZip3?: string;
}

export async function putDeid(tx: Tx, r: DeidRow): Promise<void> {
  await putDeidMany(tx, [r]);
}

type Cols = unknown[][];
const cols = (n: number): Cols => Array.from({ length: n }, () => []);

const quote = (t: string): string => `"${t.includes('"') || t.includes('\\') ? t.replace(/[\\"]/g, (ch) => `\\${ch}`) : t}"`;

/**
 * An array literal (arrays.html "Array Value Input"): numbers as they print, strings double-quoted with
 * backslash escapes, null as NULL; the text node-pg would send for a JS array, built in about half its time
 * (measured per Synthea copy of ~25 index rows: arguments 32 µs with node-pg's serialiser, 15 µs so).
 */
function literal(values: unknown[]): string {
  if (values.every((v) => typeof v === 'number')) return `{${values.join(',')}}`;
  return `{${values.map((v) => (v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : quote(String(v)))).join(',')}}`;
}

/** deid.put_indexed's arguments: the copies as JSON (i = 1..n), then column arrays per index table. */
function putArgs(rows: readonly DeidRow[]): unknown[] {
  const [tk, st, rf, dt, nm, cp] = [cols(6), cols(5), cols(5), cols(5), cols(8), cols(10)];
  const json = rows.map((r, k) => {
    const i = k + 1;
    pushIndexColumns([tk, st, rf, dt, nm, cp], i, r.index);
    return { i, type: r.type, id: r.id, version: r.version, compartments: r.compartments, content: r.content, key_id: r.keyId,
      last_updated: r.lastUpdated, qi_birth: r.qiBirth ?? null, qi_sex: r.qiSex ?? null, qi_zip3: r.qiZip3 ?? null };
  });
  return [JSON.stringify(json), ...[...tk, ...st, ...rf, ...dt, ...nm, ...cp].map(literal)];
}

const PUT_SQL = `select deid.put_indexed(${Array.from({ length: 40 }, (_, k) => `$${k + 1}`).join(', ')})`;

/**
 * Copies and their index rows in one statement (a write, a transaction Bundle, an importer round); one row
 * per (type, id), the last one wins.
 */
export async function putDeidMany(tx: Tx, rows: readonly DeidRow[]): Promise<void> {
  if (rows.length === 0) return;
  const last = new Map<string, DeidRow>();
  for (const r of rows) last.set(`${r.type}/${r.id}`, r);
  await tx.queryPrepared('deid_put_indexed', PUT_SQL, putArgs([...last.values()]));
}

export async function removeDeid(tx: Tx, type: string, pseudonym: string): Promise<void> {
  await tx.query('select deid.remove($1, $2)', [type, pseudonym]);
}

/** After a key rotation's rebuild: drops the tenant's rows made with any other key. */
export async function retainDeidKey(tx: Tx, keyId: string): Promise<number> {
  const r = await tx.query<{ n: number }>('select deid.retain_key($1) as n', [keyId]);
  return Number(r.rows[0].n);
}

export async function readDeid(tx: Tx, type: string, pseudonym: string): Promise<{ version: number; content: string } | undefined> {
  const r = await tx.query<{ version: number; content: string }>(
    'select version, content from deid.resource where tenant = $1 and type = $2 and id = $3', [tx.ctx.tenant, type, pseudonym]);
  return r.rows[0] ? { version: Number(r.rows[0].version), content: r.rows[0].content } : undefined;
}

export interface QiClass {
  birth: string | null;
  sex: string | null;
  zip3: string | null;
  n: number;
}

/** Equivalence classes over (birth year, sex, ZIP3) of the tenant's de-identified patients. */
export async function qiClasses(tx: Tx): Promise<QiClass[]> {
  const r = await tx.query<{ birth: string | null; sex: string | null; zip3: string | null; n: string }>(
    `select qi_birth as birth, qi_sex as sex, qi_zip3 as zip3, count(*) as n from deid.resource
     where tenant = $1 and type = 'Patient' group by 1, 2, 3 order by 4, 1, 2, 3`, [tx.ctx.tenant]);
  return r.rows.map((c) => ({ birth: c.birth, sex: c.sex, zip3: c.zip3, n: Number(c.n) }));
}

/** Pages of current identified resources (for a rebuild), by rid, as the caller's role allows. */
export async function identifiedPage(tx: Tx, afterRid: string, limit: number): Promise<Array<{ rid: string; content: string; compartments: string[] }>> {
  const r = await tx.query<{ rid: string; content: string; compartments: string[] }>(
    `select rid, content, compartments from fhir.resource where tenant = $1 and not deleted and rid > $2::bigint order by rid limit $3`,
    [tx.ctx.tenant, afterRid, limit]);
  return r.rows;
}
