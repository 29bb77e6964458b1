// Reading the audit store for verification, checkpoints and archival (runs as the auditor role, tenant
// set: RLS applies). Events stream with binary COPY in (stripe, pos) order: no text formatting in
// PostgreSQL, and the verifier hashes the raw column bytes without building strings, so `audit verify`
// checks ≥100,000 events/s without holding them in memory.
import { to as copyTo } from 'pg-copy-streams';
import { txOver, type Db, type Tx } from './session.js';
import type { PoolClient } from './pool.js';

/** One event as stored: hashed text columns as UTF-8 byte slices, hashes as 32 raw bytes. */
export interface RawEvent {
  stripe: number;
  pos: number;
  /** Microseconds since the Unix epoch (the hash line's form of `recorded`). */
  recordedUs: number;
  outcome: number;
  id: Buffer;
  type: Buffer;
  subtype: Buffer;
  action: Buffer;
  agent: Buffer;
  patient: Buffer;
  entity: Buffer;
  content: Buffer;
  prevHash: Buffer;
  hash: Buffer;
}

/** An event as text (archive files are NDJSON of these). */
export interface ChainRow {
  stripe: number;
  pos: number;
  id: string;
  /** Microseconds since the Unix epoch, as text. */
  recorded: string;
  type: string;
  subtype: string;
  action: string;
  outcome: string;
  agent: string;
  patient: string;
  entity: string;
  prevHash: string;
  hash: string;
  content: string;
}

export function toChainRow(e: RawEvent): ChainRow {
  const t = (b: Buffer) => b.toString('utf8');
  return {
    stripe: e.stripe, pos: e.pos, id: t(e.id), recorded: String(e.recordedUs), type: t(e.type), subtype: t(e.subtype), action: t(e.action),
    outcome: String(e.outcome), agent: t(e.agent), patient: t(e.patient), entity: t(e.entity), prevHash: e.prevHash.toString('hex'),
    hash: e.hash.toString('hex'), content: t(e.content),
  };
}

const COLUMNS = 'stripe, pos, recorded, outcome, id, type, subtype, action, agent, patient, entity, content, prev_hash, hash';
const FIELDS = 14;
const SIGNATURE = 11;
/** PostgreSQL's timestamp epoch (2000-01-01) in Unix microseconds. */
const PG_EPOCH_US = 946_684_800_000_000;

/** Field starts of the tuple being parsed (reused: the parser allocates nothing per tuple but the event). */
const starts = new Int32Array(FIELDS);

function slice(buf: Buffer, start: number): Buffer {
  return buf.subarray(start, start + buf.readInt32BE(start - 4));
}

/** A non-negative int8 as a Number (positions and timestamps stay far below 2^53). */
function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

/** Parses whole tuples of a binary COPY stream from `buf` at `at`; returns where the unparsed rest starts. */
function tuples(buf: Buffer, at: number, onRow: (e: RawEvent) => void): number {
  for (;;) {
    if (buf.length - at < 2) return at;
    const n = buf.readInt16BE(at);
    if (n === -1) return buf.length;
    if (n !== FIELDS) throw new Error(`audit COPY: ${n} fields, expected ${FIELDS}`);
    // Every field is non-null: find the tuple's end first, so a tuple split across chunks waits whole.
    let p = at + 2;
    for (let f = 0; f < FIELDS; f++) {
      if (buf.length - p < 4) return at;
      starts[f] = p + 4;
      p += 4 + Math.max(buf.readInt32BE(p), 0);
    }
    if (p > buf.length) return at;
    onRow({
      stripe: buf.readInt16BE(starts[0]),
      pos: int64(buf, starts[1]),
      recordedUs: int64(buf, starts[2]) + PG_EPOCH_US,
      outcome: buf.readInt16BE(starts[3]),
      id: slice(buf, starts[4]), type: slice(buf, starts[5]), subtype: slice(buf, starts[6]), action: slice(buf, starts[7]),
      agent: slice(buf, starts[8]), patient: slice(buf, starts[9]), entity: slice(buf, starts[10]), content: slice(buf, starts[11]),
      prevHash: slice(buf, starts[12]), hash: slice(buf, starts[13]),
    });
    at = p;
  }
}

export type EventSelection = { stripe: number; from: number; to: number } | { modulo: number; remainder: number };

/**
 * Calls `onRow` for every event of the tenant in chain order: one stripe's range, or the stripes with
 * stripe % modulo = remainder (parallel verification streams), or all.
 */
export async function streamEvents(tx: Tx, onRow: (e: RawEvent) => void, sel?: EventSelection): Promise<number> {
  const lit = (v: string) => tx.client.escapeLiteral(v);
  const where = !sel ? '' : 'modulo' in sel ? ` and stripe % ${sel.modulo | 0} = ${sel.remainder | 0}`
    : ` and stripe = ${sel.stripe | 0} and pos between ${Math.trunc(sel.from)} and ${Math.trunc(sel.to)}`;
  const stream = tx.client.query(copyTo(`copy (select ${COLUMNS} from audit.event where tenant = ${lit(tx.ctx.tenant)}${where} order by stripe, pos) to stdout (format binary)`));
  return parseCopy(stream as AsyncIterable<Buffer>, onRow);
}

async function parseCopy(stream: AsyncIterable<Buffer>, onRow: (e: RawEvent) => void): Promise<number> {
  let rest: Buffer | undefined;
  let headerDone = false;
  let n = 0;
  for await (const chunk of stream) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let at = 0;
    if (!headerDone) {
      if (buf.length < SIGNATURE + 8) {
        rest = buf;
        continue;
      }
      at = SIGNATURE + 8 + buf.readInt32BE(SIGNATURE + 4);
      headerDone = true;
    }
    const end = tuples(buf, at, (e) => {
      n++;
      onRow(e);
    });
    rest = end < buf.length ? buf.subarray(end) : undefined;
  }
  return n;
}

/**
 * `count` read-only transactions as the auditor role sharing one REPEATABLE READ snapshot (exported by
 * the first): heads, checkpoints and every stream see the same instant, even while the server appends,
 * and the streams can run on several connections (PostgreSQL backends) at once.
 */
export async function withAuditSnapshots<T>(db: Db, tenant: string, count: number, fn: (txs: Tx[]) => Promise<T>): Promise<T> {
  const clients: PoolClient[] = [];
  let broken = false;
  try {
    for (let i = 0; i < count; i++) clients.push(await db.pool.connect());
    const context = `set local role fhirgate_auditor; select set_config('fhirgate.tenant', ${clients[0].escapeLiteral(tenant)}, true)`;
    await clients[0].query(`begin isolation level repeatable read read only; ${context}`);
    const snapshot = (await clients[0].query<{ s: string }>('select pg_export_snapshot() as s')).rows[0].s;
    for (const c of clients.slice(1)) {
      await c.query(`begin isolation level repeatable read read only; set transaction snapshot ${c.escapeLiteral(snapshot)}; ${context}`);
    }
    const txs: Tx[] = clients.map((client) => txOver(client, { tenant, role: 'auditor' }, () => {
      throw new Error('audit snapshots are read-only');
    }));
    return await fn(txs);
  } finally {
    for (const c of clients) {
      try {
        await c.query('rollback');
      } catch {
        broken = true;
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
