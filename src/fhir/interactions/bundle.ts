// batch and transaction (R4 http.html#transaction): a batch runs each entry on its own and reports each
// outcome; a transaction is atomic, resolves urn:uuid and conditional references, and processes
// entries in the spec's order "DELETE, POST, PUT or PATCH, GET or HEAD", answering in the Bundle's order.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Services } from '../services.js';
import type { Tx } from '../../store/session.js';
import { badRequest, FhirError, preconditionFailed } from '../../errors.js';
import { dispatch, dispatchInTx, withAuditedTx } from '../dispatch.js';
import { entryRequest, entryResponse } from '../bundle-request.js';
import { outcome } from '../outcome.js';
import { findMatches, parseCriteria } from '../criteria.js';
import { createResource, updateResource, newId, deferDerivedWrites, flushDerivedWrites } from '../resource-write.js';
import { writeResponse, parseETag } from '../respond.js';
import { collectReferences, conditionalTarget } from '../import/references.js';
import { assertAllowed } from '../../auth/enforce.js';
import { now, refuseHiddenUpdateCreate } from './write.js';
import { assertEnvelope } from '../bundle-envelope.js';
import { replaceLinksInPlace } from '../bundle-links-replace.js';
import { log } from '../../log.js';

const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

function asBundle(body: unknown): Bundle {
  const b = body as Bundle | undefined;
  if (!b || b.resourceType !== 'Bundle') throw badRequest('POST to the base needs a Bundle of type batch or transaction');
  if (b.type !== 'batch' && b.type !== 'transaction') throw badRequest(`Bundle.type must be batch or transaction, not '${String(b.type)}'`, ['Bundle.type']);
  assertEnvelope(b);
  return b;
}

/**
 * Entries answer with the Bundle request's Prefer (http.html#transaction-response), and carry its
 * X-Request-Id, so a batch entry's own AuditEvent names the request it came in (BALP entity[transaction]).
 */
function fromBundleRequest(entry: FhirRequest, outer: FhirRequest): FhirRequest {
  return { ...entry, headers: { ...entry.headers, prefer: outer.headers.prefer, 'x-request-id': outer.headers['x-request-id'] } };
}

/**
 * A batch entry's failure as its own response: the entries before it are stored, so even an unexpected
 * error answers this entry alone (500) rather than the whole batch, which would hide what was written.
 */
function errorResponse(e: unknown): FhirResponse {
  if (e instanceof FhirError) return { status: e.status, body: outcome(e.issues) };
  log.error({ err: { message: (e as Error)?.message?.slice(0, 300), name: (e as Error)?.name } }, 'internal error in a batch entry');
  return { status: 500, body: outcome([{ severity: 'error', code: 'exception', diagnostics: 'internal server error' }]) };
}

export async function bundle(req: FhirRequest, svc: Services): Promise<FhirResponse> {
  const b = asBundle(req.body);
  const entries = b.entry ?? [];
  if (b.type === 'batch') {
    // "References within a Bundle.entry.resource to another Bundle.entry.resource that is being created
    // within the batch are considered to be non-conformant" (http.html#brules): such an entry is refused
    // rather than stored with a reference to a placeholder.
    const fullUrls = new Set(entries.map((e) => e.fullUrl).filter((u): u is string => !!u));
    const parts: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      let res: FhirResponse;
      try {
        const own = entries[i].fullUrl;
        const dependent = entries[i].resource && fullUrls.size ? collectReferences(entries[i].resource, []).find((s) => s.value !== own && fullUrls.has(s.value)) : undefined;
        if (dependent) throw badRequest(`entry ${i} refers to ${dependent.value.slice(0, 80)}, another entry of the batch: batch entries may not depend on each other (use a transaction)`, [`Bundle.entry[${i}].resource`]);
        res = await dispatch(fromBundleRequest(entryRequest(entries[i], i, svc.config.fhirBase, req.ctx), req), svc);
      } catch (e) {
        res = errorResponse(e);
      }
      parts.push(entryResponse(res, svc.config.fhirBase));
    }
    return { status: 200, raw: `{"resourceType":"Bundle","type":"batch-response","entry":[${parts.join(',')}]}` };
  }
  // The Bundle's AuditEvent commits with its writes ("no audit row, no data").
  const parts = await withAuditedTx(req, svc, (tx) => transaction(req, entries, tx, svc), (p) => p.join(','));
  return { status: 200, raw: `{"resourceType":"Bundle","type":"transaction-response","entry":[${parts.join(',')}]}` };
}

type Finder = (type: string, criteria: Array<[string, string]>) => Promise<Array<{ id: string }>>;

/**
 * References of an entry's resource rewritten in place (R4 http.html#trules; fhirgate import: import/references.ts): an
 * entry's fullUrl becomes its `Type/id`, an absolute URL under this base becomes relative, a conditional
 * reference must match exactly one resource (looked up once per Bundle). In place and without a promise per
 * node: the Bundle is this request's own, and copying every node costs more than storing it.
 */
async function rewriteInPlace(resource: object, idMap: Map<string, string>, cache: Map<string, string>, find: Finder, base: string): Promise<void> {
  for (const s of collectReferences(resource, [])) {
    const ref = s.value;
    const mapped = idMap.get(ref);
    if (mapped) s.holder.reference = mapped;
    else if (ref.startsWith(base + '/')) s.holder.reference = ref.slice(base.length + 1);
    else {
      const c = conditionalTarget(ref);
      if (!c) {
        if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) throw badRequest(`reference '${ref.slice(0, 80)}' names no entry of the transaction`);
        continue;
      }
      let resolved = cache.get(ref);
      if (!resolved) {
        const found = await find(c.type, parseCriteria(c.query));
        if (found.length !== 1) throw preconditionFailed(`conditional reference ${c.type}?… matched ${found.length === 0 ? 'no' : 'more than one'} resource`);
        cache.set(ref, (resolved = `${c.type}/${found[0].id}`));
      }
      s.holder.reference = resolved;
    }
  }
}

interface Planned {
  index: number;
  entry: BundleEntry;
  req: FhirRequest;
  /** For POST and PUT: the resource's type and the id it will have. */
  target?: { type: string; id: string };
  /** A conditional create that matched: nothing to write, answer 200 with the match. */
  existing?: boolean;
}

async function transaction(req: FhirRequest, entries: BundleEntry[], tx: Tx, svc: Services): Promise<string[]> {
  const base = svc.config.fhirBase;
  const plans: Planned[] = entries.map((entry, index) => ({ index, entry, req: fromBundleRequest(entryRequest(entry, index, base, req.ctx), req) }));
  const idMap = new Map<string, string>();
  const seen = new Set<string>();
  // 1. Decide every created or updated resource's identity, so references to it can be rewritten.
  for (const p of plans) {
    const { method, segments, headers } = p.req;
    const type = segments[0];
    if (method === 'POST' && segments.length === 1) {
      let id = newId();
      if (headers['if-none-exist']) {
        const m = await findMatches(tx, svc, type, parseCriteria(headers['if-none-exist']));
        if (m.length > 1) throw preconditionFailed(`entry ${p.index}: ifNoneExist matched more than one resource`);
        if (m.length === 1) { id = m[0].id; p.existing = true; }
      }
      p.target = { type, id };
    } else if (method === 'PUT') {
      // The body's id as a plain update checks it (http.html#update, #cond-update): missing or different
      // from the URL's is a 400; a conditional update's body may omit it, or must name the match.
      const bodyId = p.entry.resource?.id;
      let id = segments[1];
      if (segments.length === 1) {
        const m = await findMatches(tx, svc, type, p.req.params);
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
      if (seen.has(key) && !p.existing) throw badRequest(`entry ${p.index}: ${key} appears more than once in the transaction`);
      seen.add(key);
      if (p.entry.fullUrl) idMap.set(p.entry.fullUrl, key);
    }
  }
  // "If any resource identities (including resolved identities from conditional update/delete) overlap in
  // steps 1-3, then the transaction SHALL fail" (http.html#trules): deletes and patches join the check.
  for (const p of plans) {
    const { method, segments } = p.req;
    if (method !== 'DELETE' && method !== 'PATCH') continue;
    let id: string | undefined = segments[1];
    if (segments.length === 1 && p.req.params.length) {
      const m = await findMatches(tx, svc, segments[0], p.req.params);
      id = m.length === 1 ? m[0].id : undefined;
    }
    if (segments.length > 2 || !id) continue;
    const key = `${segments[0]}/${id}`;
    if (seen.has(key)) throw badRequest(`entry ${p.index}: ${key} appears more than once in the transaction`);
    seen.add(key);
  }
  // 2. Rewrite urn:uuid and conditional references in every resource before anything is written.
  const conditional = new Map<string, string>();
  for (const p of plans) {
    if (p.entry.resource && (p.req.method === 'POST' || p.req.method === 'PUT')) {
      await rewriteInPlace(p.entry.resource, idMap, conditional, (type, criteria) => findMatches(tx, svc, type, criteria), base);
      replaceLinksInPlace(p.entry.resource, idMap);
      p.req.body = p.entry.resource;
    }
  }
  // 3. Execute in the spec's order; answer in the Bundle's order.
  const out: string[] = new Array(plans.length);
  // Within DELETE and within PUT/PATCH the spec fixes no order, so those go by target (type, id): concurrent
  // Bundles touching the same resources (the shared Organizations of patient bundles) then take their row
  // locks in one order and wait for each other instead of deadlocking (a 409 the client would have to retry).
  const lockKey = (p: Planned): string => (p.req.method !== 'POST' && p.target ? `${p.target.type}/${p.target.id}` : '');
  const ordered = [...plans].sort((a, b) => ORDER[a.req.method] - ORDER[b.req.method]
    || (lockKey(a) < lockKey(b) ? -1 : lockKey(a) > lockKey(b) ? 1 : 0) || a.index - b.index);
  const at = now();
  deferDerivedWrites(tx);
  for (const p of ordered) {
    // Reads see the Bundle's writes: its creates and index rows are stored before a PATCH, GET or HEAD.
    if (p.req.method !== 'POST' && p.req.method !== 'PUT') await flushDerivedWrites(tx);
    try {
      out[p.index] = entryResponse(await execute(p, at, tx, svc), base);
    } catch (e) {
      if (e instanceof FhirError) {
        throw new FhirError(e.status, e.issues[0]?.code ?? 'processing', `entry ${p.index} (${p.req.method} ${p.entry.request?.url ?? ''}): ${e.message}`, { issues: e.issues.map((i) => ({ ...i, diagnostics: `entry ${p.index}: ${i.diagnostics ?? ''}` })) });
      }
      throw e;
    }
  }
  await flushDerivedWrites(tx);
  return out;
}

async function execute(p: Planned, at: string, tx: Tx, svc: Services): Promise<FhirResponse> {
  const { req } = p;
  if (req.method === 'POST' && p.target) {
    assertAllowed(req.ctx, 'create', p.target.type);
    if (p.existing) return dispatchInTx({ ...req, method: 'GET', segments: [p.target.type, p.target.id], params: [] }, tx, svc).then((r) => ({ ...r, status: 200, headers: { ...r.headers, Location: `${svc.config.fhirBase}/${p.target!.type}/${p.target!.id}` } }));
    const resource = req.body as Resource;
    if (!resource || resource.resourceType !== p.target.type) throw badRequest(`the resource's type does not match the request url`);
    const r = await createResource(tx, resource, at, p.target.id);
    return writeResponse(req, r.stored, 201, svc.config.fhirBase, 'created');
  }
  if (req.method === 'PUT' && p.target) {
    assertAllowed(req.ctx, 'update', p.target.type);
    const resource = { ...(req.body as Resource), id: p.target.id } as Resource;
    const ifMatch = req.headers['if-match'] ? parseETag(req.headers['if-match'], 'ifMatch') : undefined;
    // The same answer as a plain PUT: a patient-context caller learns nothing of ids it cannot see.
    await refuseHiddenUpdateCreate(tx, p.target.type, p.target.id);
    const r = await updateResource(tx, p.target.type, p.target.id, resource, at, { ifMatch, createOnly: req.headers['if-none-match']?.trim() === '*' });
    return writeResponse(req, r.stored, r.created ? 201 : 200, svc.config.fhirBase, 'updated');
  }
  return dispatchInTx(req, tx, svc);
}
