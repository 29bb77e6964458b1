// read and vread (R4 http.html#read, #vread): 200 with ETag and Last-Modified, 404 unknown, 410 deleted;
// conditional read with If-None-Match / If-Modified-Since answers 304 (../conditional-read.ts).
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import { readCurrent, readVersion } from '../../store/resources.js';
import { FhirError, notFound, badRequest } from '../../errors.js';
import { resourceBody, versionHeaders } from '../respond.js';
import { notModified } from '../conditional-read.js';
import { refuseAuditVersions } from './history.js';

/**
 * search.html#summary defines `_summary=count` as "Search only: just return a count of the matching
 * resources, without returning the actual matches": a read has no matches to count, and answering the whole
 * resource would tell the client it got what it asked for. Refused (400) naming the parameter, before any
 * lookup; the other values (true, text, data, false) apply to a read as to a search's entries.
 */
function refuseCountSummary(req: FhirRequest): void {
  if (req.params.some(([k, v]) => k === '_summary' && v === 'count')) {
    throw badRequest('_summary=count is defined for searches only (search.html#summary: "Search only"); a read returns one resource: use _summary=true, text, data or false, or search with _id and _summary=count');
  }
}

export async function read(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  const [type, id] = req.segments;
  refuseCountSummary(req);
  const s = await readCurrent(tx, type, id);
  if (!s) throw notFound(`${type}/${id} is not known`);
  if (s.deleted) throw new FhirError(410, 'deleted', `${type}/${id} was deleted`, { headers: versionHeaders(s) });
  if (notModified(req, s.version, s.lastUpdated)) return { status: 304, headers: versionHeaders(s) };
  return { status: 200, headers: versionHeaders(s), lastUpdated: s.lastUpdated, ...resourceBody(req, s) };
}

/**
 * vread (http.html#vread). The version ids this server assigns are whole numbers written without leading
 * zeros (meta.versionId "1", "2", …): `_history/01` names no version, so it is 404 rather than version 1 (a
 * non-number stays a 400). A version is immutable, so a conditional GET answers 304 as a read does (RFC 9110
 * §13.1.2 If-None-Match, http.html#cread), and the 410 of a deletion carries its ETag and Last-Modified as
 * a read's does. AuditEvents have no versions to read (history.ts refuseAuditVersions).
 */
export async function vread(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  const [type, id, , vid] = req.segments;
  refuseAuditVersions(type, 'vread');
  refuseCountSummary(req);
  if (!/^\d+$/.test(vid)) throw badRequest(`version '${vid.slice(0, 20)}' is not a version number`);
  const s = /^[1-9]\d{0,8}$/.test(vid) ? await readVersion(tx, type, id, Number(vid)) : undefined;
  if (!s) {
    const current = await readCurrent(tx, type, id);
    throw notFound(current ? `${type}/${id} has no version ${vid.slice(0, 20)}` : `${type}/${id} is not known`);
  }
  if (s.deleted) throw new FhirError(410, 'deleted', `${type}/${id} version ${vid} is a deletion`, { headers: versionHeaders(s) });
  if (notModified(req, s.version, s.lastUpdated)) return { status: 304, headers: versionHeaders(s) };
  return { status: 200, headers: versionHeaders(s), lastUpdated: s.lastUpdated, ...resourceBody(req, s) };
}
