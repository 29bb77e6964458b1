// read and vread (R4 http.html#read, #vread): 200 with ETag and Last-Modified, 404 unknown, 410 deleted;
// conditional read with If-None-Match / If-Modified-Since answers 304 (../conditional-read.ts).
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import { readCurrent, readVersion } from '../../store/resources.js';
import { FhirError, gone, notFound, badRequest } from '../../errors.js';
import { resourceBody, versionHeaders } from '../respond.js';
import { notModified } from '../conditional-read.js';

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

export async function vread(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  const [type, id, , vid] = req.segments;
  refuseCountSummary(req);
  if (!/^\d{1,9}$/.test(vid)) throw badRequest(`version '${vid.slice(0, 20)}' is not a version number`);
  const s = await readVersion(tx, type, id, Number(vid));
  if (!s) {
    const current = await readCurrent(tx, type, id);
    throw notFound(current ? `${type}/${id} has no version ${vid}` : `${type}/${id} is not known`);
  }
  if (s.deleted) throw gone(`${type}/${id} version ${vid} is a deletion`);
  return { status: 200, headers: versionHeaders(s), ...resourceBody(req, s) };
}
