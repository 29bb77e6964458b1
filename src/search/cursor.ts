// Keyset paging cursors (opaque base64url): the sort values and rid of the last row of a page (next) or the
// first (previous), so a page is "the rows after this key" however many rows came or went since (no
// offsets, no ceiling). A fingerprint of the sort ties the cursor to the search that issued it.
import { paramError } from './model.js';
import { hashText } from './hash.js';

export interface Cursor { dir: 'next' | 'prev'; values: Array<string | number | null>; rid: string; sort: string }

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.dir === 'next' ? 'n' : 'p', c.values, c.rid, c.sort])).toString('base64url');
}

export function decodeCursor(text: string, sortFingerprint: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw paramError('_cursor', 'is not a paging cursor this server issued');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || (parsed[0] !== 'n' && parsed[0] !== 'p') || !Array.isArray(parsed[1])
    || typeof parsed[2] !== 'string' || !isInt8(parsed[2]) || typeof parsed[3] !== 'string'
    || !(parsed[1] as unknown[]).every((v) => v === null || typeof v === 'string' || typeof v === 'number')) {
    throw paramError('_cursor', 'is not a paging cursor this server issued');
  }
  if (parsed[3] !== sortFingerprint) throw paramError('_cursor', 'belongs to a search with a different _sort');
  return { dir: parsed[0] === 'n' ? 'next' : 'prev', values: parsed[1] as Cursor['values'], rid: parsed[2], sort: parsed[3] };
}

export const sortFingerprint = (sort: Array<{ name: string; desc: boolean }>): string =>
  hashText(sort.map((s) => `${s.desc ? '-' : ''}${s.name}`).join(',')).slice(-8);

const INT8_MAX = 2n ** 63n - 1n;
/** Digits PostgreSQL accepts as bigint: in range, so a cursor edited by hand never meets error 22003. */
export function isInt8(v: string): boolean {
  return /^-?\d{1,19}$/.test(v) && BigInt(v) <= INT8_MAX && BigInt(v) >= -INT8_MAX - 1n;
}

/** PostgreSQL's text output of a timestamptz (what runPage hands back), or an ISO instant. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2})(:?\d{2})?)?$/;

/**
 * A real calendar day and clock time (PostgreSQL refuses 2021-02-30 or 25:00 with an error, 22008). Also
 * used for the history and AuditEvent cursors, whose instants travel with the client the same way.
 */
export function isTimestamp(v: string): boolean {
  const m = TIMESTAMP.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && s < 60 && Number(m[9] ?? 0) < 16;
}

function fits(v: string | number | null, cast: string): boolean {
  if (v === null) return true;
  switch (cast) {
    case 'text': return typeof v === 'string' && !v.includes('\u0000');
    case 'int8': return typeof v === 'number' ? Number.isSafeInteger(v) : isInt8(v);
    case 'float8': return typeof v === 'number' ? Number.isFinite(v) : /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v) && Number.isFinite(Number(v));
    case 'timestamptz': return typeof v === 'string' && isTimestamp(v);
    default: return false;
  }
}

/**
 * The cursor's sort values, one per sort key and each of the key's type (`casts`, query.ts). The fingerprint
 * ties a cursor to its _sort, but its values travel with the client: one edited by hand is a 400 here,
 * not a database error on the cast.
 */
export function checkCursorValues(cursor: Cursor, casts: string[]): void {
  if (cursor.values.length !== casts.length || !cursor.values.every((v, i) => fits(v, casts[i]))) {
    throw paramError('_cursor', 'is not a paging cursor this server issued');
  }
}
