// References of a transaction entry's resource rewritten before anything is written (R4 http.html#trules,
// bundle.html "Resolving references in Bundles"; fhirgate import follows the same rules in
// import/references.ts): an entry's fullUrl becomes its `Type/id`, a relative reference is first read
// against the entry's own RESTful fullUrl, a version-specific reference to an entry names the version the
// transaction writes, an absolute URL under this base becomes relative, and a conditional reference must
// match exactly one resource (looked up once per Bundle).
import { badRequest, preconditionFailed } from '../errors.js';
import { parseCriteria } from './criteria.js';
import { collectReferences, conditionalTarget } from './import/references.js';
import { filteringCriteria } from './conditional-criteria.js';

export type Finder = (type: string, criteria: Array<[string, string]>) => Promise<Array<{ id: string }>>;

export interface RewriteContext {
  /** fullUrl → `Type/id` of every entry the transaction creates or updates. */
  idMap: ReadonlyMap<string, string>;
  /** Conditional reference → `Type/id`, shared by the Bundle's entries. */
  cache: Map<string, string>;
  find: Finder;
  base: string;
  /** The version the entry of this fullUrl (a key of idMap) writes (bundle-plan.ts plannedVersions). */
  versionOf: (fullUrl: string) => Promise<number>;
}

// bundle.html: "the RESTful URL regex" — [root]/[type]/[id], optionally versioned.
const RESTFUL = /^(https?:\/\/.+)\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const RELATIVE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;
const VERSIONED = /^(.+)\/_history\/[A-Za-z0-9\-.]{1,64}$/;

/** The fullUrl of the entry `ref` names: itself, or `[root]/[type]/[id]` beside a RESTful fullUrl (bundle.html). */
function entryUrl(ref: string, root: string | undefined, idMap: ReadonlyMap<string, string>): string | undefined {
  if (idMap.has(ref)) return ref;
  return root && RELATIVE.test(ref) && idMap.has(`${root}/${ref}`) ? `${root}/${ref}` : undefined;
}

/**
 * A version-specific reference to an entry (`[fullUrl]/_history/[vid]`, absolute or relative to a RESTful root):
 * bundle.html has "If the reference is version specific (either relative or absolute), then remove the version
 * from the URL before matching fullUrl", and #trules "Version-specific references should remain as
 * version-specific references after the references have been updated" with versions "re-assigned": it names
 * the entry's new `Type/id` at the version this transaction writes, whatever version it said. A urn:uuid
 * names no version (bundle.html's RESTful forms only), so `urn:uuid:…/_history/1` matches no entry.
 */
async function versionedEntry(ref: string, root: string | undefined, c: RewriteContext): Promise<string | undefined> {
  const m = VERSIONED.exec(ref);
  if (!m || !(/^https?:\/\//.test(m[1]) || RELATIVE.test(m[1]))) return undefined;
  const url = entryUrl(m[1], root, c.idMap);
  return url ? `${c.idMap.get(url)}/_history/${await c.versionOf(url)}` : undefined;
}

/**
 * Rewrites `resource`'s references in place (the Bundle is the request's own; copying every node costs more
 * than storing it). `fullUrl` is the entry's own: "if the reference has the format [type]/[id], and if the
 * fullUrl for the bundle entry containing the resource is a RESTful one, extract the [root] from the fullUrl,
 * and append the reference (type/id) to it, then try to resolve within the bundle" (bundle.html), so
 * `Patient/1` beside a fullUrl `http://other/fhir/Observation/2` names the entry `http://other/fhir/Patient/1`.
 */
export async function rewriteInPlace(resource: object, fullUrl: string | undefined, c: RewriteContext): Promise<void> {
  // A Bundle stored as a resource (a document, a message) keeps its entries' references as they are, as a
  // plain create stores it (interactions/write.ts): its urn:uuids name its own entries, not this
  // transaction's, and its conditional references are not this transaction's to resolve. Only links to
  // this transaction's entries are replaced ("Servers SHALL replace all matching links in the bundle").
  const own = (resource as { resourceType?: unknown }).resourceType !== 'Bundle';
  const root = own && fullUrl ? RESTFUL.exec(fullUrl)?.[1] : undefined;
  for (const s of collectReferences(resource, [])) {
    const ref = s.value;
    const url = entryUrl(ref, root, c.idMap);
    const mapped = url ? c.idMap.get(url) : await versionedEntry(ref, root, c);
    if (mapped) s.holder.reference = mapped;
    else if (!own) continue;
    else if (ref.startsWith(c.base + '/')) s.holder.reference = ref.slice(c.base.length + 1);
    else {
      const t = conditionalTarget(ref);
      if (!t) {
        if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) throw badRequest(`reference '${ref.slice(0, 80)}' names no entry of the transaction`);
        continue;
      }
      let resolved = c.cache.get(ref);
      if (!resolved) {
        // "if there are no matches, or multiple matches, the transaction fails" (http.html#trules).
        const found = await c.find(t.type, filteringCriteria(parseCriteria(t.query), `conditional reference ${t.type}?…`, 'reference'));
        if (found.length !== 1) throw preconditionFailed(`conditional reference ${t.type}?… matched ${found.length === 0 ? 'no' : 'more than one'} resource`);
        c.cache.set(ref, (resolved = `${t.type}/${found[0].id}`));
      }
      s.holder.reference = resolved;
    }
  }
}
