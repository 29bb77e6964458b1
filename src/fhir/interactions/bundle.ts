// batch and transaction (R4 http.html#transaction): a batch runs each entry on its own and reports each
// outcome; a transaction is atomic, resolves urn:uuid and conditional references, and processes
// entries in the spec's order "DELETE, POST, PUT or PATCH, GET or HEAD", answering in the Bundle's order.
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import type { FhirRequest, FhirResponse, HttpMethod } from '../types.js';
import type { Services } from '../services.js';
import type { Tx } from '../../store/session.js';
import { badRequest, FhirError } from '../../errors.js';
import { dispatch, dispatchInTx, withAuditedTx } from '../dispatch.js';
import { entryRequest, entryResponse } from '../bundle-request.js';
import { outcome } from '../outcome.js';
import { findMatches } from '../criteria.js';
import { createResource, updateResource, deferDerivedWrites, flushDerivedWrites } from '../resource-write.js';
import { writeResponse, historyUrl } from '../respond.js';
import { expectedVersion } from '../if-match.js';
import { collectReferences } from '../import/references.js';
import { assertAllowed } from '../../auth/enforce.js';
import { now, refuseCreateParameters, refuseHiddenUpdateCreate } from './write.js';
import { assertEnvelope } from '../bundle-envelope.js';
import { replaceLinksInPlace } from '../bundle-links-replace.js';
import { planIdentities, plannedVersions, inEntry, type Planned } from '../bundle-plan.js';
import { rewriteInPlace } from '../bundle-references.js';
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

/**
 * "one entry for each entry in the request, in the same order" (http.html#transaction-response); an empty
 * Bundle ("not an error", #trules) answers without `entry`, since a JSON array is never empty (json.html).
 */
function responseBundle(type: string, parts: string[]): string {
  return `{"resourceType":"Bundle","type":"${type}"${parts.length ? `,"entry":[${parts.join(',')}]` : ''}}`;
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
      let method: HttpMethod | undefined;
      try {
        const own = entries[i].fullUrl;
        const dependent = entries[i].resource && fullUrls.size ? collectReferences(entries[i].resource, []).find((s) => s.value !== own && fullUrls.has(s.value)) : undefined;
        if (dependent) throw badRequest(`entry ${i} refers to ${dependent.value.slice(0, 80)}, another entry of the batch: batch entries may not depend on each other (use a transaction)`, [`Bundle.entry[${i}].resource`]);
        const entryReq = fromBundleRequest(entryRequest(entries[i], i, svc.config.fhirBase, req.ctx), req);
        method = entryReq.method;
        res = await dispatch(entryReq, svc);
      } catch (e) {
        res = errorResponse(e);
      }
      parts.push(entryResponse(res, svc.config.fhirBase, method));
    }
    return { status: 200, raw: responseBundle('batch-response', parts) };
  }
  // The Bundle's AuditEvent commits with its writes ("no audit row, no data").
  const { parts } = await withAuditedTx(req, svc, (tx) => transaction(req, entries, tx, svc), (r) => [...r.parts, ...r.unsent].join(','));
  return { status: 200, raw: responseBundle('transaction-response', parts) };
}

/**
 * The entries' responses in the Bundle's order, and the bodies read for HEAD entries but not sent: the Bundle's
 * AuditEvent names the patients those reads touched, as a plain HEAD's names those of the body it withholds.
 */
async function transaction(req: FhirRequest, entries: BundleEntry[], tx: Tx, svc: Services): Promise<{ parts: string[]; unsent: string[] }> {
  const base = svc.config.fhirBase;
  const plans: Planned[] = entries.map((entry, index) => ({ index, entry, req: fromBundleRequest(entryRequest(entry, index, base, req.ctx), req) }));
  // 1. Route every entry, decide every created or updated resource's identity, refuse overlapping identities.
  const idMap = await planIdentities(plans, tx, svc);
  // 2. Rewrite urn:uuid and conditional references in every resource before anything is written.
  const rewrite = {
    idMap, cache: new Map<string, string>(), base, versionOf: plannedVersions(plans, tx),
    find: (type: string, criteria: Array<[string, string]>) => findMatches(tx, svc, type, criteria),
  };
  for (const p of plans) {
    if (p.entry.resource && (p.req.method === 'POST' || p.req.method === 'PUT')) {
      try {
        await rewriteInPlace(p.entry.resource, p.entry.fullUrl, rewrite);
      } catch (e) {
        throw inEntry(e, p);
      }
      replaceLinksInPlace(p.entry.resource, idMap);
      p.req.body = p.entry.resource;
    }
  }
  // 3. Execute in the spec's order; answer in the Bundle's order.
  const out: string[] = new Array(plans.length);
  const unsent: string[] = [];
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
      const res = await execute(p, at, tx, svc);
      if (p.req.method === 'HEAD') unsent.push(res.raw ?? (res.body !== undefined ? JSON.stringify(res.body) : ''));
      out[p.index] = entryResponse(res, base, p.req.method);
    } catch (e) {
      const gone = goneRead(p, e);
      if (!gone) throw inEntry(e, p);
      out[p.index] = entryResponse(gone, base, p.req.method);
    }
  }
  await flushDerivedWrites(tx);
  return { parts: out, unsent };
}

/**
 * A GET or HEAD entry that finds its resource deleted answers 410 in its entry (with the tombstone's ETag, as a
 * read over HTTP does, http.html#read); the transaction goes on. #trules runs "GET or HEAD interactions" after
 * "DELETE interactions" and fails a transaction only for identities that "overlap in steps 1-3", so a read of a
 * resource the same transaction deletes is allowed, and it can only find it gone: failing the whole transaction
 * for it would refuse the very combination the rules permit. A read changes nothing, so no write is half done.
 * Any other failure of a read (an unknown id, a bad search) still fails the transaction.
 */
function goneRead(p: Planned, e: unknown): FhirResponse | undefined {
  if ((p.req.method !== 'GET' && p.req.method !== 'HEAD') || !(e instanceof FhirError) || e.status !== 410) return undefined;
  return { status: 410, headers: e.headers, body: outcome(e.issues) };
}

async function execute(p: Planned, at: string, tx: Tx, svc: Services): Promise<FhirResponse> {
  const { req } = p;
  if (req.method === 'POST' && p.target) {
    assertAllowed(req.ctx, 'create', p.target.type);
    // As over HTTP (write.ts create): `POST Type?params` is no create (http.html#create).
    refuseCreateParameters(req);
    const resource = req.body as Resource;
    if (!resource || resource.resourceType !== p.target.type) throw badRequest(`the resource's type does not match the request url`);
    if (p.existing) {
      // As over HTTP (interactions/write.ts create): 200, the match's versioned Location and ETag, the body
      // the Prefer header asks for. The match is as step 1 read it: no entry may write it (bundle-plan.ts).
      const r = writeResponse(req, p.existing, 200, svc.config.fhirBase, 'a matching resource exists; nothing was created');
      return { ...r, headers: { ...r.headers, Location: historyUrl(svc.config.fhirBase, p.existing) } };
    }
    const r = await createResource(tx, resource, at, p.target.id);
    return writeResponse(req, r.stored, 201, svc.config.fhirBase, 'created');
  }
  if (req.method === 'PUT' && p.target) {
    assertAllowed(req.ctx, 'update', p.target.type);
    const resource = { ...(req.body as Resource), id: p.target.id } as Resource;
    // The same answer as a plain PUT: a patient-context caller learns nothing of ids it cannot see.
    await refuseHiddenUpdateCreate(tx, p.target.type, p.target.id);
    // request.ifMatch read as a plain PUT's If-Match (../if-match.ts): a list of entity tags or `*`, and a
    // deleted resource's ETag names its tombstone, so the PUT revives it.
    const expected = await expectedVersion(req, tx, p.target.type, p.target.id);
    const r = await updateResource(tx, p.target.type, p.target.id, resource, at, { ifMatch: expected.version, createOnly: req.headers['if-none-match']?.trim() === '*' });
    return writeResponse(req, r.stored, r.created ? 201 : 200, svc.config.fhirBase, 'updated');
  }
  return dispatchInTx(req, tx, svc);
}
