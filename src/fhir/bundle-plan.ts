// A transaction's entries checked and given their identities before anything is written (R4 http.html#trules):
// each entry is routed as the same request over HTTP would be, every created or updated resource gets the id
// it will have (so references to it can be rewritten), and "if any resource identities (including resolved
// identities from conditional update/delete) overlap in steps 1-3, then the transaction SHALL fail".
import type { BundleEntry } from 'fhir/r4';
import type { FhirRequest } from './types.js';
import type { Services } from './services.js';
import type { Tx } from '../store/session.js';
import { readCurrent, type StoredResource } from '../store/resources.js';
import { badRequest, FhirError, preconditionFailed } from '../errors.js';
import { match } from './routes.js';
import { findMatches, parseCriteria } from './criteria.js';
import { newId } from './resource-write.js';
import { filteringCriteria } from './conditional-criteria.js';

export interface Planned {
  index: number;
  entry: BundleEntry;
  req: FhirRequest;
  /** For POST and PUT: the resource's type and the id it will have. */
  target?: { type: string; id: string };
  /** A conditional create that matched: nothing to write, answer 200 with the match. */
  existing?: StoredResource;
}

/** A failure of one entry, naming it (the transaction's single OperationOutcome must say which entry failed). */
export function inEntry(e: unknown, p: Planned): unknown {
  if (!(e instanceof FhirError)) return e;
  return new FhirError(e.status, e.issues[0]?.code ?? 'processing', `entry ${p.index} (${p.req.method} ${p.entry.request?.url ?? ''}): ${e.message}`,
    { issues: e.issues.map((i) => ({ ...i, diagnostics: `entry ${p.index}: ${i.diagnostics ?? ''}` })) });
}

/**
 * A conditional update, patch or delete's criteria. Without any (`PUT Patient`, `PUT Patient?_format=json`),
 * matching would take every resource of the type: a type with one resource would have it overwritten. Over
 * HTTP this is a 400 (interactions/write.ts); so it is here, and criteria that only shape results are too.
 */
function criteriaOf(p: Planned): Array<[string, string]> {
  return filteringCriteria(p.req.params, `entry ${p.index}: a conditional ${p.req.method}`, `Bundle.entry[${p.index}].request.url`);
}

/**
 * Decides every POST and PUT entry's identity and checks that no identity is claimed twice; returns fullUrl →
 * `Type/id`. A conditional create that matched writes nothing, so several may name one resource; but one
 * that names a resource the transaction also writes fails, whatever the entries' order ("The outcome of
 * processing the transaction SHALL NOT depend on the order of the resources in the transaction").
 */
export async function planIdentities(plans: Planned[], tx: Tx, svc: Services): Promise<Map<string, string>> {
  const idMap = new Map<string, string>();
  const written = new Set<string>();
  const reused = new Set<string>();
  const claim = (p: Planned, key: string, writes: boolean) => {
    if (written.has(key) || (writes && reused.has(key))) throw badRequest(`entry ${p.index}: ${key} appears more than once in the transaction`);
    (writes ? written : reused).add(key);
  };
  for (const p of plans) {
    // The same routing as dispatch: an unknown type is a 404, PUT on `_history` or a write of an AuditEvent a 405.
    try {
      match(p.req);
    } catch (e) {
      throw inEntry(e, p);
    }
    const { method, segments, headers } = p.req;
    const type = segments[0];
    if (method === 'POST' && segments.length === 1) {
      let id = newId();
      if (headers['if-none-exist']) {
        const criteria = filteringCriteria(parseCriteria(headers['if-none-exist']), `entry ${p.index}: ifNoneExist`, `Bundle.entry[${p.index}].request.ifNoneExist`);
        const m = await findMatches(tx, svc, type, criteria);
        if (m.length > 1) throw preconditionFailed(`entry ${p.index}: ifNoneExist matched more than one resource`);
        if (m.length === 1) {
          p.existing = m[0];
          id = m[0].id;
        }
      }
      p.target = { type, id };
    } else if (method === 'PUT') {
      // The body's id as a plain update checks it (http.html#update, #cond-update): missing or different
      // from the URL's is a 400; a conditional update's body may omit it, or must name the match.
      const bodyId = p.entry.resource?.id;
      let id = segments[1];
      if (segments.length === 1) {
        const m = await findMatches(tx, svc, type, criteriaOf(p));
        if (m.length > 1) throw preconditionFailed(`entry ${p.index}: the conditional update matched more than one resource`);
        if (m.length === 1 && bodyId !== undefined && bodyId !== m[0].id) throw badRequest(`entry ${p.index}: the body's id '${String(bodyId).slice(0, 80)}' differs from the matched resource's id`, [`Bundle.entry[${p.index}].resource.id`]);
        id = m[0]?.id ?? (bodyId || newId());
      } else if (bodyId === undefined) {
        throw badRequest(`entry ${p.index}: the resource has no id; an update needs the id of the URL in the body`, [`Bundle.entry[${p.index}].resource.id`]);
      } else if (bodyId !== id) {
        throw badRequest(`entry ${p.index}: the body's id '${String(bodyId).slice(0, 80)}' does not match the URL's '${id}'`, [`Bundle.entry[${p.index}].resource.id`]);
      }
      p.target = { type, id };
    }
    if (p.target) {
      const key = `${p.target.type}/${p.target.id}`;
      claim(p, key, !p.existing);
      if (p.entry.fullUrl) idMap.set(p.entry.fullUrl, key);
    }
  }
  // Deletes and patches join the check, their conditional forms by the resource they resolve to.
  for (const p of plans) {
    const { method, segments } = p.req;
    if (method !== 'DELETE' && method !== 'PATCH') continue;
    let id: string | undefined = segments[1];
    if (segments.length === 1) {
      const m = await findMatches(tx, svc, segments[0], criteriaOf(p));
      id = m.length === 1 ? m[0].id : undefined;
    }
    if (segments.length > 2 || !id) continue;
    claim(p, `${segments[0]}/${id}`, true);
  }
  return idMap;
}

/**
 * The version each POST or PUT entry will write, by fullUrl, for version-specific references to it (http.html
 * #trules: "Version-specific references should remain as version-specific references after the references have
 * been updated. Note that when building a transaction, a client can use arbitrarily chosen version references
 * since they will all be re-assigned anyway"). A create writes version 1, a conditional create that matched
 * writes nothing (its match's version); a PUT writes the one after the current, read only when a reference asks
 * (no query for Bundles without one) and locked, as the PUT then locks it, so no other writer can take it first.
 */
export function plannedVersions(plans: Planned[], tx: Tx): (fullUrl: string) => Promise<number> {
  const byUrl = new Map(plans.filter((p) => p.target && p.entry.fullUrl).map((p) => [p.entry.fullUrl!, p]));
  const known = new Map<string, Promise<number>>();
  const versionOf = async (p: Planned): Promise<number> => {
    if (p.existing) return p.existing.version;
    if (p.req.method === 'POST') return 1;
    const current = await readCurrent(tx, p.target!.type, p.target!.id, { forUpdate: true });
    return current ? current.version + 1 : 1;
  };
  return (fullUrl) => {
    const p = byUrl.get(fullUrl);
    if (!p) throw new Error(`no POST or PUT entry has the fullUrl ${fullUrl.slice(0, 80)}`);
    let v = known.get(fullUrl);
    if (!v) known.set(fullUrl, (v = versionOf(p)));
    return v;
  };
}
