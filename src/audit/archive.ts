// Retention (issue: "a configured retention period after which events are archived (exported, verified)
// before they leave the hot store; the chain stays verifiable across the archive boundary").
// Per stripe, the prefix older than the cutoff is exported to DATA_DIR/audit-archive/<tenant>/ as NDJSON,
// the file is re-read and its chain re-walked from the previous anchor, then a signed anchor (position,
// hash, file SHA-256) is stored and the prefix deleted by audit.archive(), the only delete the
// database allows. The hot chain then starts from the anchor; `audit verify` checks both sides.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Db } from '../store/session.js';
import { withTx } from '../store/session.js';
import { archivablePrefixes, readAnchors, type AnchorRecord } from '../store/audit-read.js';
import { streamEvents, toChainRow, type ChainRow } from '../store/audit-copy.js';
import { archiveAsOwner } from '../store/audit-archive.js';
import { AuditChainBroken, GENESIS_HEX, StripeVerifier } from './chain.js';
import { rowHashes } from './chain-hash.js';
import { canonicalJson } from './canonical.js';
import type { Signer } from './signing.js';

export interface AnchorPayload {
  kind: 'fhirgate-audit-anchor';
  tenant: string;
  stripe: number;
  from: number;
  pos: number;
  hash: string;
  events: number;
  file: string;
  sha256: string;
  at: string;
}

export function archiveDir(dataDir: string, tenant: string): string {
  return join(dataDir, 'audit-archive', tenant);
}

function walkFile(tenant: string, stripe: number, file: string, start: { pos: number; hash: string }): { pos: number; hash: string; events: number; sha256: string } {
  const text = readFileSync(file, 'utf8');
  const v = new StripeVerifier(tenant, stripe, start);
  let events = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line) as ChainRow;
    const h = rowHashes(tenant, r);
    v.push(r.pos, h.id, h.computed, h.hashes);
    events++;
  }
  const end = v.position();
  return { ...end, events, sha256: createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** Re-walks every archive file present against its signed anchor; returns the events checked. */
export function verifyArchives(dataDir: string, tenant: string, anchors: AnchorRecord[]): number {
  let checked = 0;
  const previous = new Map<number, { pos: number; hash: string }>();
  for (const a of anchors) {
    const p = JSON.parse(a.payload) as AnchorPayload;
    const start = previous.get(a.stripe) ?? { pos: 0, hash: GENESIS_HEX };
    previous.set(a.stripe, { pos: a.pos, hash: a.hash });
    const file = join(archiveDir(dataDir, tenant), p.file);
    if (!existsSync(file)) continue; // moved to cold storage: the anchor still carries the chain
    const w = walkFile(tenant, a.stripe, file, start);
    if (w.sha256 !== p.sha256 || w.pos !== a.pos || w.hash !== a.hash) {
      throw new AuditChainBroken(tenant, a.stripe, undefined, `the archive file ${p.file} does not match its signed anchor: it was changed`);
    }
    checked += w.events;
  }
  return checked;
}

export interface ArchiveResult {
  archived: number;
  files: string[];
}

/** Archives every stripe's events recorded before `cutoff` (ISO instant). */
export async function archiveBefore(db: Db, tenant: string, cutoff: string, opts: { dataDir: string; signer: Signer }): Promise<ArchiveResult> {
  const dir = archiveDir(opts.dataDir, tenant);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const result: ArchiveResult = { archived: 0, files: [] };
  const { prefixes, anchors } = await withTx(db, { tenant, role: 'auditor' }, async (tx) => ({ prefixes: await archivablePrefixes(tx, cutoff), anchors: await readAnchors(tx) }));
  for (const pre of prefixes) {
    const prior = anchors.filter((a) => a.stripe === pre.stripe).at(-1);
    const start = prior ? { pos: prior.pos, hash: prior.hash } : { pos: 0, hash: GENESIS_HEX };
    const file = join(dir, `${pre.stripe}-${pre.from}-${pre.to}.ndjson`);
    // 1. export (fsync'd before anything is deleted)
    const fd = openSync(file, 'w', 0o600);
    try {
      await withTx(db, { tenant, role: 'auditor' }, (tx) => streamEvents(tx, (e) => { writeSync(fd, JSON.stringify(toChainRow(e)) + '\n'); }, pre));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // 2. verify the file as written, from the previous anchor
    const w = walkFile(tenant, pre.stripe, file, start);
    if (w.pos !== pre.to) throw new Error(`audit archive: ${basename(file)} ends at ${w.pos}, expected ${pre.to}`);
    // 3. sign the anchor, 4. store it and remove the prefix in one transaction
    const payload: AnchorPayload = {
      kind: 'fhirgate-audit-anchor', tenant, stripe: pre.stripe, from: pre.from, pos: w.pos, hash: w.hash, events: w.events,
      file: basename(file), sha256: w.sha256, at: new Date().toISOString(),
    };
    result.archived += await archiveAsOwner(db, tenant, pre.stripe, w.pos, w.hash, opts.signer.sign(canonicalJson(payload)));
    result.files.push(file);
  }
  return result;
}

/** Retention: archive what is older than `retentionDays`. */
export function archiveExpired(db: Db, tenant: string, retentionDays: number, opts: { dataDir: string; signer: Signer }): Promise<ArchiveResult> {
  return archiveBefore(db, tenant, new Date(Date.now() - retentionDays * 86_400_000).toISOString(), opts);
}
