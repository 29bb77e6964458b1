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
import { expectedVersion } from '../if-match.js';
import { findMatches, parseCriteria } from '../criteria.js';
import { TRANSPORT } from '../conditional-criteria.js';
import { collectReferences, conditionalTarget } from '../import/references.js';
import { info } from '../outcome.js';
import { applyJsonPatch, membersWritten } from '../json-patch.js';
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

/**
 * http.html#create defines the create URL as `POST [base]/[type] {?_format=[mime-type]}`: no other
 * parameter has a meaning there. One sent anyway was most likely meant as a search, whose POST form is
 * `POST [base]/[type]/_search` (http.html#search), or as a conditional create, whose criteria go in
 * If-None-Exist (http.html#ccreate); creating and ignoring it would store a resource the client did not
 * mean to. Refused (400) naming the parameter, over HTTP and in batch and transaction entries alike.
 */
export function refuseCreateParameters(req: FhirRequest): void {
  const odd = req.params.find(([k]) => !TRANSPORT.has(k));
  if (!odd) return;
  const name = odd[0].replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
  throw badRequest(`the parameter '${name}' is not allowed on create (POST [type] takes only _format, http.html#create): to search, POST [type]/_search; for a conditional create, send the criteria in If-None-Exist`);
}

export async function create(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type] = req.segments;
  refuseCreateParameters(req);
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
  const p = req.params.filter(([k]) => !TRANSPORT.has(k));
  if (p.length === 0) throw badRequest('a conditional interaction needs search criteria in the URL');
  return p;
}

/** The patch formats this server applies (RFC 5789 §3.1 Accept-Patch; CapabilityStatement.patchFormat). */
const ACCEPT_PATCH = 'application/json-patch+json';
const RFC6902_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/**
 * JSON Patch (RFC 6902; R4 http.html#patch): "the server processes the resulting document as an Update
 * operation; all the version and error handling etc. apply as specified, as does the Prefer Header".
 * Statuses: a body that is not a JSON Patch document 400; a patch format not supported 415 (RFC 5789 §2.2
 * "Unsupported patch document", with Accept-Patch); a patch that cannot be applied (a failing `test`, a path
 * that does not exist) or whose result may not be stored 422 (RFC 5789 §2.2 "Unprocessable request ...
 * attempts to modify a resource in a way that would cause the resource to become invalid").
 */
export async function patch(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const [type, id] = req.segments;
  const ops = req.body;
  // A FHIR resource body on PATCH is a FHIRPath Patch (http.html#patch: "a FHIRPath Patch parameters resource
  // with FHIR Content Type"; in a Bundle entry, the only form besides a Binary). Not implemented, nor declared.
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!Array.isArray(ops) && (ops as { resourceType?: unknown } | undefined)?.resourceType === 'Parameters' && contentType !== ACCEPT_PATCH) {
    throw new FhirError(415, 'not-supported', `FHIRPath Patch is not supported; send a JSON Patch document as ${ACCEPT_PATCH}`, { headers: { 'Accept-Patch': ACCEPT_PATCH } });
  }
  if (!Array.isArray(ops)) throw badRequest('a JSON Patch body is an array of operations');
  const current = await readLive(tx, type, id, { forUpdate: true });
  const tags = req.headers['if-match'] ? parseETags(req.headers['if-match'], 'If-Match') : '*';
  if (tags !== '*' && !tags.includes(current.version)) throw preconditionFailed(`If-Match names no current version of ${type}/${id}`);
  const error = jsonpatch.validate(ops as jsonpatch.Operation[]);
  if (error) throw badRequest(`invalid JSON Patch: ${error.name}`);
  // fast-json-patch also knows a `_get` of its own; RFC 6902 §4: "op" MUST be one of the six.
  const odd = (ops as Array<{ op: string }>).find((o) => !RFC6902_OPS.has(o.op));
  if (odd) throw badRequest(`invalid JSON Patch: '${String(odd.op).slice(0, 20)}' is not an RFC 6902 operation`);
  let patched: Resource;
  try {
    // The stored text parsed with its decimals' lexemes, patched in place (../json-patch.ts keeps them).
    patched = applyJsonPatch(parseJson(current.content), ops as jsonpatch.Operation[]) as Resource;
  } catch (e) {
    // A failed `test` operation or a path that does not exist: the patch cannot be applied (RFC 6902 §5).
    throw unprocessable(`the patch could not be applied: ${(e as { name?: string }).name ?? 'error'}`);
  }
  if (patched?.resourceType !== type || patched.id !== id) throw unprocessable('a patch may not change resourceType or id');
  // "The server SHALL ensure that the narrative in a resource is not clinically unsafe after the PATCH operation
  // is performed" (http.html#patch). This server does not render narrative, so when the data changed and the
  // patch left `text` alone: a generated narrative, which now may contradict the data, is deleted ("on the basis
  // that some later process will be able to populate it"); one written by a person (status extensions or
  // additional) cannot be dropped without losing what it says, so the patch is refused ("could reject").
  const written = membersWritten(ops as jsonpatch.Operation[]);
  const status = patched.resourceType === 'Bundle' ? undefined : (patched as { text?: { status?: string } }).text?.status;
  if (status && status !== 'empty' && !written.has('text') && !written.has('') && [...written].some((m) => m !== 'meta')) {
    if (status !== 'generated') {
      throw unprocessable(`${type}/${id} has a narrative with status '${String(status).slice(0, 20)}' that this patch would leave describing other data: patch /text as well, or update the whole resource`, [
        { severity: 'error', code: 'business-rule', diagnostics: `the narrative (text.status '${String(status).slice(0, 20)}') must be patched along with the data it describes`, expression: [`${type}.text`] },
      ]);
    }
    delete (patched as { text?: unknown }).text;
  }
  if (type !== 'Bundle') {
    // As for PUT (bodyResource): a conditional reference is resolved only in a transaction (http.html#trules).
    const conditional = collectReferences(patched, []).find((s) => conditionalTarget(s.value));
    if (conditional) throw unprocessable(`the patched resource holds the conditional reference '${conditional.value.slice(0, 80)}': conditional references are resolved only in a transaction`);
    relativeSelfReferences(patched, svc.config.fhirBase);
  }
  try {
    return writeResponse(req, (await updateResource(tx, type, id, patched, now(), { ifMatch: current.version })).stored, 200, svc.config.fhirBase, `patched ${type}/${id}`);
  } catch (e) {
    // The document is the patch's result, not the client's body: a resource the update would refuse as
    // malformed (400) is one the patch would make invalid, RFC 5789 §2.2's 422, with the same issues.
    if (e instanceof FhirError && e.status === 400) throw new FhirError(422, e.issues[0]?.code ?? 'processing', e.message, { issues: e.issues, headers: e.headers });
    throw e;
  }
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
