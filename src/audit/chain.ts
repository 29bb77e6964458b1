// Walking an audit chain (patterns §3.2 "Verification": recompute each hash, check prev_hash = previous
// hash, contiguous positions, the last row = the chain head, each signed checkpoint's hash at its
// position). Each (tenant, stripe) is one chain, from 32 zero bytes or from the signed anchor of its
// archived prefix. The first break is named: edited, removed, reordered. Hashes are 32-char binary
// strings (chain-hash.ts) and the walker keeps no object per event, so it costs little next to SHA-256.
import { GENESIS_HEX, idText, toBin, toHex, type EventHashes } from './chain-hash.js';

export { GENESIS_HEX } from './chain-hash.js';

export class AuditChainBroken extends Error {
  constructor(readonly tenant: string, readonly stripe: number, readonly eventId: string | undefined, message: string) {
    super(message);
  }
}

/** After a break, this many following events are searched for the missing predecessor (a moved event). */
const RECENT = 1024;

interface PendingBreak {
  pos: number;
  id: string;
  prev: string;
  seen: number;
  fallback: AuditChainBroken;
}

/**
 * Walks one stripe in position order. Positions listed in `expect` must carry the given hash (hex).
 * Ids are passed as their UTF-8 bytes in a binary string and decoded only for a message.
 */
export class StripeVerifier {
  private pos: number;
  private hash: string;
  private lastId: string | undefined;
  /** The last events (a ring), searched only after a break, to tell a moved event from an edited one. */
  private readonly ringHash: string[] = new Array<string>(RECENT).fill('');
  private readonly ringId: string[] = new Array<string>(RECENT).fill('');
  private readonly ringPos = new Float64Array(RECENT);
  private ringAt = 0;
  private pending: PendingBreak | undefined;
  /** Positions at which a signed checkpoint says the chain had this hash. */
  readonly expect = new Map<number, { hash: string; what: string }>();

  constructor(readonly tenant: string, readonly stripe: number, start: { pos: number; hash: string } = { pos: 0, hash: GENESIS_HEX }) {
    this.pos = start.pos;
    this.hash = toBin(start.hash);
  }

  private broken(msg: string, id: string | undefined): AuditChainBroken {
    return new AuditChainBroken(this.tenant, this.stripe, id === undefined ? undefined : idText(id), msg);
  }

  private where(pos: number, id: string): string {
    return `AuditEvent/${idText(id)} (stripe ${this.stripe}, position ${pos})`;
  }

  private outOfOrder(pos: number, id: string, beforeId: string, beforePos: number): AuditChainBroken {
    return this.broken(`${this.where(pos, id)} was reordered: it follows AuditEvent/${idText(beforeId)}, which is at position ${beforePos}`, id);
  }

  /**
   * The next event of the stripe: its position and id, `computed` (the hash recomputed from its columns
   * in the current line format) and its stored prev_hash and hash (`e`, read as strings only off the
   * common path).
   */
  push(pos: number, id: string, computed: string, e: EventHashes): void {
    const p = this.pending;
    if (p) {
      // After a broken link: does the missing predecessor come later (the event was moved up)?
      if (e.hashIs(p.prev)) throw this.outOfOrder(p.pos, p.id, id, pos);
      if (++p.seen >= RECENT) throw p.fallback;
      return;
    }
    if (pos !== this.pos + 1) {
      if (pos <= this.pos) throw this.broken(`${this.where(pos, id)}: position repeats or goes back (after ${this.pos}): inserted or reordered`, id);
      const after = this.lastId !== undefined ? ` after AuditEvent/${idText(this.lastId)}` : '';
      throw this.broken(`${this.where(pos, id)}: events at positions ${this.pos + 1}..${pos - 1}${after} were removed`, id);
    }
    if (!e.prevIs(this.hash)) {
      const prev = e.prev();
      const at = prev.length === 32 ? this.ringHash.indexOf(prev) : -1;
      if (at >= 0) throw this.outOfOrder(pos, id, this.ringId[at], this.ringPos[at]);
      const fallback = this.lastId !== undefined
        ? this.broken(`AuditEvent/${idText(this.lastId)} (stripe ${this.stripe}, position ${this.pos}) was edited, or an event between it and AuditEvent/${idText(id)} was removed: the link between them does not match`, this.lastId)
        : this.broken(`${this.where(pos, id)}: its link does not match the chain's start (anchor or genesis): an event before it was removed or changed`, id);
      this.pending = { pos, id, prev, seen: 0, fallback };
      return;
    }
    let hash = computed;
    if (!e.hashIs(computed)) {
      hash = e.hash();
      if (e.legacy() !== hash) throw this.broken(`${this.where(pos, id)}: its content does not match its hash: it was edited`, id);
    }
    if (this.expect.size) {
      const want = this.expect.get(pos);
      if (want && want.hash !== toHex(hash)) throw this.broken(`${this.where(pos, id)}: differs from the ${want.what}: the chain was rewritten`, id);
    }
    this.pos = pos;
    this.hash = hash;
    this.lastId = id;
    this.ringHash[this.ringAt] = hash;
    this.ringId[this.ringAt] = id;
    this.ringPos[this.ringAt] = pos;
    this.ringAt = (this.ringAt + 1) % RECENT;
  }

  /** Where a walk without a head ended (archive files). */
  position(): { pos: number; hash: string } {
    if (this.pending) throw this.pending.fallback;
    return { pos: this.pos, hash: toHex(this.hash) };
  }

  /** After the last row: the head (and any checkpoint beyond the rows) must agree with where the chain ended. */
  end(head: { pos: number; hash: string } | undefined): { pos: number; hash: string } {
    if (this.pending) throw this.pending.fallback;
    const lastId = this.lastId === undefined ? undefined : idText(this.lastId);
    const lastName = lastId !== undefined ? `AuditEvent/${lastId}` : 'the chain start';
    const here = toHex(this.hash);
    if (!head) {
      if (lastId !== undefined) throw new AuditChainBroken(this.tenant, this.stripe, lastId, `stripe ${this.stripe}: events exist but the chain head is missing`);
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
