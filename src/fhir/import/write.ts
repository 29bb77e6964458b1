// Writes prepared units in the caller's transaction with the REST path's versioning rules (R4
// http.html#update, resource-write.ts): an upsert of an id that exists locks the current row and,
// unless nothing but meta would change, stores the next version and keeps the old one in history;
// an id that does not exist is created as version 1. New rows go in bulk (store/bulk-write.ts),
// index rows in one writeIndex call per round.
import type { Tx } from '../../store/session.js';
import { findExisting, insertNew, lockCurrent, type CurrentRow, type NewRow } from '../../store/bulk-write.js';
import { replaceResource } from '../../store/resources.js';
import { writeIndex, type IndexWrite } from '../../store/search-index.js';
import { writeDeidCopies, type StoredVersion } from '../../deid/copy.js';
import type { PreparedItem, PreparedUnit } from './prepare.js';

export interface WriteCounts {
  created: number;
  updated: number;
  /** Upserts whose content equalled the current version apart from meta.versionId/lastUpdated. */
  unchanged: number;
}

/** At most this many resources per COPY and writeIndex call, so one huge Bundle does not make one huge statement. */
const ROUND = 5000;

/** JSON text with object keys sorted: equal for equal content whatever order a source wrote it in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

/** The content without meta.versionId and meta.lastUpdated: what "unchanged apart from meta" compares. */
export function withoutVersionMeta(content: string): string {
  const r = JSON.parse(content) as { meta?: Record<string, unknown> };
  if (r.meta) {
    delete r.meta.versionId;
    delete r.meta.lastUpdated;
    if (Object.keys(r.meta).length === 0) delete r.meta;
  }
  return canonical(r);
}

/** The prepared version-1 text as version `version`: the same text with meta.versionId changed in place. */
function restamp(content: string, version: number): string {
  const r = JSON.parse(content) as { meta: Record<string, unknown> };
  r.meta.versionId = String(version);
  return JSON.stringify(r);
}

const keyOf = (i: { type: string; id: string }) => `${i.type}/${i.id}`;

/**
 * Rounds in which every key appears once, in input order per key: a resource repeated in one batch
 * (Synthea's Organizations) becomes successive versions, or nothing when it repeats unchanged.
 */
function rounds(items: PreparedItem[], counts: WriteCounts): PreparedItem[][] {
  const out: PreparedItem[][] = [];
  const last = new Map<string, { item: PreparedItem; round: number }>();
  for (const item of items) {
    const key = keyOf(item);
    const prev = last.get(key);
    if (prev && withoutVersionMeta(prev.item.content) === withoutVersionMeta(item.content)) {
      counts.unchanged++;
      continue;
    }
    const round = prev ? prev.round + 1 : 0;
    last.set(key, { item, round });
    (out[round] ??= []).push(item);
  }
  return out.flatMap((r) => {
    const parts: PreparedItem[][] = [];
    for (let i = 0; i < r.length; i += ROUND) parts.push(r.slice(i, i + ROUND));
    return parts;
  });
}

/**
 * One round: resources without a current row first (COPY, then their index rows), then the ones that
 * exist, locked in rid order and compared. Locking last keeps concurrent import transactions from
 * queueing behind each other for the few resources they share (Synthea's Organizations); a resource
 * another transaction creates meanwhile makes this one fail on the unique key, and the importer retries
 * its units one by one, after that transaction committed.
 */
async function writeRound(tx: Tx, items: PreparedItem[], counts: WriteCounts): Promise<void> {
  const tenant = tx.ctx.tenant;
  const upserts = items.filter((i) => i.mode === 'upsert');
  const existing = upserts.length ? await findExisting(tx, upserts) : new Set<string>();
  const fresh = existing.size ? items.filter((i) => !existing.has(keyOf(i))) : items;
  const rows: NewRow[] = fresh.map((i) => ({ type: i.type, id: i.id, version: 1, lastUpdated: i.lastUpdated, compartments: i.index.compartments, content: i.content }));
  const rids = await insertNew(tx, rows);
  const index: IndexWrite[] = fresh.map((i) => ({ rid: rids.get(keyOf(i))!, tenant, type: i.type, index: i.index }));
  counts.created += fresh.length;
  await writeIndex(tx, index);
  const old = existing.size ? items.filter((i) => existing.has(keyOf(i))) : [];
  const current: Map<string, CurrentRow> = old.length ? await lockCurrent(tx, old) : new Map();
  const replaced: IndexWrite[] = [];
  const replacedCopies: StoredVersion[] = [];
  for (const item of old) {
    const prior = current.get(keyOf(item));
    if (!prior) throw new Error(`${keyOf(item)} disappeared during import`);
    if (!prior.deleted && withoutVersionMeta(prior.content) === withoutVersionMeta(item.content)) {
      counts.unchanged++;
      continue;
    }
    const version = prior.version + 1;
    const content = restamp(item.content, version);
    await replaceResource(tx, { ...prior }, { type: item.type, id: item.id, version, lastUpdated: item.lastUpdated, deleted: false, compartments: item.index.compartments, content });
    replaced.push({ rid: prior.rid, tenant, type: item.type, index: item.index });
    replacedCopies.push({ content, version, compartments: item.index.compartments });
    counts.updated++;
  }
  await writeIndex(tx, replaced);
  // HOOK(deid): the de-identified copies of this round's new and replaced versions, in the same transaction
  // as the versions themselves (as resource-write.ts does per resource), so none is committed without its copy.
  await writeDeidCopies(tx, [...fresh.map((i) => ({ content: i.content, version: 1, compartments: i.index.compartments })), ...replacedCopies]);
}

/** Writes every unit's items in `tx`; throws (and the caller rolls back) on the first database error. */
export async function writeUnits(tx: Tx, units: PreparedUnit[]): Promise<WriteCounts> {
  const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
  for (const round of rounds(units.flatMap((u) => u.items), counts)) await writeRound(tx, round, counts);
  // HOOK(audit): the batch's AuditEvent (an import by `tx.ctx.actor`: types and counts written, the patients
  // whose compartments they are in) is appended here, as the transaction's last statement (tx.beforeCommit).
  return counts;
}
