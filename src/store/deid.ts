// The de-identified copy (schema deid, migrations/031_deid.sql): written by request roles only through
// deid.put / deid.remove (SECURITY DEFINER), read only by the researcher role (RLS: tenant wall and the
// types its scopes grant). The k-anonymity report groups Patient rows by their quasi-identifiers.
import type { Tx } from './session.js';

export interface DeidRow {
  type: string;
  /** The pseudonymous id. */
  id: string;
  version: number;
  compartments: string[];
  content: string;
  keyId: string;
  qiBirth?: string;
  qiSex?: string;
  qiZip3?: string;
}

export async function putDeid(tx: Tx, r: DeidRow): Promise<void> {
  await tx.query('select deid.put($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [r.type, r.id, r.version, r.compartments, r.content, r.keyId, r.qiBirth ?? null, r.qiSex ?? null, r.qiZip3 ?? null]);
}

/** Many copies in one statement (the importer's rounds); one row per (type, id), the last one wins. */
export async function putDeidMany(tx: Tx, rows: readonly DeidRow[]): Promise<void> {
  if (rows.length === 0) return;
  const last = new Map<string, DeidRow>();
  for (const r of rows) last.set(`${r.type}/${r.id}`, r);
  const json = [...last.values()].map((r) => ({ type: r.type, id: r.id, version: r.version, compartments: r.compartments, content: r.content,
    key_id: r.keyId, qi_birth: r.qiBirth ?? null, qi_sex: r.qiSex ?? null, qi_zip3: r.qiZip3 ?? null }));
  await tx.query('select deid.put_many($1::jsonb)', [JSON.stringify(json)]);
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
