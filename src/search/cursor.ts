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
    || typeof parsed[2] !== 'string' || !/^\d{1,19}$/.test(parsed[2]) || typeof parsed[3] !== 'string'
    || !(parsed[1] as unknown[]).every((v) => v === null || typeof v === 'string' || typeof v === 'number')) {
    throw paramError('_cursor', 'is not a paging cursor this server issued');
  }
  if (parsed[3] !== sortFingerprint) throw paramError('_cursor', 'belongs to a search with a different _sort');
  return { dir: parsed[0] === 'n' ? 'next' : 'prev', values: parsed[1] as Cursor['values'], rid: parsed[2], sort: parsed[3] };
}

export const sortFingerprint = (sort: Array<{ name: string; desc: boolean }>): string =>
  hashText(sort.map((s) => `${s.desc ? '-' : ''}${s.name}`).join(',')).slice(-8);
