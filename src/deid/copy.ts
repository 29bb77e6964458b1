// Keeping the de-identified copy in step with the identified data: called by the write path
// (src/fhir/resource-write.ts) in the same transaction as every create, update, patch and delete, so
// the copy can never lag or outlive its source. Also the rebuild after an HMAC key rotation.
// Each copy gets its search index (deid.sp_*, migrations/040_deid_search_index.sql) from the normal
// extraction (src/search/extract.ts) run on the DE-IDENTIFIED resource, never on the source: a researcher's
// search can only match what the copy itself shows (years, ZIP3, pseudonymous references; no names or
// identifiers). Built-in search parameters only (a tenant's custom ones are not on the de-identified side).
import type { Resource } from 'fhir/r4';
import type { Tx, Db } from '../store/session.js';
import { withTx } from '../store/session.js';
import { identifiedPage, putDeid, putDeidMany, removeDeid, retainDeidKey, type DeidRow } from '../store/deid.js';
import { extractIndex } from '../search/extract.js';
import { deidentify, EXCLUDED_TYPES } from './safe-harbor.js';
import { pseudonymsFor } from './pseudonym.js';
import { deidSettings, type DeidSettings } from './settings.js';
import { carryLexemes } from '../json/lexemes.js';
import { parseJson } from '../json/parse.js';
import { stringifyJson } from '../json/stringify.js';

/** 1 January (UTC) of the source's lastUpdated year: all of it a Safe Harbor copy may keep (§164.514(b)(2)(i)(C)). */
function lastUpdatedYear(resource: object): string {
  const lu = (resource as { meta?: { lastUpdated?: unknown } }).meta?.lastUpdated;
  const year = typeof lu === 'string' && /^\d{4}/.test(lu) ? lu.slice(0, 4) : String(new Date().getUTCFullYear());
  return `${year}-01-01T00:00:00Z`;
}

function copyOf(tenant: string, resource: object, version: number, compartments: readonly string[], settings: DeidSettings): DeidRow | undefined {
  const p = pseudonymsFor(settings.key, settings.keyId, tenant);
  const d = deidentify(resource as Record<string, unknown>, compartments, { mode: settings.mode, pseudonyms: p, now: new Date() });
  if (!d) return undefined;
  return {
    type: String((resource as { resourceType: unknown }).resourceType), id: d.id, version, compartments: d.compartments,
    // The decimals the copy keeps unchanged keep their precision as written (src/json/lexemes.ts).
    content: stringifyJson(carryLexemes(resource, d.resource)), keyId: settings.keyId, lastUpdated: lastUpdatedYear(resource),
    index: extractIndex(d.resource as unknown as Resource), qiBirth: d.qi?.birth, qiSex: d.qi?.sex, qiZip3: d.qi?.zip3,
  };
}

/** The copy of a just-stored version (`resource` as stored, `compartments` from its index). */
export async function writeDeidCopy(tx: Tx, resource: object, version: number, compartments: readonly string[], settings: DeidSettings = deidSettings()): Promise<void> {
  const row = copyOf(tx.ctx.tenant, resource, version, compartments, settings);
  if (row) await putDeid(tx, row);
}

export interface StoredVersion {
  /** The stored JSON text, or the resource object. */
  content: string | object;
  version: number;
  compartments: readonly string[];
}

/** Many versions in one statement: the importer's HOOK(deid), once per round (src/fhir/import/write.ts). */
export async function writeDeidCopies(tx: Tx, items: readonly StoredVersion[], settings: DeidSettings = deidSettings()): Promise<void> {
  const rows: DeidRow[] = [];
  for (const it of items) {
    const resource = typeof it.content === 'string' ? (parseJson(it.content) as object) : it.content;
    const row = copyOf(tx.ctx.tenant, resource, it.version, it.compartments, settings);
    if (row) rows.push(row);
  }
  await putDeidMany(tx, rows);
}

/** A delete: the copy goes (a tombstone has nothing to de-identify). */
export async function removeDeidCopy(tx: Tx, type: string, id: string, settings: DeidSettings = deidSettings()): Promise<void> {
  if (EXCLUDED_TYPES.has(type)) return;
  await removeDeid(tx, type, pseudonymsFor(settings.key, settings.keyId, tx.ctx.tenant).id(type, id));
}

/**
 * Rebuilds a tenant's whole copy and its search index with `settings`: after rotateDeidKey, and with the
 * current settings (`rebuildDeid(db, tenant, deidSettings())`, idempotent) to index copies written before
 * migration 040 or to refresh them after an extraction change. One transaction as a backend service, so
 * researchers never see old and new pseudonyms mixed. Returns the resources copied and copies removed.
 */
export async function rebuildDeid(db: Db, tenant: string, settings: DeidSettings): Promise<{ copied: number; removed: number }> {
  return withTx(db, { tenant, role: 'system', scopes: 'system/*.rs' }, async (tx) => {
    let after = '0';
    let copied = 0;
    for (;;) {
      const page = await identifiedPage(tx, after, 500);
      if (page.length === 0) break;
      const items = page.map((r) => {
        const resource = parseJson(r.content) as Record<string, unknown>;
        return { content: resource, version: Number((resource.meta as { versionId?: string } | undefined)?.versionId ?? 1), compartments: r.compartments };
      });
      await writeDeidCopies(tx, items, settings); // copies and their index rows, one statement per page
      copied += page.length;
      after = page[page.length - 1].rid;
    }
    const removed = await retainDeidKey(tx, settings.keyId);
    return { copied, removed };
  });
}

/**
 * The copy of one stored version as the row putDeidMany writes (undefined: a type never copied): what
 * writeDeidCopies computes per item, for callers that compute rows off the request's thread (import
 * workers, src/fhir/import/prepare.ts) and write them with writeDeidRows in the version's transaction.
 */
export function deidRowOf(tenant: string, resource: object, version: number, compartments: readonly string[], settings: DeidSettings = deidSettings()): DeidRow | undefined {
  return copyOf(tenant, resource, version, compartments, settings);
}

/** Rows from deidRowOf, in one statement (the same as writeDeidCopies after its per-item work). */
export async function writeDeidRows(tx: Tx, rows: readonly DeidRow[]): Promise<void> {
  await putDeidMany(tx, rows);
}
