// history of an instance, a type and the whole system (R4 http.html#history): newest first, `_since`,
// `_at`, `_count`, paged by keyset cursor; each entry's request and response say how its version came to be,
// deletions appear as entries with request.method DELETE and no resource.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import type { Services } from '../services.js';
import { history as readHistory, countHistory, readCurrent, type HistoryEntry, type Interaction } from '../../store/resources.js';
import { badRequest, FhirError, notFound } from '../../errors.js';
import { decodeCursor, encodeCursor, pageUrl, parseCount, parseInstant } from '../bundle-links.js';
import { httpDate } from '../respond.js';
import { parseSubsetting, subset, type Subsetting } from '../summary.js';
import { TRANSPORT } from '../conditional-criteria.js';
import { dateRange, isoOf } from '../../search/dates.js';
import { isInt8, isTimestamp } from '../../search/cursor.js';
import { parseJson } from '../../json/parse.js';
import { strictOf } from './search.js';
import { stringifyJson } from '../../json/stringify.js';

interface Cursor { t: string; r: string; v: number }

/**
 * The parameters history takes (R4 http.html#history: `_count`, `_since`, `_at`, `_list`), less `_list`
 * (not supported: no List membership is kept per version), plus the general ones (http.html#parameters:
 * `_format`, `_pretty`, `_summary`, `_elements`) and this server's paging `_cursor`.
 */
const KNOWN = new Set([...TRANSPORT, '_count', '_since', '_at', '_cursor', '_summary', '_elements']);

/**
 * The parameters history applies. Any other (`_list` too) is refused under `Prefer: handling=strict` and
 * otherwise ignored and left out of the links (search.html#errors: "the server SHALL ignore unknown or
 * unsupported parameters" unless strict; http.html#history paging works as search's: the self link says
 * what was done).
 */
function appliedParams(req: FhirRequest): Array<[string, string]> {
  const unknown = req.params.filter(([k]) => !KNOWN.has(k));
  if (unknown.length && strictOf(req)) {
    const name = unknown[0][0].slice(0, 40);
    throw new FhirError(400, 'not-supported', `history does not support the parameter '${name}' (Prefer: handling=strict)`, { expression: [name] });
  }
  return req.params.filter(([k]) => KNOWN.has(k));
}

/**
 * `_since` is an instant (http.html#history "_since : instant"): no search prefix applies to it, so
 * `_since=gt2024` is malformed rather than read as `_since=2024`.
 */
function sinceParam(params: Array<[string, string]>): string | undefined {
  const v = params.find(([k]) => k === '_since')?.[1];
  return v === undefined ? undefined : parseInstant(v, '_since');
}

/**
 * `_at` as the period its precision covers (http.html#history: versions "current at some point during the
 * time period specified in the date time value (see Search notes on date searching)"): `_at=2026-11-23` is
 * that whole day. The date prefixes of search.html#prefix apply to that period: `ge`/`gt` leave it open
 * after its start/end, `le`/`lt` before its end/start; the others (ne, sa, eb, ap) are refused.
 */
function atParam(params: Array<[string, string]>): { from?: string; to?: string } | undefined {
  const v = params.find(([k]) => k === '_at')?.[1];
  if (v === undefined) return undefined;
  const m = /^(eq|ge|gt|le|lt|ne|sa|eb|ap)?(.*)$/.exec(v)!;
  const prefix = m[1] ?? 'eq';
  const r = m[2].startsWith('0000') ? undefined : dateRange(m[2]);
  if (!r || !['eq', 'ge', 'gt', 'le', 'lt'].includes(prefix)) {
    throw badRequest(`_at must be a date or instant, with no prefix or eq, ge, gt, le or lt, not '${v.slice(0, 40)}'`, ['_at']);
  }
  const lo = isoOf(r.lo);
  const hi = isoOf(r.hi);
  switch (prefix) {
    case 'ge': return { from: lo };
    case 'gt': return { from: hi };
    case 'le': return { to: hi };
    case 'lt': return { to: lo };
    default: return { from: lo, to: hi };
  }
}

/**
 * `_summary` and `_elements` on the entries' resources (http.html#parameters: general parameters). Not
 * `_summary=count`: search.html#summary defines it for searches only ("Search only"), as read.ts refuses it
 * on a read; `_count=0` answers the total of a history.
 */
function subsetting(params: Array<[string, string]>): Subsetting | undefined {
  const s = parseSubsetting(params);
  if (s?.summary === 'count') {
    throw badRequest('_summary=count is defined for searches only (search.html#summary: "Search only"); ask the history with _count=0 for its total', ['_summary']);
  }
  return s;
}

/**
 * entry.request and entry.response as the interaction that made the version answered it (http.html#history:
 * the request lets "a subscriber system to differentiate between newly created resources and updates to
 * existing resources"): a create is POST [type] 201, an update-as-create or a revival PUT [type]/[id] 201, an
 * update (a patch too, as R5 http.html#history spells out) PUT 200, a deletion DELETE 204. A version written before
 * the interaction was kept (migrations/043_version_interaction.sql) is read as it always was.
 */
const ANSWERS: Record<Interaction, { method: string; status: string }> = {
  create: { method: 'POST', status: '201' },
  upsert: { method: 'PUT', status: '201' },
  update: { method: 'PUT', status: '200' },
  delete: { method: 'DELETE', status: '204' },
};

function interactionOf(h: HistoryEntry): Interaction {
  if (h.deleted) return 'delete';
  return h.interaction ?? (h.version === 1 ? 'create' : 'update');
}

/**
 * One entry. response.location is "The location header created by processing this operation, populated if
 * the operation returns a location" (bundle.html, Bundle.entry.response.location): a create answered 201
 * with `Location: [base]/[type]/[id]/_history/[vid]` (http.html#create, #update), given relative as in a
 * transaction-response (bundle-request.ts).
 */
function entry(base: string, h: HistoryEntry, sub: Subsetting | undefined) {
  const url = `${h.type}/${h.id}`;
  const { method, status } = ANSWERS[interactionOf(h)];
  const resource = h.deleted ? '' : `"resource":${sub ? stringifyJson(subset(parseJson(h.content) as Record<string, unknown>, sub)) : h.content},`;
  const response = { status, ...(status === '201' ? { location: `${url}/_history/${h.version}` } : {}), etag: `W/"${h.version}"`, lastModified: h.lastUpdated };
  return `{"fullUrl":${JSON.stringify(`${base}/${url}`)},${resource}"request":${JSON.stringify({ method, url: method === 'POST' ? h.type : url })},"response":${JSON.stringify(response)}}`;
}

/** A cursor as history() writes it; anything else (edited by hand) is the client's error, not a database one. */
function validCursor(c: Cursor): Cursor {
  const ok = typeof c === 'object' && c !== null && typeof c.t === 'string' && isTimestamp(c.t)
    && typeof c.r === 'string' && isInt8(c.r) && Number.isInteger(c.v) && c.v >= 1;
  if (!ok) throw badRequest('_cursor is not a cursor this server issued', ['_cursor']);
  return c;
}

/**
 * AuditEvents live in the append-only audit store, one version per event: the CapabilityStatement declares
 * them read and search-type only, readHistory false, versioning no-version (operations/metadata.ts), so
 * their history and vread are not endpoints here (http.html: 404 "resource type not supported, or not a FHIR
 * end-point"), whoever asks.
 */
export function refuseAuditVersions(type: string | undefined, what: string): void {
  if (type === 'AuditEvent') {
    throw new FhirError(404, 'not-supported', `AuditEvent has no ${what}: audit events are append-only, one version each (CapabilityStatement: readHistory false); read or search them`);
  }
}

export async function history(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const segs = req.segments;
  const type = segs[0] === '_history' ? undefined : segs[0];
  const id = segs.length === 3 ? segs[1] : undefined;
  refuseAuditVersions(type, 'history');
  const params = appliedParams(req);
  const count = parseCount(params, 50, 1000);
  const since = sinceParam(params);
  const at = atParam(params);
  const sub = subsetting(params);
  const cursorText = params.find(([k]) => k === '_cursor')?.[1];
  const after = cursorText ? validCursor(decodeCursor<Cursor>(cursorText)) : undefined;
  if (type && id && !(await readCurrent(tx, type, id))) throw notFound(`${type}/${id} is not known`);
  const rows = await readHistory(tx, { type, id, since, at, count: count + 1, after: after && { lastUpdated: after.t, rid: after.r, version: after.v } });
  const page = rows.slice(0, count);
  const total = after ? undefined : await countHistory(tx, { type, id, since, at });
  const path = segs.join('/');
  // The self link states the history as performed: ignored parameters left out, a _count over the maximum
  // read as the capped one (as search.ts does).
  const linkParams = params.map(([k, v]): [string, string] => (k === '_count' ? [k, String(count)] : [k, v]));
  const links = [`{"relation":"self","url":${JSON.stringify(pageUrl(svc.config.fhirBase, path, linkParams, {}))}}`];
  if (rows.length > count && page.length > 0) {
    const last = page[page.length - 1];
    links.push(`{"relation":"next","url":${JSON.stringify(pageUrl(svc.config.fhirBase, path, linkParams, { _cursor: encodeCursor({ t: last.lastUpdated, r: last.rid, v: last.version }) }))}}`);
  }
  const raw = `{"resourceType":"Bundle","type":"history",${total !== undefined ? `"total":${total},` : ''}"link":[${links.join(',')}],"entry":[${page.map((h) => entry(svc.config.fhirBase, h, sub)).join(',')}]}`;
  return { status: 200, headers: page[0] ? { 'Last-Modified': httpDate(page[0].lastUpdated) } : {}, raw };
}
