// The audit hash chain, recomputed outside the database (patterns §3.2): hash = SHA-256(prev_hash ||
// UTF-8 of the hash line), the line being the hashed columns joined by LF exactly as audit.hash_line()
// builds it (migrations/032_audit.sql), `recorded` as epoch microseconds. Each (tenant, stripe) is one
// chain, from 32 zero bytes or from the signed anchor of its archived prefix. The first break is named:
// edited, removed, reordered.
import { createHash } from 'node:crypto';
import type { ChainRow, RawEvent } from '../store/audit-read.js';

export const GENESIS = Buffer.alloc(32);
export const GENESIS_HEX = GENESIS.toString('hex');
const LF = 10;

/** The line of an event in text form (archive files). */
export function hashLine(tenant: string, r: ChainRow): string {
  return [tenant, r.stripe, r.pos, r.id, r.recorded, r.type, r.subtype, r.action, r.outcome, r.agent, r.patient, r.entity, r.content].join('\n');
}

/**
 * `recorded` as migration 032 first hashed it (to_char … 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' in UTC); 033
 * moved to epoch microseconds. Events appended before 033 still verify in this form.
 */
export function legacyRecorded(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 23)}${String(us % 1000).padStart(3, '0')}Z`;
}

export function chainHash(prev: Buffer, line: string): Buffer {
  return createHash('sha256').update(prev).update(line, 'utf8').digest();
}

function put(s: Buffer, at: number, b: Buffer): number {
  at += b.copy(s, at);
  s[at] = LF;
  return at + 1;
}

function num(s: Buffer, at: number, n: number): number {
  at += s.write(String(n), at, 'latin1');
  s[at] = LF;
  return at + 1;
}

/** Hashes raw events (verification's hot path): the line assembled in one reused buffer, no strings. */
export class RawHasher {
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly tenant: Buffer;

  constructor(tenant: string) {
    this.tenant = Buffer.from(tenant, 'utf8');
  }

  hash(e: RawEvent, legacy = false): Buffer {
    const need = 32 + this.tenant.length + e.id.length + e.type.length + e.subtype.length + e.action.length + e.agent.length
      + e.patient.length + e.entity.length + e.content.length + 80;
    if (need > this.scratch.length) this.scratch = Buffer.allocUnsafe(need * 2);
    const s = this.scratch;
    let at = e.prevHash.copy(s, 0);
    at = put(s, at, this.tenant);
    at = num(s, at, e.stripe);
    at = num(s, at, e.pos);
    at = put(s, at, e.id);
    if (legacy) {
      at += s.write(legacyRecorded(e.recordedUs), at, 'latin1');
      s[at++] = LF;
    } else at = num(s, at, e.recordedUs);
    at = put(s, at, e.type);
    at = put(s, at, e.subtype);
    at = put(s, at, e.action);
    at = num(s, at, e.outcome);
    at = put(s, at, e.agent);
    at = put(s, at, e.patient);
    at = put(s, at, e.entity);
    at += e.content.copy(s, at);
    return createHash('sha256').update(s.subarray(0, at)).digest();
  }
}

export class AuditChainBroken extends Error {
  constructor(readonly tenant: string, readonly stripe: number, readonly eventId: string | undefined, message: string) {
    super(message);
  }
}

/** What the verifier needs of an event, whichever form it came in (no closures: one object per event). */
export interface Linked {
  stripe: number;
  pos: number;
  /** The AuditEvent id as text, or its bytes (decoded only for a message). */
  id?: string;
  idBytes?: Buffer;
  prevHash: Buffer;
  hash: Buffer;
  /** SHA-256 recomputed from the event's own prev_hash and columns. */
  computed: Buffer;
  /** For the 032 line format (events appended before migration 033): the event, to hash it again. */
  raw?: RawEvent;
  hasher?: RawHasher;
  row?: ChainRow;
  tenant?: string;
}

/** The hash in the 032 line format, tried only when the current one does not match. */
function legacyComputed(l: Linked): Buffer | undefined {
  if (l.raw && l.hasher) return l.hasher.hash(l.raw, true);
  if (l.row && l.tenant) return chainHash(l.prevHash, hashLine(l.tenant, { ...l.row, recorded: legacyRecorded(Number(l.row.recorded)) }));
  return undefined;
}

function idOf(l: Linked): string {
  return l.id ?? l.idBytes?.toString('utf8') ?? '?';
}

export function linkedRaw(e: RawEvent, hasher: RawHasher): Linked {
  return { stripe: e.stripe, pos: e.pos, idBytes: e.id, prevHash: e.prevHash, hash: e.hash, computed: hasher.hash(e), raw: e, hasher };
}

export function linkedRow(tenant: string, r: ChainRow): Linked {
  const prevHash = Buffer.from(r.prevHash, 'hex');
  return { stripe: r.stripe, pos: r.pos, id: r.id, prevHash, hash: Buffer.from(r.hash, 'hex'), computed: chainHash(prevHash, hashLine(tenant, r)), row: r, tenant };
}

function where(r: Linked): string {
  return `AuditEvent/${idOf(r)} (stripe ${r.stripe}, position ${r.pos})`;
}

const RECENT = 1024;

interface PendingBreak {
  row: Linked;
  seen: number;
  fallback: AuditChainBroken;
}

/** Walks one stripe in position order. Positions listed in `expect` must carry the given hash (hex). */
export class StripeVerifier {
  private pos: number;
  private hash: Buffer;
  private last: Linked | undefined;
  /** The last events (a ring), searched only after a break, to tell a moved event from an edited one. */
  private readonly recent: Array<Linked | undefined> = new Array(RECENT);
  private recentAt = 0;
  private pending: PendingBreak | undefined;
  /** Positions at which a signed checkpoint says the chain had this hash. */
  readonly expect = new Map<number, { hash: string; what: string }>();

  constructor(readonly tenant: string, readonly stripe: number, start: { pos: number; hash: string } = { pos: 0, hash: GENESIS_HEX }) {
    this.pos = start.pos;
    this.hash = Buffer.from(start.hash, 'hex');
  }

  private broken(msg: string, id: string | undefined): AuditChainBroken {
    return new AuditChainBroken(this.tenant, this.stripe, id, msg);
  }

  private outOfOrder(r: Linked, before: Linked): AuditChainBroken {
    return this.broken(`${where(r)} was reordered: it follows AuditEvent/${idOf(before)}, which is at position ${before.pos}`, idOf(r));
  }

  push(r: Linked): void {
    if (this.pending) {
      // After a broken link: does the missing predecessor come later (the event was moved up)?
      if (r.hash.equals(this.pending.row.prevHash)) throw this.outOfOrder(this.pending.row, r);
      if (++this.pending.seen >= RECENT) throw this.pending.fallback;
      return;
    }
    if (r.pos !== this.pos + 1) {
      if (r.pos <= this.pos) throw this.broken(`${where(r)}: position repeats or goes back (after ${this.pos}): inserted or reordered`, idOf(r));
      const after = this.last ? ` after AuditEvent/${idOf(this.last)}` : '';
      throw this.broken(`${where(r)}: events at positions ${this.pos + 1}..${r.pos - 1}${after} were removed`, idOf(r));
    }
    if (!r.prevHash.equals(this.hash)) {
      const before = this.recent.find((x) => x !== undefined && x.hash.equals(r.prevHash));
      if (before) throw this.outOfOrder(r, before);
      const fallback = this.last
        ? this.broken(`AuditEvent/${idOf(this.last)} (stripe ${this.stripe}, position ${this.pos}) was edited, or an event between it and AuditEvent/${idOf(r)} was removed: the link between them does not match`, idOf(this.last))
        : this.broken(`${where(r)}: its link does not match the chain's start (anchor or genesis): an event before it was removed or changed`, idOf(r));
      this.pending = { row: r, seen: 0, fallback };
      return;
    }
    if (!r.computed.equals(r.hash) && !legacyComputed(r)?.equals(r.hash)) {
      throw this.broken(`${where(r)}: its content does not match its hash: it was edited`, idOf(r));
    }
    if (this.expect.size) {
      const want = this.expect.get(r.pos);
      if (want && want.hash !== r.hash.toString('hex')) throw this.broken(`${where(r)}: differs from the ${want.what}: the chain was rewritten`, idOf(r));
    }
    this.pos = r.pos;
    this.hash = r.hash;
    this.last = r;
    this.recent[this.recentAt] = r;
    this.recentAt = (this.recentAt + 1) % RECENT;
  }

  /** Where a walk without a head ended (archive files). */
  position(): { pos: number; hash: string } {
    if (this.pending) throw this.pending.fallback;
    return { pos: this.pos, hash: this.hash.toString('hex') };
  }

  /** After the last row: the head (and any checkpoint beyond the rows) must agree with where the chain ended. */
  end(head: { pos: number; hash: string } | undefined): { pos: number; hash: string } {
    if (this.pending) throw this.pending.fallback;
    const lastName = this.last ? `AuditEvent/${idOf(this.last)}` : 'the chain start';
    const lastId = (this.last ? idOf(this.last) : undefined);
    const here = this.hash.toString('hex');
    if (!head) {
      if (this.last) throw new AuditChainBroken(this.tenant, this.stripe, lastId, `stripe ${this.stripe}: events exist but the chain head is missing`);
      return { pos: this.pos, hash: here };
    }
    if (head.pos > this.pos) {
      throw new AuditChainBroken(this.tenant, this.stripe, lastId, `stripe ${this.stripe}: the chain head is at position ${head.pos} but the events end at ${this.pos}: events after ${lastName} were removed`);
    }
    if (head.pos < this.pos || head.hash !== here) {
      throw new AuditChainBroken(this.tenant, this.stripe, lastId, `stripe ${this.stripe}: the chain head does not match ${lastName}: the head or the tail was changed`);
    }
    for (const [pos, want] of this.expect) {
      if (pos > this.pos) {
        throw new AuditChainBroken(this.tenant, this.stripe, lastId,
          `stripe ${this.stripe}: the ${want.what} covers position ${pos} but the events end at ${this.pos}: events after ${lastName} were removed`);
      }
    }
    return { pos: this.pos, hash: here };
  }
}
