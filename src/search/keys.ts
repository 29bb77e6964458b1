// The value keys shared by the write side (extract.ts) and the query side (params/*.ts), so both hash
// exactly the same text. Token forms follow R4 search.html "token": [code] (any system), [system]|[code],
// |[code] (no system), [system]| (any code in the system); :of-type keys Identifier type + value.
import { hash64, type Key } from './hash.js';
import type { SearchParam } from '../registry/search-params.js';

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

/**
 * Joins, in sp_string.x, the whole original and the whole normalised text of a value longer than MAX_STRING.
 * U+0001 is a character no stored string holds: FHIR strings refuse control characters
 * (fhir/validation/control-chars.ts), so it cannot be mistaken for part of either text.
 */
export const LONG_SEP = '\u0001';

const ORDERED = new Set(['quantity', 'number', 'date']);

/**
 * How a composite's components are indexed (R4 search.html#composite), the same on the write and the query
 * side: the leading `hashed` components (token, reference, string, uri) hash together into sp_composite.h;
 * the ordered ones after them compare on lo/hi: one ordered component as a range [lo, hi] (a quantity,
 * number or date), or two number components as two points, lo and hi (R4 MolecularSequence
 * `chromosome-window-coordinate=1$lt44$gt55`). Undefined for any other shape (none in R4).
 */
export function compositeShape(types: string[]): { hashed: number; ordered: 0 | 1 | 2 } | undefined {
  const first = types.findIndex((t) => ORDERED.has(t));
  const hashed = first < 0 ? types.length : first;
  const ordered = types.slice(hashed);
  if (types.length < 2 || hashed < 1 || ordered.length > 2 || ordered.some((t) => !ORDERED.has(t))) return undefined;
  if (ordered.length === 2 && ordered.some((t) => t !== 'number')) return undefined;
  return { hashed, ordered: ordered.length as 0 | 1 | 2 };
}

/**
 * The parameter as it indexes a contained resource (R4 search.html#contained): the same definition under the
 * identity '#<Type>.<code>', so every key derived from it (p, h, :text, :identifier, composites) differs from
 * a top-level resource's and normal searches never meet contained rows. One object per parameter (the write
 * side caches its compiled form by identity).
 */
const containedParams = new WeakMap<SearchParam, SearchParam>();
export function containedParam(sp: SearchParam): SearchParam {
  let c = containedParams.get(sp);
  if (!c) containedParams.set(sp, (c = { ...sp, key: `#${sp.key}` }));
  return c;
}

/** Contained resources indexed per resource; a _containedType=contained row is numbered rid × SLOTS + cx + 1. */
export const CONTAINED_SLOTS = 1024;
