// Audit events out of PostgreSQL for verification and archival: binary COPY (PostgreSQL docs, "COPY",
// binary format: a tuple is an int16 field count, then per field an int32 length and the bytes), in
// (stripe, pos) order. Verification's hot path gets each tuple as the received bytes plus the field
// offsets (this module makes no object, string or Buffer per event), so `audit verify` checks
// ≥100,000 events/s; the archive export gets RawEvent objects. The query names stripes as a list
// (`stripe = any(…)`), which the planner answers with an index scan of the primary key in order: a
// `stripe % n` filter had made it pick a parallel sequential scan and an external sort that spilled to
// disk (measured: 7× slower).
import type { Tx } from './session.js';

/** Field order of the COPY (F.x is the index of column x in a tuple's offsets). */
const COLUMNS = 'stripe, pos, recorded, outcome, id, type, subtype, action, agent, patient, entity, content, prev_hash, hash';
export const F = { stripe: 0, pos: 1, recorded: 2, outcome: 3, id: 4, type: 5, subtype: 6, action: 7, agent: 8, patient: 9, entity: 10, content: 11, prevHash: 12, hash: 13 } as const;
const FIELDS = 14;
const SIGNATURE = 11;
/** PostgreSQL's timestamp epoch (2000-01-01) in Unix microseconds. */
export const PG_EPOCH_US = 946_684_800_000_000;

/**
 * Receives one tuple: `s[f]` is where field f's bytes start in `buf`, its length the int32 just before
 * (`buf.readInt32BE(s[f] - 4)`). Both are reused for the next tuple: copy what must be kept.
 */
export type TupleSink = (buf: Buffer, s: Int32Array) => void;

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

/** A signed int8 as a Number (positions and timestamps stay far below 2^53). */
export function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

function slice(buf: Buffer, start: number): Buffer {
  return buf.subarray(start, start + buf.readInt32BE(start - 4));
}

export function rawEvent(buf: Buffer, s: Int32Array): RawEvent {
  return {
    stripe: buf.readInt16BE(s[F.stripe]), pos: int64(buf, s[F.pos]), recordedUs: int64(buf, s[F.recorded]) + PG_EPOCH_US,
    outcome: buf.readInt16BE(s[F.outcome]), id: slice(buf, s[F.id]), type: slice(buf, s[F.type]), subtype: slice(buf, s[F.subtype]),
    action: slice(buf, s[F.action]), agent: slice(buf, s[F.agent]), patient: slice(buf, s[F.patient]), entity: slice(buf, s[F.entity]),
    content: slice(buf, s[F.content]), prevHash: slice(buf, s[F.prevHash]), hash: slice(buf, s[F.hash]),
  };
}

/** Parses whole tuples of `buf` from `at`; returns where the unparsed rest starts (buf.length at the trailer). */
function tuples(buf: Buffer, at: number, s: Int32Array, sink: TupleSink, counter: { count: number }): number {
  for (;;) {
    if (buf.length - at < 2) return at;
    const fields = buf.readInt16BE(at);
    if (fields === -1) return buf.length;
    if (fields !== FIELDS) throw new Error(`audit COPY: ${fields} fields, expected ${FIELDS}`);
    // Every column is NOT NULL: find the tuple's end first, so a tuple split across messages waits whole.
    let p = at + 2;
    for (let f = 0; f < FIELDS; f++) {
      if (buf.length - p < 4) return at;
      const len = buf.readInt32BE(p);
      if (len < 0) throw new Error('audit COPY: unexpected NULL');
      s[f] = p + 4;
      p += 4 + len;
    }
    if (p > buf.length) return at;
    counter.count++;
    sink(buf, s);
    at = p;
  }
}

/**
 * A COPY … TO STDOUT run through node-postgres's own protocol parser (a Submittable): the client hands
 * each CopyData message over as a slice of the received bytes, one message per row (PostgreSQL sends the
 * binary header with the first row and the trailer alone). Tuples are parsed where they lie, nothing is
 * copied; pg-copy-streams, used before, re-assembled every socket read into a fresh zero-filled buffer
 * (measured: GC fell from ~1.8 to ~0.7 µs per event without it). A tuple split across messages (not
 * sent by PostgreSQL, handled anyway) is joined with the next message. Exported for its unit test.
 */
export class CopyOut {
  readonly done: Promise<number>;
  private resolve!: (n: number) => void;
  private reject!: (e: unknown) => void;
  private settled = false;
  private failure: unknown;
  private rest: Buffer | undefined;
  private header = false;
  count = 0;
  private readonly s = new Int32Array(FIELDS);

  constructor(private readonly text: string, private readonly sink: TupleSink) {
    this.done = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }

  private fail(e: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.failure = e;
    this.reject(e);
  }

  /** A sink error stops the parsing at once; the caller closes the connection rather than drain the rest. */
  handleCopyData(msg: { chunk: Buffer }): void {
    if (this.settled) return;
    try {
      this.feed(msg.chunk);
    } catch (e) {
      this.fail(e);
    }
  }

  private feed(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let at = 0;
    if (!this.header) {
      if (buf.length < SIGNATURE + 8) {
        this.rest = Buffer.from(buf);
        return;
      }
      at = SIGNATURE + 8 + buf.readInt32BE(SIGNATURE + 4);
      this.header = true;
    }
    const end = tuples(buf, at, this.s, this.sink, this);
    // The slice is only valid during this call (the parser reuses its buffer): keep a copy of a remainder.
    if (end < buf.length) this.rest = Buffer.from(buf.subarray(end));
  }

  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {
    this.fail(new Error('audit COPY: unexpected COPY FROM'));
  }

  handleError(err: unknown): void {
    this.fail(this.failure ?? err);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    if (this.rest || !this.header) return this.fail(new Error('audit COPY: the stream ended inside a tuple'));
    this.settled = true;
    this.resolve(this.count);
  }
}

/** One stripe's positions `from`..`to` (archival), or the listed stripes whole (verification streams). */
export type EventSelection = { stripe: number; from: number; to: number } | { stripes: number[] };

function whereOf(sel: EventSelection | undefined): string {
  if (!sel) return '';
  if ('stripes' in sel) return ` and stripe = any('{${sel.stripes.map((x) => x | 0).join(',')}}'::smallint[])`;
  return ` and stripe = ${sel.stripe | 0} and pos between ${Math.trunc(sel.from)} and ${Math.trunc(sel.to)}`;
}

/** Calls `sink` for every selected event of the transaction's tenant, in (stripe, pos) order; returns the count. */
export async function streamTuples(tx: Tx, sink: TupleSink, sel?: EventSelection): Promise<number> {
  await tx.open();
  const tenant = tx.client.escapeLiteral(tx.ctx.tenant);
  const sql = `copy (select ${COLUMNS} from audit.event where tenant = ${tenant}${whereOf(sel)} order by stripe, pos) to stdout (format binary)`;
  return tx.client.query(new CopyOut(sql, sink)).done;
}

/** The same as RawEvent objects (archive export). */
export function streamEvents(tx: Tx, onRow: (e: RawEvent) => void, sel?: EventSelection): Promise<number> {
  return streamTuples(tx, (buf, s) => onRow(rawEvent(buf, s)), sel);
}
