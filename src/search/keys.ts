// The value keys shared by the write side (extract.ts) and the query side (params/*.ts), so both hash
// exactly the same text. Token forms follow R4 search.html "token": [code] (any system), [system]|[code],
// |[code] (no system), [system]| (any code in the system); :of-type keys Identifier type + value.
import { hash64, type Key } from './hash.js';

const SEP = '\u0000';

/** `code` in any system. */
export const tokenCode = (param: string, code: string): Key => hash64(`${param}${SEP}c${SEP}${code}`);
/** `system|code`; system '' means "no system" (the `|code` form). */
export const tokenSystemCode = (param: string, system: string, code: string): Key => hash64(`${param}${SEP}s${SEP}${system}${SEP}${code}`);
/** `system|`: any code in the system. */
export const tokenSystem = (param: string, system: string): Key => hash64(`${param}${SEP}S${SEP}${system}`);
/** `:of-type`: Identifier.type coding + value. */
export const tokenOfType = (param: string, system: string, code: string, value: string): Key =>
  hash64(`${param}${SEP}t${SEP}${system}${SEP}${code}${SEP}${value}`);

/** Composite parts: each component contributes one variant string; the row key hashes them together. */
export const variant = {
  code: (code: string) => `c${SEP}${code}`,
  systemCode: (system: string, code: string) => `s${SEP}${system}${SEP}${code}`,
  system: (system: string) => `S${SEP}${system}`,
  ref: (ref: string) => `r${SEP}${ref}`,
  text: (normalized: string) => `v${SEP}${normalized}`,
};
export const compositeKey = (param: string, variants: string[]): Key => hash64(`${param}${SEP}${variants.join('\u0001')}`);

/** The identity of derived index entries of a parameter (`Observation.code:text`, `…:identifier`). */
export const derived = (param: string, suffix: 'text' | 'identifier'): string => `${param}:${suffix}`;

/** Case- and accent-insensitive form of a string (R4 search.html "string": match ignoring case and accents). */
export function normalizeString(s: string): string {
  // Fast path: plain ASCII needs no decomposition.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  return s.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** Longest indexed string (btree entries must stay well under the 2.7 kB limit). */
export const MAX_STRING = 256;
