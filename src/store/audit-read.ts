// Reading the audit store for verification, checkpoints and archival (runs as the auditor role, tenant
// set: RLS applies): consistent snapshots over several connections, heads, checkpoints, anchors. The
// events themselves stream with binary COPY (audit-copy.ts).
import { txOver, type Db, type Tx } from './session.js';
import type { PoolClient } from './pool.js';

/**
 * `count` read-only transactions as the auditor role sharing one REPEATABLE READ snapshot (exported by
 * the first): heads, checkpoints and every stream see the same instant, even while the server appends,
 * and the streams can run on several connections (PostgreSQL backends) at once.
 */
export async function withAuditSnapshots<T>(db: Db, tenant: string, count: number, fn: (txs: Tx[]) => Promise<T>): Promise<T> {
  const clients: PoolClient[] = [];
  let failed = false;
  try {
    for (let i = 0; i < count; i++) clients.push(await db.pool.connect());
    // No parallel workers: the streams are the parallelism, and an ordered stream is an index scan.
    const context = `set local role fhirgate_auditor; set local max_parallel_workers_per_gather = 0;
      select set_config('fhirgate.tenant', ${clients[0].escapeLiteral(tenant)}, true)`;
    await clients[0].query(`begin isolation level repeatable read read only; ${context}`);
    const snapshot = (await clients[0].query<{ s: string }>('select pg_export_snapshot() as s')).rows[0].s;
    for (const c of clients.slice(1)) {
      await c.query(`begin isolation level repeatable read read only; set transaction snapshot ${c.escapeLiteral(snapshot)}; ${context}`);
    }
    const txs: Tx[] = clients.map((client) => txOver(client, { tenant, role: 'auditor' }, () => {
      throw new Error('audit snapshots are read-only');
    }));
    return await fn(txs);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    for (const c of clients) {
      // After a failure a stream may have stopped reading in the middle of a COPY: close that
      // connection (its transaction ends with it) rather than wait for the rest of the data.
      let broken = failed;
      if (!broken) {
        try {
          await c.query('rollback');
        } catch {
          broken = true;
        }
      }
      c.release(broken);
    }
  }
}

export interface Head { stripe: number; pos: number; hash: string }

export async function readHeads(tx: Tx): Promise<Head[]> {
  const r = await tx.query<{ stripe: number; pos: string; hash: string }>(
    `select stripe, pos, encode(hash, 'hex') as hash from audit.chain_head where tenant = $1 order by stripe`, [tx.ctx.tenant]);
  return r.rows.map((h) => ({ stripe: Number(h.stripe), pos: Number(h.pos), hash: h.hash }));
}

export interface SignedRecord { payload: string; keyId: string; signature: string }

export async function readCheckpoints(tx: Tx): Promise<SignedRecord[]> {
  const r = await tx.query<{ payload: string; key_id: string; signature: string }>(
    'select payload, key_id, signature from audit.checkpoint where tenant = $1 order by created', [tx.ctx.tenant]);
  return r.rows.map((c) => ({ payload: c.payload, keyId: c.key_id, signature: c.signature }));
}

export interface AnchorRecord extends SignedRecord { stripe: number; pos: number; hash: string }

/** Every anchor, oldest first per stripe (the newest one is where the hot chain starts). */
export async function readAnchors(tx: Tx): Promise<AnchorRecord[]> {
  const r = await tx.query<{ stripe: number; pos: string; hash: string; payload: string; key_id: string; signature: string }>(
    `select stripe, pos, encode(hash, 'hex') as hash, payload, key_id, signature from audit.anchor where tenant = $1 order by stripe, pos`, [tx.ctx.tenant]);
  return r.rows.map((a) => ({ stripe: Number(a.stripe), pos: Number(a.pos), hash: a.hash, payload: a.payload, keyId: a.key_id, signature: a.signature }));
}

export async function addCheckpoint(tx: Tx, c: SignedRecord): Promise<void> {
  await tx.query('select audit.add_checkpoint($1, $2, $3)', [c.payload, c.keyId, c.signature]);
}

/** The last position of each stripe whose events (and all before) were recorded before `cutoff`. */
export async function archivablePrefixes(tx: Tx, cutoff: string): Promise<Array<{ stripe: number; from: number; to: number; count: number }>> {
  const r = await tx.query<{ stripe: number; lo: string; hi: string; n: string }>(
    `with kept as (select stripe, min(pos) as p from audit.event where tenant = $1 and recorded >= $2 group by stripe)
     select e.stripe, min(e.pos) as lo, max(e.pos) as hi, count(*) as n
     from audit.event e left join kept k on k.stripe = e.stripe
     where e.tenant = $1 and (k.p is null or e.pos < k.p) group by e.stripe order by e.stripe`, [tx.ctx.tenant, cutoff]);
  return r.rows.map((x) => ({ stripe: Number(x.stripe), from: Number(x.lo), to: Number(x.hi), count: Number(x.n) }));
}

export interface StripeExtent { stripe: number; from: number; to: number }

/**
 * Every stripe that has events, with its first and last position: a loose index scan (a few probes of
 * the primary key per stripe), so the verification streams cover every stored event, also one on a
 * stripe no head names, and can be balanced by size.
 */
export async function stripeExtents(tx: Tx): Promise<StripeExtent[]> {
  const r = await tx.query<{ stripe: number; lo: string; hi: string }>(
    `with recursive s(stripe) as (
       select min(stripe) from audit.event where tenant = $1
       union all
       select (select min(e.stripe) from audit.event e where e.tenant = $1 and e.stripe > s.stripe) from s where s.stripe is not null)
     select stripe,
       (select min(pos) from audit.event e where e.tenant = $1 and e.stripe = s.stripe) as lo,
       (select max(pos) from audit.event e where e.tenant = $1 and e.stripe = s.stripe) as hi
     from s where stripe is not null`, [tx.ctx.tenant]);
  return r.rows.map((x) => ({ stripe: Number(x.stripe), from: Number(x.lo), to: Number(x.hi) }));
}

/**
 * audit.patient_link against the events (migrations/042), in the verification's snapshot: how many links
 * there are, and how many name an event that does not exist, or that does not list that patient at that time.
 */
export async function patientLinkCheck(tx: Tx): Promise<{ links: number; stray: number }> {
  const r = await tx.query<{ links: string; stray: string }>(
    `select count(*) as links,
       count(*) filter (where e.id is null or e.recorded <> l.recorded or not (l.patient = any(string_to_array(e.patient, ' ')))) as stray
     from audit.patient_link l left join audit.event e on e.tenant = l.tenant and e.id = l.id where l.tenant = $1`, [tx.ctx.tenant]);
  return { links: Number(r.rows[0].links), stray: Number(r.rows[0].stray) };
}
