// The one delete the audit store allows (migrations/032_audit.sql audit.archive): an archived, verified
// chain prefix, with its signed anchor recorded in the same transaction. Maintenance, not a request: it
// runs as the connecting (migrating) role, the only role granted audit.archive, with the tenant set.
import type { Db } from './session.js';
import type { SignedRecord } from './audit-read.js';

export async function archiveAsOwner(db: Db, tenant: string, stripe: number, pos: number, hashHex: string, anchor: SignedRecord): Promise<number> {
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('fhirgate.tenant', $1, true)`, [tenant]);
    const r = await client.query<{ n: string }>(`select audit.archive($1::smallint, $2::bigint, decode($3, 'hex'), $4, $5, $6) as n`,
      [stripe, pos, hashHex, anchor.payload, anchor.keyId, anchor.signature]);
    await client.query('commit');
    return Number(r.rows[0].n);
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
