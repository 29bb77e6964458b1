// Writes prepared units in the caller's transaction with the REST path's versioning rules (R4
// http.html#update, resource-write.ts): an upsert of an id that exists locks the current row and,
// unless nothing but meta would change, stores the next version and keeps the old one in history;
// an id that does not exist is created as version 1. Versions and their index rows go in bulk
// (store/bulk-write.ts): the worker already encoded each as a staging row (prepare.ts). A SearchParameter
// passes the REST write's check first (store/search-params-custom.ts, as resource-write.ts applies it).
import type { Tx } from '../../store/session.js';
import { FhirError } from '../../errors.js';
import { assertSearchParameterFits } from '../../store/search-params-custom.js';
import { insertStaged, lockCurrent, reindexStaged, type CurrentRow } from '../../store/bulk-write.js';
import { replaceResource } from '../../store/resources.js';
import { writeCustomIndex } from '../../store/search-index.js';
import { writeDeidCopies, writeDeidRows, type StoredVersion } from '../../deid/copy.js';
import type { PreparedItem, PreparedUnit } from './prepare.js';
import { lexemeOf } from '../../json/lexemes.js';
import { parseJson } from '../../json/parse.js';
import { stringifyJson } from '../../json/stringify.js';

export interface WriteCounts {
  created: number;
  updated: number;
  /** Upserts whose content equalled the current version apart from meta.versionId/lastUpdated. */
  unchanged: number;
}

/** At most this many resources per COPY and statement, so one huge Bundle does not make one huge statement. */
const ROUND = 5000;

/**
 * JSON text with object keys sorted: equal for equal content whatever order a source wrote it in. Numbers
 * as written (their lexemes, src/json/lexemes.ts): 1.50 and 1.5 differ (R4 datatypes.html#decimal), so a
 * re-import that only changes a decimal's precision stores a new version.
 */
function canonical(v: unknown, holder?: object, key?: string): string {
  if (Array.isArray(v)) return `[${v.map((x, i) => canonical(x, v, String(i))).join(',')}]`;
  if (v === null || typeof v !== 'object') return (typeof v === 'number' && holder ? lexemeOf(holder, key!) : undefined) ?? JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k], o, k)}`).join(',')}}`;
}

/** The content without meta.versionId and meta.lastUpdated: what "unchanged apart from meta" compares. */
export function withoutVersionMeta(content: string): string {
  const r = parseJson(content) as { meta?: Record<string, unknown> };
  if (r.meta) {
    delete r.meta.versionId;
    delete r.meta.lastUpdated;
    if (Object.keys(r.meta).length === 0) delete r.meta;
  }
  return canonical(r);
}

/** The prepared version-1 text as version `version`: the same text with meta.versionId changed in place. */
function restamp(content: string, version: number): string {
  const r = parseJson(content) as { meta: Record<string, unknown> };
  r.meta.versionId = String(version);
  return stringifyJson(r);
}

const keyOf = (i: { type: string; id: string }) => `${i.type}/${i.id}`;

/** One item the write path's rules refuse (422): the writer reports it and writes the rest without it. */
export class RefusedItem extends FhirError {
  constructor(readonly item: PreparedItem, cause: FhirError) {
    super(cause.status, cause.issues[0]?.code ?? 'invalid', cause.message, { issues: cause.issues });
  }
}

/**
 * A SearchParameter must fit next to the tenant's other current ones: one code per type, no built-in shadowed,
 * no url shared, an expression that compiles (R4 searchparameter.html; store/search-params-custom.ts). Each is
 * checked and written on its own, so the next one's check sees it (in this transaction) and two in one
 * batch cannot both take the same code; the check's lock serialises them with REST writes until commit.
 */
async function checkSearchParameter(tx: Tx, item: PreparedItem): Promise<void> {
  try {
    await assertSearchParameterFits(tx, parseJson(item.content) as Record<string, unknown>);
  } catch (e) {
    throw e instanceof FhirError ? new RefusedItem(item, e) : e;
  }
}

/** The round's SearchParameters, each in a round of its own after the rest (keys are unique within a round, so order per key holds). */
function apartSearchParameters(round: PreparedItem[]): PreparedItem[][] {
  if (!round.some((i) => i.type === 'SearchParameter')) return [round];
  const rest = round.filter((i) => i.type !== 'SearchParameter');
  return [...(rest.length ? [rest] : []), ...round.filter((i) => i.type === 'SearchParameter').map((i) => [i])];
}

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
 * One round: every item goes to the staging table by COPY; those without a current row become version 1
 * with their index rows in the same statement (store/bulk-write.ts), the rest are locked in rid order and
 * compared. Inserting first keeps concurrent import transactions from queueing behind each other for the
 * few resources they share (Synthea's Organizations): one that another transaction is creating is waited
 * for and then updated like any existing resource.
 */
async function writeRound(tx: Tx, round: PreparedItem[], counts: WriteCounts): Promise<void> {
  if (round.length === 1 && round[0].type === 'SearchParameter') await checkSearchParameter(tx, round[0]);
  const upsert = round.some((i) => i.mode === 'upsert');
  // In (type, id) order: two importers inserting the same new resources wait for each other, never deadlock.
  const items = upsert ? round.slice().sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : round;
  const rids = await insertStaged(tx, items.map((i) => i.stage), { skipExisting: upsert });
  const fresh = rids.size === items.length ? items : items.filter((i) => rids.has(keyOf(i)));
  counts.created += fresh.length;
  await writeCustomIndex(tx, fresh.map((i) => ({ rid: rids.get(keyOf(i))!, type: i.type, content: i.content })), { fresh: true });
  const old = fresh.length === items.length ? [] : items.filter((i) => !rids.has(keyOf(i)));
  const current: Map<string, CurrentRow> = old.length ? await lockCurrent(tx, old) : new Map();
  const replaced: Array<{ rid: string; type: string; id: string; line: string; content: string }> = [];
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
    await replaceResource(tx, { ...prior }, { type: item.type, id: item.id, version, lastUpdated: item.lastUpdated, deleted: false, compartments: item.compartments, content });
    replaced.push({ rid: prior.rid, type: item.type, id: item.id, line: item.stage, content });
    replacedCopies.push({ content, version, compartments: item.compartments });
    counts.updated++;
  }
  // The index does not depend on meta.versionId: the staged arrays of version 1 serve the new version.
  await reindexStaged(tx, replaced);
  await writeCustomIndex(tx, replaced);
  // HOOK(deid): the de-identified copies of this round's new and replaced versions, in the same transaction
  // as the versions themselves (as resource-write.ts does per resource), so none is committed without its copy.
  // New versions' copies were made by the workers (prepare.ts); replaced ones are made here, as version N.
  await writeDeidRows(tx, fresh.flatMap((i) => (i.deid ? [i.deid] : [])));
  await writeDeidCopies(tx, replacedCopies);
}

/** Writes every unit's items in `tx`; throws (and the caller rolls back) on the first database error or RefusedItem. */
export async function writeUnits(tx: Tx, units: PreparedUnit[]): Promise<WriteCounts> {
  const counts: WriteCounts = { created: 0, updated: 0, unchanged: 0 };
  for (const round of rounds(units.flatMap((u) => u.items), counts)) {
    for (const part of apartSearchParameters(round)) await writeRound(tx, part, counts);
  }
  // HOOK(audit): the batch's AuditEvent (an import by `tx.ctx.actor`: types and counts written, the patients
  // whose compartments they are in) is appended here, as the transaction's last statement (tx.beforeCommit).
  return counts;
}
