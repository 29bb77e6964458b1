// The write path shared by create, update, patch, delete, transactions and import: validate, stamp
// meta (http.html "the server SHALL populate meta.versionId and meta.lastUpdated"), extract the search
// index, store the version and its index rows in the caller's transaction (a transaction Bundle's in bulk).
import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { badRequest, FhirError, preconditionFailed, gone } from '../errors.js';
import { assertValid } from './validation/validate.js';
import { extractIndex } from '../search/extract.js';
import { writeIndex, deleteIndex, writeCustomIndex } from '../store/search-index.js';
import { insertStaged, reindexStaged } from '../store/bulk-write.js';
import { indexFields, stageLine } from '../store/stage-text.js';
import { insertResource, readCurrent, replaceResource, type StoredResource } from '../store/resources.js';
import type { Tx } from '../store/session.js';
import { stamp } from './meta.js';
import { writeDeidCopy, writeDeidCopies, removeDeidCopy, type StoredVersion } from '../deid/copy.js';
import { noteTouched } from '../audit/touched.js';
import { compartmentsOf } from '../store/audit.js';
import { stringifyJson } from '../json/stringify.js';
import { assertSearchParameterFits } from '../store/search-params-custom.js';
import { isReservedId, reservedIdMessage } from './operations/reserved-ids.js';

export interface WriteResult {
  stored: StoredResource;
  created: boolean;
  /** True when an update found no changes and kept the current version (not used: every update versions). */
  resource: Resource;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

export function newId(): string {
  return randomUUID();
}

export function assertId(id: string): void {
  if (!ID_RE.test(id)) throw badRequest(`invalid resource id '${id.slice(0, 80)}'`);
}

/**
 * A transaction Bundle's writes held back for one bulk statement each (store/bulk-write.ts): creates are
 * stored at the flush (`fresh`: their staging rows), replaced and update-created versions have their index
 * rows rewritten then (`indexed`), and every de-identified copy goes in one call.
 */
interface Derived {
  fresh: Array<{ key: string; type: string; line: string; content: string }>;
  indexed: Array<{ rid: string; type: string; id: string; line: string; content: string }>;
  deid: StoredVersion[];
}
const deferred = new WeakMap<Tx, Derived>();

/**
 * From now on this transaction's creates, index rows and de-identified copies are collected and written
 * together by flushDerivedWrites: one COPY and one statement instead of several statements per resource.
 * Flush before anything in the transaction reads what was written (a transaction Bundle's PATCH, GET and
 * HEAD entries run after its creates); deferral goes on after a flush, until the final one.
 */
export function deferDerivedWrites(tx: Tx): void {
  deferred.set(tx, { fresh: [], indexed: [], deid: [] });
}

export async function flushDerivedWrites(tx: Tx): Promise<void> {
  const d = deferred.get(tx);
  if (!d || (d.fresh.length === 0 && d.indexed.length === 0 && d.deid.length === 0)) return;
  deferred.set(tx, { fresh: [], indexed: [], deid: [] });
  // A create's id is new (server-assigned): an existing row is an error, not an update.
  const rids = await insertStaged(tx, d.fresh.map((f) => f.line), { skipExisting: false, interaction: 'create' });
  await reindexStaged(tx, d.indexed);
  await writeCustomIndex(tx, d.fresh.map((f) => ({ rid: rids.get(f.key)!, type: f.type, content: f.content })), { fresh: true });
  await writeCustomIndex(tx, d.indexed);
  if (d.deid.length) await writeDeidCopies(tx, d.deid);
}

/**
 * Stores `resource` as `version`, replacing `prior` if any. `method` is the interaction that inserts a new
 * resource, recorded for its history entry (http.html#history): a POST's create may be deferred to the
 * transaction's bulk insert, a PUT's update-as-create is inserted now (its row is locked by the insert).
 */
async function store(tx: Tx, prior: StoredResource | undefined, resource: Resource, version: number, now: string, method: 'POST' | 'PUT'): Promise<WriteResult> {
  const type = resource.resourceType;
  const id = resource.id as string;
  // Every write of content passes here (PUT, a conditional update's update-as-create, PATCH, transaction
  // entries): none may store a resource at an id the server serves its own definitions from
  // (operations/reserved-ids.ts), where it would be hidden. 405 as for a plain PUT to that URL (routes.ts
  // `owns`): the write is an update of `OperationDefinition/fhirgate-…` (http.html#cond-update "treats the
  // interaction as an Update as Create"), which that resource does not allow (http.html#rejecting-updates
  // "405 Method Not Allowed ... the server does not allow client defined ids"); Allow names its methods.
  if (isReservedId(type, id)) throw new FhirError(405, 'not-supported', reservedIdMessage(id), { headers: { Allow: 'GET, HEAD' } });
  if (type === 'SearchParameter') {
    // One code names one parameter per type (store/search-params-custom.ts); a transaction's earlier
    // creates are stored first so the check sees them.
    await flushDerivedWrites(tx);
    await assertSearchParameterFits(tx, resource as unknown as Record<string, unknown>);
  }
  const stamped = stamp(resource, id, version, now);
  const index = extractIndex(stamped);
  // Decimals as the client wrote them (R4 datatypes.html#decimal: precision is significant; ../json/).
  const content = stringifyJson(stamped);
  const next = { type, id, version, lastUpdated: now, deleted: false, compartments: index.compartments, content };
  const held = deferred.get(tx);
  let rid = ''; // not known yet for a deferred create (nothing reads it before the flush)
  if (held && !prior && method === 'POST') held.fresh.push({ key: `${type}/${id}`, type, line: stageLine(next, indexFields(index)), content });
  else if (prior) {
    await replaceResource(tx, prior, next);
    rid = prior.rid;
  } else {
    const inserted = await insertResource(tx, { ...next, interaction: method === 'POST' ? 'create' : 'upsert' });
    if (!inserted) throw new FhirError(409, 'duplicate', `${type}/${id} was created concurrently; retry`);
    rid = inserted;
  }
  // HOOK(deid): the de-identified copy is written here, in the same transaction (issue: compliance);
  // the patients written are reported to the request's AuditEvent.
  if (held) {
    if (rid) held.indexed.push({ rid, type, id, line: stageLine(next, indexFields(index)), content });
    held.deid.push({ content: stamped, version, compartments: index.compartments });
  } else {
    await writeIndex(tx, [{ rid, tenant: tx.ctx.tenant, type, index }]);
    await writeDeidCopy(tx, stamped, version, index.compartments);
  }
  noteTouched(tx, index.compartments);
  return { stored: { rid, type, id, version, lastUpdated: now, deleted: false, content }, created: !prior || prior.deleted, resource: stamped };
}

/** create (http.html#create): the server assigns the id; any id in the body is ignored. */
export async function createResource(tx: Tx, resource: Resource, now: string, id: string = newId()): Promise<WriteResult> {
  assertValid(resource, { mode: 'create' });
  return store(tx, undefined, { ...resource, id }, 1, now, 'POST');
}

export interface UpdateOptions {
  /** If-Match version (http.html#concurrency): 412 when it is not the current one. */
  ifMatch?: number;
  /**
   * `If-None-Match: *`: create only. RFC 9110 §13.1.2: the condition is false when a current
   * representation exists, and the method must then not be performed (412).
   */
  createOnly?: boolean;
}

/** update (http.html#update), including update-as-create with a client-chosen id. */
export async function updateResource(tx: Tx, type: string, id: string, resource: Resource, now: string, opts: UpdateOptions = {}): Promise<WriteResult> {
  assertId(id);
  if (resource.resourceType !== type) throw badRequest(`resourceType '${String(resource.resourceType)}' does not match the URL's '${type}'`);
  if (resource.id === undefined) throw badRequest('the resource has no id; an update needs the id of the URL in the body', [`${type}.id`]);
  if (resource.id !== id) throw badRequest(`the body's id '${String(resource.id).slice(0, 80)}' does not match the URL's '${id}'`, [`${type}.id`]);
  assertValid(resource, { mode: 'update' });
  const prior = await readCurrent(tx, type, id, { forUpdate: true });
  if (opts.ifMatch !== undefined && (!prior || prior.deleted || prior.version !== opts.ifMatch)) {
    throw preconditionFailed(`version ${opts.ifMatch} is not the current version of ${type}/${id}`);
  }
  if (opts.createOnly && prior && !prior.deleted) throw preconditionFailed(`If-None-Match: * and ${type}/${id} exists`);
  if (!prior) {
    try {
      return await store(tx, undefined, resource, 1, now, 'PUT');
    } catch (e) {
      // A concurrent update-as-create won the insert: take the lock and continue as a normal update.
      if (!(e instanceof FhirError) || e.status !== 409) throw e;
      const raced = await readCurrent(tx, type, id, { forUpdate: true });
      if (!raced) throw e;
      return store(tx, raced, resource, raced.version + 1, now, 'PUT');
    }
  }
  return store(tx, prior, resource, prior.version + 1, now, 'PUT');
}

/** delete (http.html#delete): a tombstone version; reading it afterwards is 410 Gone. */
export async function deleteResource(tx: Tx, type: string, id: string, now: string, opts: UpdateOptions = {}): Promise<{ deleted: boolean; version?: number }> {
  const prior = await readCurrent(tx, type, id, { forUpdate: true });
  if (opts.ifMatch !== undefined && (!prior || prior.deleted || prior.version !== opts.ifMatch)) {
    throw preconditionFailed(`version ${opts.ifMatch} is not the current version of ${type}/${id}`);
  }
  if (opts.createOnly && prior && !prior.deleted) throw preconditionFailed(`If-None-Match: * and ${type}/${id} exists`);
  if (!prior || prior.deleted) return { deleted: false };
  const version = prior.version + 1;
  const content = JSON.stringify({ resourceType: type, id, meta: { versionId: String(version), lastUpdated: now } });
  // A tombstone keeps its compartments: a patient may delete in its own compartment (row-level security
  // checks the new row) and later reads of it answer 410, not 404.
  await replaceResource(tx, prior, { type, id, version, lastUpdated: now, deleted: true, compartments: null, content });
  await deleteIndex(tx, [prior.rid]);
  // HOOK(deid): the de-identified copy is removed here, in the same transaction.
  await removeDeidCopy(tx, type, id);
  noteTouched(tx, await compartmentsOf(tx, type, id, prior.version));
  return { deleted: true, version };
}

/** The current, not-deleted version or the right error: 404 unknown, 410 deleted. */
export async function readLive(tx: Tx, type: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<StoredResource> {
  const current = await readCurrent(tx, type, id, opts);
  if (!current) throw new FhirError(404, 'not-found', `${type}/${id} is not known`);
  if (current.deleted) throw gone(`${type}/${id} was deleted`);
  return current;
}
