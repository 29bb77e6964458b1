// Reading the audit store for verification, checkpoints and archival (runs as the auditor role, tenant
// set: RLS applies). Events stream with COPY in (stripe, pos) order, so `audit verify` checks ≥100,000
// events/s without holding them in memory. The hash line's timestamp is printed by PostgreSQL in UTC,
// the same expression audit.append hashed, so no session TimeZone or DateStyle can change it.
import { to as copyTo } from 'pg-copy-streams';
import type { Tx } from './session.js';

/** An event as the verifier sees it: every hashed column as text, hashes in hex. */
export interface ChainRow {
  stripe: number;
  pos: number;
  id: string;
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

const RECORDED = `to_char(recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const COLUMNS = `stripe, pos, id, ${RECORDED}, type, subtype, action, outcome, agent, patient, entity, encode(prev_hash, 'hex'), encode(hash, 'hex'), content`;

/** COPY text format: backslash escapes (\\ \t \n \r and friends); NULL never occurs in these columns. */
function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/g, (_m, oct: string, hex: string, ch: string) => {
    if (oct) return String.fromCharCode(parseInt(oct, 8));
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return ({ t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[ch] ?? ch;
  });
}

function parseLine(line: string): ChainRow {
  const f = line.split('\t');
  return {
    stripe: Number(f[0]), pos: Number(f[1]), id: unescape(f[2]), recorded: f[3], type: unescape(f[4]), subtype: unescape(f[5]),
    action: f[6], outcome: f[7], agent: unescape(f[8]), patient: unescape(f[9]), entity: unescape(f[10]), prevHash: f[11], hash: f[12],
    content: unescape(f.slice(13).join('\t')),
  };
}

/** Calls `onRow` for every event of the tenant (optionally one stripe's range), in chain order. */
export async function streamEvents(tx: Tx, onRow: (r: ChainRow) => void, range?: { stripe: number; from: number; to: number }): Promise<number> {
  const lit = (v: string) => tx.client.escapeLiteral(v);
  const where = range ? ` and stripe = ${range.stripe | 0} and pos between ${Math.trunc(range.from)} and ${Math.trunc(range.to)}` : '';
  const stream = tx.client.query(copyTo(`copy (select ${COLUMNS} from audit.event where tenant = ${lit(tx.ctx.tenant)}${where} order by stripe, pos) to stdout`));
  let rest: Buffer | undefined;
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(10, start); i >= 0; i = buf.indexOf(10, start)) {
      onRow(parseLine(buf.toString('utf8', start, i)));
      n++;
      start = i + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  }
  if (rest && rest.length) {
    onRow(parseLine(rest.toString('utf8')));
    n++;
  }
  return n;
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
