// `fhirgate audit verify` (CONTRACT.md): walks every chain of a tenant as the auditor role and checks
// (patterns §3.2) each event's hash, its link to the previous event, contiguous positions, that each
// chain ends at its head, every signed checkpoint (database and DATA_DIR copies) against the events,
// and every archive anchor's signature. Throws AuditChainBroken naming the first broken event. Then that
// audit.patient_link, the index of the auditor's patient search, holds exactly the patients the events
// list (migrations/042): a removed link would hide an access from "who accessed this patient".
// Speed (issue: ≥100,000 events/s): the stripes are split over several connections by size, each
// streaming binary COPY in index order, and every event is hashed from the received bytes on this
// thread (chain-hash.ts). Measured on 2 cores, recomputing the hashes in PostgreSQL instead (sha256()
// over audit.hash_line(), one backend) cost 11–18 µs per 2 KB event against ~2 µs in Node (OpenSSL
// with SHA extensions), so PostgreSQL only reads and sends.
import type { Db, Tx } from '../store/session.js';
import { patientLinkCheck, readAnchors, readCheckpoints, readHeads, stripeExtents, withAuditSnapshots, type AnchorRecord, type Head, type SignedRecord, type StripeExtent } from '../store/audit-read.js';
import { F, int64, streamTuples, type TupleSink } from '../store/audit-copy.js';
import { AuditChainBroken, StripeVerifier, GENESIS_HEX } from './chain.js';
import { TupleHasher } from './chain-hash.js';
import { readCheckpointFile, type CheckpointPayload } from './checkpoint.js';
import type { TrustedKeys } from './signing.js';
import { verifyArchives, type AnchorPayload } from './archive.js';

export interface VerifyOptions {
  dataDir: string;
  trusted: TrustedKeys;
  /** Also re-walk the archived NDJSON files found in DATA_DIR/audit-archive (default true). */
  archives?: boolean;
  /** Connections streaming stripes in parallel (default: up to 4, within the pool's size). */
  streams?: number;
}

export interface VerifyReport {
  events: number;
  ok: true;
  tenant: string;
  stripes: number;
  checkpoints: number;
  anchors: number;
  archivedEvents: number;
  seconds: number;
  eventsPerSecond: number;
}

function broken(tenant: string, msg: string): AuditChainBroken {
  return new AuditChainBroken(tenant, -1, undefined, msg);
}

function checkAnchors(tenant: string, anchors: AnchorRecord[], trusted: TrustedKeys): Map<number, AnchorRecord> {
  const latest = new Map<number, AnchorRecord>();
  for (const a of anchors) {
    if (!trusted.verify(a)) throw broken(tenant, `the archive anchor of stripe ${a.stripe} at position ${a.pos} is not signed by a trusted key`);
    const p = JSON.parse(a.payload) as AnchorPayload;
    if (p.tenant !== tenant || p.stripe !== a.stripe || p.pos !== a.pos || p.hash !== a.hash) {
      throw broken(tenant, `the archive anchor of stripe ${a.stripe} at position ${a.pos} does not match its signed content`);
    }
    latest.set(a.stripe, a);
  }
  return latest;
}

/** Database and file checkpoints, each signature checked; a file checkpoint missing from the table is a deletion. */
function checkpoints(tenant: string, inDb: SignedRecord[], inFile: SignedRecord[], trusted: TrustedKeys): CheckpointPayload[] {
  const seen = new Map<string, SignedRecord>();
  for (const c of inDb) seen.set(c.signature, c);
  for (const c of inFile) {
    if (!seen.has(c.signature)) {
      const at = (JSON.parse(c.payload) as CheckpointPayload).at;
      throw broken(tenant, `the signed checkpoint of ${at} kept in the data directory is missing from audit.checkpoint: it was deleted`);
    }
  }
  const out: CheckpointPayload[] = [];
  for (const c of seen.values()) {
    if (!trusted.verify(c)) throw broken(tenant, 'a checkpoint in audit.checkpoint is not signed by a trusted key');
    const p = JSON.parse(c.payload) as CheckpointPayload;
    if (p.tenant !== tenant) throw broken(tenant, `a checkpoint of tenant ${p.tenant} is stored under tenant ${tenant}`);
    out.push(p);
  }
  return out;
}

/** The patients an event lists: none, or one more than the spaces between them (src/audit/balp.ts). */
function listedPatients(buf: Buffer, s: Int32Array): number {
  const start = s[F.patient];
  const end = start + buf.readInt32BE(start - 4);
  let n = end > start ? 1 : 0;
  for (let i = start; i < end; i++) if (buf[i] === 0x20) n++;
  return n;
}

/** The tuple sink of a verification: each event hashed from its bytes and pushed to its stripe's walker. */
function sinkFor(tenant: string, verifier: (stripe: number) => StripeVerifier, listed: { n: number }): TupleSink {
  const hasher = new TupleHasher(tenant);
  let stripe = NaN;
  let v: StripeVerifier | undefined;
  return (buf, s) => {
    listed.n += listedPatients(buf, s);
    const st = buf.readInt16BE(s[F.stripe]);
    if (st !== stripe || !v) {
      stripe = st;
      v = verifier(st);
    }
    const computed = hasher.compute(buf, s);
    v.push(int64(buf, s[F.pos]), hasher.id(), computed, hasher);
  };
}

/** Streams every stripe, the stripes dealt to the connections largest first (each to the least loaded). */
async function streamAll(txs: Tx[], extents: StripeExtent[], sink: TupleSink): Promise<number> {
  const lists = txs.map(() => ({ size: 0, stripes: [] as number[] }));
  for (const e of [...extents].sort((a, b) => (b.to - b.from) - (a.to - a.from))) {
    const least = lists.reduce((a, b) => (b.size < a.size ? b : a));
    least.stripes.push(e.stripe);
    least.size += e.to - e.from + 1;
  }
  const counts = await Promise.all(lists.map((l, i) => (l.stripes.length ? streamTuples(txs[i], sink, { stripes: l.stripes }) : 0)));
  return counts.reduce((a, b) => a + b, 0);
}

export async function verifyAudit(db: Db, tenant: string, opts: VerifyOptions): Promise<VerifyReport> {
  const started = process.hrtime.bigint();
  const poolMax = (db.pool as { options?: { max?: number } }).options?.max ?? 1;
  // One more connection checks audit.patient_link while the streams run (on ×10's 13 M events the check
  // reads the whole event table once more: ~60 s alone), when the pool has room for it.
  const conns = Math.max(1, Math.min((opts.streams ?? 4) + 1, poolMax));
  const streams = Math.max(1, conns - 1);
  return withAuditSnapshots(db, tenant, conns, async (all) => {
    const txs = all.slice(0, streams);
    const tx = txs[0];
    const linkCheck = all.length > streams ? patientLinkCheck(all[streams]) : undefined;
    linkCheck?.catch(() => {}); // awaited below; a broken chain found first must not leave it unhandled
    const anchors = await readAnchors(tx);
    const latest = checkAnchors(tenant, anchors, opts.trusted);
    const archivedEvents = opts.archives === false ? 0 : verifyArchives(opts.dataDir, tenant, anchors);
    const heads = new Map<number, Head>((await readHeads(tx)).map((h) => [h.stripe, h]));
    const verifiers = new Map<number, StripeVerifier>();
    const verifier = (stripe: number) => {
      let v = verifiers.get(stripe);
      if (!v) {
        const a = latest.get(stripe);
        v = new StripeVerifier(tenant, stripe, a ? { pos: a.pos, hash: a.hash } : { pos: 0, hash: GENESIS_HEX });
        verifiers.set(stripe, v);
      }
      return v;
    };
    const cps = checkpoints(tenant, await readCheckpoints(tx), readCheckpointFile(opts.dataDir, tenant), opts.trusted);
    for (const cp of cps) {
      for (const h of cp.heads) {
        const a = latest.get(h.stripe);
        if (a && h.pos <= a.pos) {
          if (h.pos === a.pos && h.hash !== a.hash) throw broken(tenant, `stripe ${h.stripe}: the checkpoint of ${cp.at} disagrees with the archive anchor`);
          continue; // archived: checked against the archive files
        }
        const v = verifier(h.stripe);
        const prior = v.expect.get(h.pos);
        if (prior && prior.hash !== h.hash) throw broken(tenant, `stripe ${h.stripe}: two signed checkpoints disagree at position ${h.pos}`);
        v.expect.set(h.pos, { hash: h.hash, what: `signed checkpoint of ${cp.at}` });
      }
    }
    const listed = { n: 0 };
    const events = await streamAll(txs, await stripeExtents(tx), sinkFor(tenant, verifier, listed));
    for (const stripe of new Set([...heads.keys(), ...verifiers.keys()])) verifier(stripe).end(heads.get(stripe));
    const links = await (linkCheck ?? patientLinkCheck(tx));
    if (links.stray > 0) throw broken(tenant, `${links.stray} patient links in audit.patient_link name no event listing that patient: the patient index was edited`);
    if (links.links !== listed.n) throw broken(tenant, `audit.patient_link holds ${links.links} patient links where the events list ${listed.n}: the patient index was edited`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      events, ok: true as const, tenant, stripes: verifiers.size, checkpoints: cps.length, anchors: anchors.length, archivedEvents,
      seconds: Math.round(seconds * 1000) / 1000, eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : events,
    };
  });
}
