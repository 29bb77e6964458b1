// Paging links for Bundles (R4 http.html#paging): absolute URLs under the FHIR base, carrying the
// original parameters plus an opaque cursor, so following `next` needs no server-side state.
import { badRequest } from '../errors.js';

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

const INSTANT = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * A date or instant parameter (`_since`, `_at`) as an ISO instant. Year 0000 is no FHIR date
 * (datatypes.html#date) and no PostgreSQL one either: refused like any other malformed value.
 */
export function parseInstant(v: string, name: string): string {
  if (!INSTANT.test(v) || v.startsWith('0000') || Number.isNaN(Date.parse(v))) throw badRequest(`${name} must be a date or instant, not '${v.slice(0, 40)}'`, [name]);
  return new Date(v).toISOString();
}
