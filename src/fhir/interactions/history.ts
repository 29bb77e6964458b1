// history of an instance, a type and the whole system (R4 http.html#history): newest first, `_since`,
// `_at`, `_count`, paged by keyset cursor; each entry's request and response say how its version came to be,
// deletions appear as entries with request.method DELETE and no resource.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import type { Services } from '../services.js';
import { history as readHistory, countHistory, readCurrent, type HistoryEntry, type Interaction } from '../../store/resources.js';
import { badRequest, notFound } from '../../errors.js';
import { decodeCursor, encodeCursor, pageUrl, parseCount, parseInstant } from '../bundle-links.js';
import { httpDate } from '../respond.js';
import { dateRange, isoOf } from '../../search/dates.js';
import { isInt8, isTimestamp } from '../../search/cursor.js';

interface Cursor { t: string; r: string; v: number }

function instantParam(params: Array<[string, string]>, name: string): string | undefined {
  const v = params.find(([k]) => k === name)?.[1];
  return v === undefined ? undefined : parseInstant(v.replace(/^(eq|le|lt|ge|gt)/, ''), name);
}

/**
 * `_at` as the period its precision covers (http.html#history: versions "current at some point during the
 * time period specified in the date time value"; search.html "date"): `_at=2026-11-23` is that whole day.
 */
function periodParam(params: Array<[string, string]>, name: string): { from: string; to: string } | undefined {
  const v = params.find(([k]) => k === name)?.[1];
  if (v === undefined) return undefined;
  const text = v.replace(/^(eq|le|lt|ge|gt)/, '');
  const r = text.startsWith('0000') ? undefined : dateRange(text);
  if (!r) throw badRequest(`${name} must be a date or instant, not '${v.slice(0, 40)}'`, [name]);
  return { from: isoOf(r.lo), to: isoOf(r.hi) };
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

function entry(base: string, h: HistoryEntry) {
  const url = `${h.type}/${h.id}`;
  const { method, status } = ANSWERS[interactionOf(h)];
  return `{"fullUrl":${JSON.stringify(`${base}/${url}`)},${h.deleted ? '' : `"resource":${h.content},`}"request":${JSON.stringify({ method, url: method === 'POST' ? h.type : url })},"response":${JSON.stringify({ status, etag: `W/"${h.version}"`, lastModified: h.lastUpdated })}}`;
}

/** A cursor as history() writes it; anything else (edited by hand) is the client's error, not a database one. */
function validCursor(c: Cursor): Cursor {
  const ok = typeof c === 'object' && c !== null && typeof c.t === 'string' && isTimestamp(c.t)
    && typeof c.r === 'string' && isInt8(c.r) && Number.isInteger(c.v) && c.v >= 1;
  if (!ok) throw badRequest('_cursor is not a cursor this server issued', ['_cursor']);
  return c;
}

export async function history(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const segs = req.segments;
  const type = segs[0] === '_history' ? undefined : segs[0];
  const id = segs.length === 3 ? segs[1] : undefined;
  if (type && id && !(await readCurrent(tx, type, id))) throw notFound(`${type}/${id} is not known`);
  const count = parseCount(req.params, 50, 1000);
  const since = instantParam(req.params, '_since');
  const at = periodParam(req.params, '_at');
  const cursorText = req.params.find(([k]) => k === '_cursor')?.[1];
  const after = cursorText ? validCursor(decodeCursor<Cursor>(cursorText)) : undefined;
  const rows = await readHistory(tx, { type, id, since, at, count: count + 1, after: after && { lastUpdated: after.t, rid: after.r, version: after.v } });
  const page = rows.slice(0, count);
  const total = after ? undefined : await countHistory(tx, { type, id, since, at });
  const path = segs.join('/');
  const links = [`{"relation":"self","url":${JSON.stringify(pageUrl(svc.config.fhirBase, path, req.params, {}))}}`];
  if (rows.length > count && page.length > 0) {
    const last = page[page.length - 1];
    links.push(`{"relation":"next","url":${JSON.stringify(pageUrl(svc.config.fhirBase, path, req.params, { _cursor: encodeCursor({ t: last.lastUpdated, r: last.rid, v: last.version }) }))}}`);
  }
  const raw = `{"resourceType":"Bundle","type":"history",${total !== undefined ? `"total":${total},` : ''}"link":[${links.join(',')}],"entry":[${page.map((h) => entry(svc.config.fhirBase, h)).join(',')}]}`;
  return { status: 200, headers: page[0] ? { 'Last-Modified': httpDate(page[0].lastUpdated) } : {}, raw };
}
