// create, update, patch and delete over HTTP (R4 http.html#create, #update, #patch, #delete), each with its
// conditional form. The write logic itself is in ../resource-write.ts; here are the HTTP rules:
// status codes, If-Match, If-None-Exist, Prefer.
// Update as create (http.html#upsert) is not offered to patient-context callers: R4 security.html
// "Access Denied Response Handling" notes that a server allowing PUT to a new location cannot answer
// 404, so PUT becomes a test for ids the caller may not see (it answered 409 for an id in another
// patient's compartment, 201 or 403 for a free one). Such a caller now gets the same 405 for every id
// it cannot see, existing or not (http.html#rejecting-updates: "405 Method Not Allowed - the resource
// did not exist prior to the update, and the server does not allow client defined ids"), before
// anything is written; creating goes through POST, which assigns the id.
import type { Resource } from 'fhir/r4';
import jsonpatch from 'fast-json-patch';
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import type { Services } from '../services.js';
import { badRequest, FhirError, preconditionFailed, unprocessable } from '../../errors.js';
import { createResource, updateResource, deleteResource, readLive, newId, assertId } from '../resource-write.js';
import { readCurrent } from '../../store/resources.js';
import { writeResponse, parseETags, versionHeaders, returnPreference } from '../respond.js';
import { findMatches, parseCriteria } from '../criteria.js';
import { collectReferences, conditionalTarget } from '../import/references.js';
import { info } from '../outcome.js';
import { applyJsonPatch } from '../json-patch.js';
import { parseJson } from '../../json/parse.js';

export function now(): string {
  return new Date().toISOString();
}

/**
 * References to this server by its absolute URL (`<base>/Patient/1`) become relative, as a transaction and
 * `fhirgate import` already make them (http.html#trules): search.html has "a relative reference resolving
 * to the same value as a specified absolute URL, or vice versa, qualifies as a match", and a reference
 * indexed as written would be found by neither form, nor count for the patient compartment.
 */
function relativeSelfReferences(resource: object, base: string): void {
  for (const s of collectReferences(resource, [])) if (s.value.startsWith(`${base}/`)) s.holder.reference = s.value.slice(base.length + 1);
}

function bodyResource(req: FhirRequest, type: string, base: string): Resource {
  const b = req.body as Resource | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest('the request body must be a FHIR resource (a JSON object)');
  if (b.resourceType !== type) throw badRequest(`resourceType '${String(b.resourceType).slice(0, 64)}' does not match the URL's '${type}'`);
  // A conditional reference (Patient?identifier=…) is resolved only in a transaction (http.html#trules);
  // outside one it would be stored as written and resolve to nothing. A Bundle stored as a resource keeps
  // its entries' references as they are.
  if (type !== 'Bundle') {
    const conditional = collectReferences(b, []).find((s) => conditionalTarget(s.value));
    if (conditional) throw badRequest(`the reference '${conditional.value.slice(0, 80)}' is conditional: conditional references are resolved only in a transaction`);
    relativeSelfReferences(b, base);
  }
  return b;
}

/** What If-Match asks of `type/id`: the version the write path re-checks, or that it names the tombstone. */
interface Expected { version?: number; tombstone?: boolean }

/**
 * If-Match on PUT and DELETE (http.html#concurrency; RFC 9110 §13.1.1: `*` or a list of entity tags). The row
 * is locked here, in the request's transaction, so the version read is the one the write then replaces.
 * A deleted resource's ETag names its tombstone: http.html#read sends it on the 410 "to allow version
 * contention management when a resource is brought back to life", so a PUT quoting it revives the resource
 * (and a DELETE quoting it has no effect, #delete "already deleted"), where it answered 412 before.
 */
async function expectedVersion(req: FhirRequest, tx: Tx, type: string, id: string): Promise<Expected> {
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

export async function create(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type] = req.segments;
  const resource = bodyResource(req, type, svc.config.fhirBase);
  const ine = req.headers['if-none-exist'];
  if (ine) {
    const matches = await findMatches(tx, svc, type, parseCriteria(ine));
    if (matches.length > 1) throw preconditionFailed('If-None-Exist matched more than one resource');
    if (matches.length === 1) {
      const m = matches[0];
      const headers = { ...versionHeaders(m), Location: `${svc.config.fhirBase}/${m.type}/${m.id}/_history/${m.version}` };
      const pref = returnPreference(req);
      return pref === 'minimal' ? { status: 200, headers } : pref === 'OperationOutcome' ? { status: 200, headers, body: info('a matching resource exists; nothing was created') } : { status: 200, headers, raw: m.content };
    }
  }
  const r = await createResource(tx, resource, now());
  return writeResponse(req, r.stored, 201, svc.config.fhirBase, `created ${type}/${r.stored.id}`);
}

/**
 * Refuses update-as-create to a patient-context caller (see the header): when `type/id` is not visible
 * to it, whether it is free or in another patient's compartment, the answer is one and the same 405.
 * Exported for the transaction Bundle's PUT entries, which must answer alike.
 */
export async function refuseHiddenUpdateCreate(tx: Tx, type: string, id: string): Promise<void> {
  if (!tx.ctx.patient) return;
  assertId(id);
  if (await readCurrent(tx, type, id)) return;
  throw new FhirError(405, 'not-supported',
    `${type}/${id} is not known to this client, and a patient-context token cannot choose the id of a new resource (update as create): create it with POST`,
    { headers: { Allow: 'GET, HEAD, PATCH, DELETE' } });
}

export async function update(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type, id] = req.segments;
  const resource = bodyResource(req, type, svc.config.fhirBase);
  await refuseHiddenUpdateCreate(tx, type, id);
  const expected = await expectedVersion(req, tx, type, id);
  const r = await updateResource(tx, type, id, resource, now(), { ifMatch: expected.version, createOnly: req.headers['if-none-match']?.trim() === '*' });
  return writeResponse(req, r.stored, r.created ? 201 : 200, svc.config.fhirBase, `${r.created ? 'created' : 'updated'} ${type}/${id}`);
}

/** PUT [type]?criteria (R4 http.html#cond-update). */
export async function conditionalUpdate(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type] = req.segments;
  const resource = bodyResource(req, type, svc.config.fhirBase);
  const matches = await findMatches(tx, svc, type, searchParams(req));
  if (matches.length > 1) throw preconditionFailed('the criteria matched more than one resource');
  if (matches.length === 1) {
    const m = matches[0];
    if (resource.id !== undefined && resource.id !== m.id) throw badRequest(`the body's id '${resource.id}' differs from the matched resource's id`);
    // The body may omit the id: it then takes the matched resource's (http.html#cond-update).
    return update({ ...req, segments: [type, m.id], body: { ...resource, id: m.id } }, tx, svc);
  }
  if (resource.id !== undefined) {
    // "No matches, id provided: the server treats the interaction as an Update as Create" (http.html#cond-update):
    // a create at the client's id. A live resource at that id is one the criteria did not select; updating it
    // overwrote a record the client did not mean (as "One Match, resource id provided but does not match" is 400).
    assertId(resource.id);
    const at = await readCurrent(tx, type, resource.id);
    if (at && !at.deleted) throw badRequest(`the criteria matched no resource, but the body's id names ${type}/${resource.id}, which exists and does not match them`);
    return update({ ...req, segments: [type, resource.id] }, tx, svc);
  }
  const r = await createResource(tx, resource, now(), newId());
  return writeResponse(req, r.stored, 201, svc.config.fhirBase, `created ${type}/${r.stored.id}`);
}

function searchParams(req: FhirRequest): Array<[string, string]> {
  const p = req.params.filter(([k]) => !['_format', '_pretty'].includes(k));
  if (p.length === 0) throw badRequest('a conditional interaction needs search criteria in the URL');
  return p;
}

/** JSON Patch (RFC 6902; R4 http.html#patch). The patched resource is validated like any update. */
export async function patch(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type, id] = req.segments;
  const ops = req.body;
  if (!Array.isArray(ops)) throw badRequest('a JSON Patch body is an array of operations');
  const current = await readLive(tx, type, id, { forUpdate: true });
  const tags = req.headers['if-match'] ? parseETags(req.headers['if-match'], 'If-Match') : '*';
  if (tags !== '*' && !tags.includes(current.version)) throw preconditionFailed(`If-Match names no current version of ${type}/${id}`);
  const error = jsonpatch.validate(ops as jsonpatch.Operation[]);
  if (error) throw badRequest(`invalid JSON Patch: ${error.name}`);
  let patched: Resource;
  try {
    // The stored text parsed with its decimals' lexemes, patched in place (../json-patch.ts keeps them).
    patched = applyJsonPatch(parseJson(current.content), ops as jsonpatch.Operation[]) as Resource;
  } catch (e) {
    // A failed `test` operation or a path that does not exist: the patch cannot be applied (RFC 6902 §5).
    throw unprocessable(`the patch could not be applied: ${(e as { name?: string }).name ?? 'error'}`);
  }
  if (patched?.resourceType !== type || patched.id !== id) throw unprocessable('a patch may not change resourceType or id');
  if (type !== 'Bundle') relativeSelfReferences(patched, svc.config.fhirBase);
  const r = await updateResource(tx, type, id, patched, now(), { ifMatch: current.version });
  return writeResponse(req, r.stored, 200, svc.config.fhirBase, `patched ${type}/${id}`);
}

export async function conditionalPatch(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type] = req.segments;
  const matches = await findMatches(tx, svc, type, searchParams(req));
  if (matches.length === 0) throw new FhirError(404, 'not-found', 'no resource matched the criteria');
  if (matches.length > 1) throw preconditionFailed('the criteria matched more than one resource');
  return patch({ ...req, segments: [type, matches[0].id] }, tx, svc);
}

function deleted(req: FhirRequest, message: string): FhirResponse {
  return returnPreference(req) === 'OperationOutcome' || returnPreference(req) === 'representation'
    ? { status: 200, body: info(message) }
    : { status: 204 };
}

export async function remove(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  const [type, id] = req.segments;
  const expected = await expectedVersion(req, tx, type, id);
  const r = expected.tombstone ? { deleted: false } : await deleteResource(tx, type, id, now(), { ifMatch: expected.version });
  const resp = deleted(req, r.deleted ? `deleted ${type}/${id}` : `${type}/${id} did not exist or was already deleted`);
  if (r.version) resp.headers = { ETag: `W/"${r.version}"` };
  return resp;
}

/** DELETE [type]?criteria: one match is deleted, none is a no-op, several is 412 (conditionalDelete: single). */
export async function conditionalDelete(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type] = req.segments;
  const matches = await findMatches(tx, svc, type, searchParams(req));
  if (matches.length > 1) throw preconditionFailed('the criteria matched more than one resource');
  if (matches.length === 0) return deleted(req, 'no resource matched the criteria; nothing was deleted');
  const res = await remove({ ...req, segments: [type, matches[0].id] }, tx);
  // The URL names criteria, not the resource: its AuditEvent names what was deleted (BALP Delete entity[data]).
  res.audit = { ...res.audit, entity: `${type}/${matches[0].id}` };
  return res;
}
