// Keeping the de-identified copy in step with the identified data: called by the write path
// (src/fhir/resource-write.ts) in the same transaction as every create, update, patch and delete, so
// the copy can never lag or outlive its source. Also the rebuild after an HMAC key rotation.
import type { Tx, Db } from '../store/session.js';
import { withTx } from '../store/session.js';
import { identifiedPage, putDeid, putDeidMany, removeDeid, retainDeidKey, type DeidRow } from '../store/deid.js';
import { deidentify, EXCLUDED_TYPES } from './safe-harbor.js';
import { pseudonymsFor } from './pseudonym.js';
import { deidSettings, type DeidSettings } from './settings.js';

function copyOf(tenant: string, resource: object, version: number, compartments: readonly string[], settings: DeidSettings): DeidRow | undefined {
  const p = pseudonymsFor(settings.key, settings.keyId, tenant);
  const d = deidentify(resource as Record<string, unknown>, compartments, { mode: settings.mode, pseudonyms: p, now: new Date() });
  if (!d) return undefined;
  return {
    type: String((resource as { resourceType: unknown }).resourceType), id: d.id, version, compartments: d.compartments,
    content: JSON.stringify(d.resource), keyId: settings.keyId, qiBirth: d.qi?.birth, qiSex: d.qi?.sex, qiZip3: d.qi?.zip3,
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
    const resource = typeof it.content === 'string' ? (JSON.parse(it.content) as object) : it.content;
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
 * Rebuilds a tenant's whole copy with `settings` (after rotateDeidKey): one transaction as a backend
 * service, so researchers never see old and new pseudonyms mixed. Returns the resources copied.
 */
export async function rebuildDeid(db: Db, tenant: string, settings: DeidSettings): Promise<{ copied: number; removed: number }> {
  return withTx(db, { tenant, role: 'system', scopes: 'system/*.rs' }, async (tx) => {
    let after = '0';
    let copied = 0;
    for (;;) {
      const page = await identifiedPage(tx, after, 500);
      if (page.length === 0) break;
      for (const r of page) {
        const resource = JSON.parse(r.content) as Record<string, unknown>;
        await writeDeidCopy(tx, resource, Number((resource.meta as { versionId?: string } | undefined)?.versionId ?? 1), r.compartments, settings);
        copied++;
      }
      after = page[page.length - 1].rid;
    }
    const removed = await retainDeidKey(tx, settings.keyId);
    return { copied, removed };
  });
}
