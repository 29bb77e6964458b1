// If-Match on PUT and DELETE (R4 http.html#concurrency; RFC 9110 §13.1.1), read the same way over plain HTTP
// (interactions/write.ts) and in a transaction Bundle's entries (interactions/bundle.ts, request.ifMatch):
// `*` or a list of entity tags, a deleted resource's ETag naming its tombstone.
import type { FhirRequest } from './types.js';
import type { Tx } from '../store/session.js';
import { readCurrent } from '../store/resources.js';
import { preconditionFailed } from '../errors.js';
import { parseETags } from './respond.js';
import { assertId } from './resource-write.js';

/** What If-Match asks of `type/id`: the version the write path re-checks, or that it names the tombstone. */
export interface Expected { version?: number; tombstone?: boolean }

/**
 * The row is locked here, in the request's transaction, so the version read is the one the write then replaces.
 * A deleted resource's ETag names its tombstone: http.html#read sends it on the 410 "to allow version
 * contention management when a resource is brought back to life", so a PUT quoting it revives the resource
 * (and a DELETE quoting it has no effect, #delete "already deleted"), where it answered 412 before.
 */
export async function expectedVersion(req: FhirRequest, tx: Tx, type: string, id: string): Promise<Expected> {
  const h = req.headers['if-match'];
  if (!h) return {};
  const tags = parseETags(h, 'If-Match');
  assertId(id);
  const current = await readCurrent(tx, type, id, { forUpdate: true });
  // `*` is false when there is no current representation (RFC 9110 §13.1.1): none, or a deleted one.
  if (tags === '*') {
    if (!current || current.deleted) throw preconditionFailed(`If-Match: * and ${type}/${id} does not exist`);
    return { version: current.version };
  }
  if (!current || !tags.includes(current.version)) throw preconditionFailed(`If-Match names no current version of ${type}/${id}`);
  return current.deleted ? { tombstone: true } : { version: current.version };
}
