// Reference rewriting for import, the same rules as a REST transaction (R4 http.html#trules, and
// src/fhir/interactions/bundle.ts): a reference to an entry's fullUrl (urn:uuid:…, urn:oid:…, absolute URL)
// becomes that entry's `Type/id`; an absolute reference to this server's base becomes relative; a
// conditional reference `Type?criteria` must match exactly one resource. Unlike the REST helper this
// works in place and synchronously: the importer owns the parsed resource, and copying every node of
// ~200,000 resources through promises would cost more than the rest of the import.

/** Where a `reference` string sits, so it can be replaced after the walk. */
export interface RefSlot {
  holder: Record<string, unknown>;
  value: string;
}

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?(.+)$/;

/** Every `reference` string under `node` (contained resources included: their references follow the same rules). */
export function collectReferences(node: unknown, out: RefSlot[]): RefSlot[] {
  if (Array.isArray(node)) {
    for (const v of node) if (v !== null && typeof v === 'object') collectReferences(v, out);
    return out;
  }
  if (node === null || typeof node !== 'object') return out;
  const obj = node as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (k === 'reference' && typeof v === 'string') out.push({ holder: obj, value: v });
    else if (v !== null && typeof v === 'object') collectReferences(v, out);
  }
  return out;
}

export function conditionalTarget(ref: string): { type: string; query: string } | undefined {
  const m = CONDITIONAL.exec(ref);
  return m ? { type: m[1], query: m[2] } : undefined;
}

/** The conditional references among the slots that `resolved` does not answer yet. */
export function unresolvedConditionals(slots: RefSlot[], resolved: ReadonlyMap<string, string[] | string>): string[] {
  const out = new Set<string>();
  for (const s of slots) if (conditionalTarget(s.value) && !resolved.has(s.value)) out.add(s.value);
  return [...out];
}

/**
 * Rewrites the slots in place. `idMap`: fullUrl → `Type/id`; `resolved`: conditional reference → ids that
 * match it (or why they could not be looked up). Returns the first problem (nothing is partially meaningful then: the caller rejects the entry).
 */
export function rewriteSlots(slots: RefSlot[], idMap: ReadonlyMap<string, string>, base: string, resolved: ReadonlyMap<string, string[] | string>): string | undefined {
  for (const s of slots) {
    const ref = s.value;
    const mapped = idMap.get(ref);
    if (mapped) {
      s.holder.reference = mapped;
      continue;
    }
    if (ref.startsWith(base + '/')) {
      s.holder.reference = ref.slice(base.length + 1);
      continue;
    }
    const cond = conditionalTarget(ref);
    if (cond) {
      const ids = resolved.get(ref);
      if (ids === undefined) return `conditional reference ${cond.type}?… was not resolved`;
      if (typeof ids === 'string') return `conditional reference ${cond.type}?… could not be resolved: ${ids}`;
      if (ids.length !== 1) return `conditional reference ${cond.type}?… matched ${ids.length === 0 ? 'no' : 'more than one'} resource`;
      s.holder.reference = `${cond.type}/${ids[0]}`;
      continue;
    }
    if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) return `reference '${ref.slice(0, 80)}' names no entry of the Bundle`;
  }
  return undefined;
}
