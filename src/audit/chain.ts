// The audit hash chain, recomputed outside the database (patterns §3.2): hash = SHA-256(prev_hash ||
// UTF-8 of the hash line), the line being the hashed columns joined by LF exactly as audit.hash_line()
// builds it in migrations/032_audit.sql. Each (tenant, stripe) is one chain, from 32 zero bytes or from
// the signed anchor of its archived prefix. The first break is named: edited, removed, reordered.
import { createHash } from 'node:crypto';
import type { ChainRow } from '../store/audit-read.js';

export const GENESIS_HEX = '0'.repeat(64);

export function hashLine(tenant: string, r: ChainRow): string {
  return [tenant, r.stripe, r.pos, r.id, r.recorded, r.type, r.subtype, r.action, r.outcome, r.agent, r.patient, r.entity, r.content].join('\n');
}

export function chainHash(prevHex: string, line: string): string {
  return createHash('sha256').update(Buffer.from(prevHex, 'hex')).update(line, 'utf8').digest('hex');
}

export class AuditChainBroken extends Error {
  constructor(readonly tenant: string, readonly stripe: number, readonly eventId: string | undefined, message: string) {
    super(message);
  }
}

function where(r: ChainRow): string {
  return `AuditEvent/${r.id} (stripe ${r.stripe}, position ${r.pos})`;
}

const RECENT = 1024;

interface PendingBreak {
  row: ChainRow;
  seen: number;
  fallback: AuditChainBroken;
}

/** Walks one stripe in position order. Positions listed in `expect` must carry the given hash. */
export class StripeVerifier {
  private pos: number;
  private hash: string;
  private last: ChainRow | undefined;
  /** Recent hashes → event, to tell a moved event from an edited one. */
  private readonly recent = new Map<string, ChainRow>();
  private pending: PendingBreak | undefined;
  /** Positions at which a signed checkpoint says the chain had this hash. */
  readonly expect = new Map<number, { hash: string; what: string }>();

  constructor(readonly tenant: string, readonly stripe: number, start: { pos: number; hash: string } = { pos: 0, hash: GENESIS_HEX }) {
    this.pos = start.pos;
    this.hash = start.hash;
  }

  private broken(msg: string, id: string | undefined): AuditChainBroken {
    return new AuditChainBroken(this.tenant, this.stripe, id, msg);
  }

  private outOfOrder(r: ChainRow, before: ChainRow): AuditChainBroken {
    return this.broken(`${where(r)} was reordered: it follows AuditEvent/${before.id}, which is at position ${before.pos}`, r.id);
  }

  push(r: ChainRow): void {
    if (this.pending) {
      // After a broken link: does the missing predecessor come later (the event was moved up)?
      if (r.hash === this.pending.row.prevHash) throw this.outOfOrder(this.pending.row, r);
      if (++this.pending.seen >= RECENT) throw this.pending.fallback;
      return;
    }
    if (r.pos !== this.pos + 1) {
      if (r.pos <= this.pos) throw this.broken(`${where(r)}: position repeats or goes back (after ${this.pos}): inserted or reordered`, r.id);
      const after = this.last ? ` after AuditEvent/${this.last.id}` : '';
      throw this.broken(`${where(r)}: events at positions ${this.pos + 1}..${r.pos - 1}${after} were removed`, r.id);
    }
    if (r.prevHash !== this.hash) {
      const before = this.recent.get(r.prevHash);
      if (before) throw this.outOfOrder(r, before);
      const fallback = this.last
        ? this.broken(`AuditEvent/${this.last.id} (stripe ${this.stripe}, position ${this.pos}) was edited, or an event between it and AuditEvent/${r.id} was removed: the link between them does not match`, this.last.id)
        : this.broken(`${where(r)}: its link does not match the chain's start (anchor or genesis): an event before it was removed or changed`, r.id);
      this.pending = { row: r, seen: 0, fallback };
      return;
    }
    const h = chainHash(this.hash, hashLine(this.tenant, r));
    if (h !== r.hash) throw this.broken(`${where(r)}: its content does not match its hash: it was edited`, r.id);
    const want = this.expect.get(r.pos);
    if (want && want.hash !== h) throw this.broken(`${where(r)}: differs from the ${want.what}: the chain was rewritten`, r.id);
    this.pos = r.pos;
    this.hash = h;
    this.last = r;
    this.recent.set(h, r);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
  }

  /** Where a walk without a head ended (archive files). */
  position(): { pos: number; hash: string } {
    if (this.pending) throw this.pending.fallback;
    return { pos: this.pos, hash: this.hash };
  }

  /** After the last row: the head (and any checkpoint beyond the rows) must agree with where the chain ended. */
  end(head: { pos: number; hash: string } | undefined): { pos: number; hash: string } {
    if (this.pending) throw this.pending.fallback;
    const lastName = this.last ? `AuditEvent/${this.last.id}` : 'the chain start';
    if (!head) {
      if (this.last) throw new AuditChainBroken(this.tenant, this.stripe, this.last.id, `stripe ${this.stripe}: events exist but the chain head is missing`);
      return { pos: this.pos, hash: this.hash };
    }
    if (head.pos > this.pos) {
      throw new AuditChainBroken(this.tenant, this.stripe, this.last?.id,
        `stripe ${this.stripe}: the chain head is at position ${head.pos} but the events end at ${this.pos}: events after ${lastName} were removed`);
    }
    if (head.pos < this.pos || head.hash !== this.hash) {
      throw new AuditChainBroken(this.tenant, this.stripe, this.last?.id, `stripe ${this.stripe}: the chain head does not match ${lastName}: the head or the tail was changed`);
    }
    for (const [pos, want] of this.expect) {
      if (pos > this.pos) {
        throw new AuditChainBroken(this.tenant, this.stripe, this.last?.id,
          `stripe ${this.stripe}: the ${want.what} covers position ${pos} but the events end at ${this.pos}: events after ${lastName} were removed`);
      }
    }
    return { pos: this.pos, hash: this.hash };
  }
}
