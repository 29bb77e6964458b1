// Paging links for Bundles (R4 http.html#paging): absolute URLs under the FHIR base, carrying the
// original parameters plus an opaque cursor, so following `next` needs no server-side state.
import { badRequest } from '../errors.js';
import { dateRange, isoOf } from '../search/dates.js';

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(text: string, name = '_cursor'): T {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as T;
  } catch {
    throw badRequest(`${name} is not a cursor this server issued`);
  }
}

export function pageUrl(base: string, path: string, params: Array<[string, string]>, replace: Record<string, string | undefined>): string {
  const kept = params.filter(([k]) => !(k in replace));
  for (const [k, v] of Object.entries(replace)) if (v !== undefined) kept.push([k, v]);
  const qs = new URLSearchParams(kept).toString();
  return `${base}${path ? `/${path}` : ''}${qs ? `?${qs}` : ''}`;
}

export function parseCount(params: Array<[string, string]>, fallback = 20, max = 1000): number {
  const v = params.find(([k]) => k === '_count')?.[1];
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw badRequest(`_count must be a whole number, not '${v.slice(0, 20)}'`, ['_count']);
  return Math.min(Number(v), max);
}

/**
 * A date or instant parameter (`_since`) as an ISO instant: the start of the period its precision covers,
 * read as search/dates.ts reads every date (the calendar checked, so 2021-02-30 is refused, not rolled
 * into March; no zone means UTC, never the server's local time). Year 0000 is no FHIR date
 * (datatypes.html#date) and no PostgreSQL one either: refused like any other malformed value.
 */
export function parseInstant(v: string, name: string): string {
  const r = v.startsWith('0000') ? undefined : dateRange(v);
  if (!r) throw badRequest(`${name} must be a date or instant, not '${v.slice(0, 40)}'`, [name]);
  return isoOf(r.lo);
}
