// Where a number's original JSON text (its lexeme) is kept between parseJson (parse.ts) and stringifyJson
// (stringify.ts). R4 datatypes.html#decimal: "the precision of the decimal value has significance" (0.010 is
// not 0.01) and json.html warns that parsers turning numbers into binary floats lose it; the value stays a
// JS number for every reader (validation, search indexing), and the text travels beside it.
//
// An object or array whose subtree holds a number printed differently by JavaScript carries an enumerable
// Symbol-keyed record, key → lexeme for its own numeric members (empty on ancestors that only contain one):
// - JSON.stringify, Object.keys, for…in and ajv ignore Symbol keys, so no reader sees it;
// - object spread and rest ({ ...r, id }, const { meta, ...rest } = r) copy it, so the copies the write path
//   makes (stamp, update, transaction entries) keep both the mark and their own members' lexemes;
// - a lexeme is used only while the member still holds the number it spells: a changed value prints as
//   JavaScript prints it, so a stale record never prints a wrong value (at worst, when code assigns the
//   same value again, the spelling it had; json-patch.ts rewrites the lexemes of what a patch writes).

/** Key of the record; present (possibly empty) on every object or array above a kept lexeme. */
export const LEXEMES: unique symbol = Symbol('fhirgate.json.lexemes');

export type LexemeRecord = Record<string, string>;
type Holder = { [LEXEMES]?: LexemeRecord };

export const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** True when `v` (an object or array) has a kept lexeme somewhere below it. */
export function hasLexemes(v: unknown): boolean {
  return isContainer(v) && (v as Holder)[LEXEMES] !== undefined;
}

/** The lexeme of `holder[key]`, if one is kept and the member still holds its number. */
export function lexemeOf(holder: unknown, key: string | number): string | undefined {
  if (!isContainer(holder)) return undefined;
  const lex = (holder as Holder)[LEXEMES]?.[key];
  if (lex === undefined) return undefined;
  const v = (holder as Record<string, unknown>)[key];
  return typeof v === 'number' && Object.is(Number(lex), v) ? lex : undefined;
}

/** The record of `holder`, created (and, being possibly shared with a spread copy, never mutated) on demand. */
function ownRecord(holder: object): LexemeRecord {
  const copy: LexemeRecord = Object.create(null);
  Object.assign(copy, (holder as Holder)[LEXEMES]);
  (holder as Holder)[LEXEMES] = copy;
  return copy;
}

/**
 * Keeps (or, with undefined, forgets) the lexeme of `holder[key]`. Copy-on-write: a spread copy sharing the
 * record is not affected. Ancestors are not marked here: call remark on the root afterwards.
 */
export function setLexeme(holder: object, key: string | number, lexeme: string | undefined): void {
  const rec = (holder as Holder)[LEXEMES];
  if (lexeme === undefined ? rec?.[key] === undefined : rec?.[key] === lexeme) return;
  const own = ownRecord(holder);
  if (lexeme === undefined) delete own[key];
  else own[key] = lexeme;
}

/** The whole record of `holder` (for shifting array members), or undefined. */
export function recordOf(holder: object): Readonly<LexemeRecord> | undefined {
  return (holder as Holder)[LEXEMES];
}

/** Replaces the whole record of `holder` (undefined removes it). */
export function setRecord(holder: object, rec: LexemeRecord | undefined): void {
  if (rec === undefined) delete (holder as Holder)[LEXEMES];
  else (holder as Holder)[LEXEMES] = rec;
}

/**
 * Recomputes the marks below `v` after edits that moved or replaced members (a JSON Patch): every container
 * holding a still-valid lexeme or a marked child is marked, every other one unmarked. Returns whether `v` is.
 */
export function remark(v: unknown): boolean {
  if (!isContainer(v)) return false;
  let marked = false;
  const rec = (v as Holder)[LEXEMES];
  if (rec) for (const k in rec) if (lexemeOf(v, k) !== undefined) marked = true;
  if (Array.isArray(v)) {
    for (const x of v) if (isContainer(x) && remark(x)) marked = true;
  } else {
    for (const k in v) {
      const x = (v as Record<string, unknown>)[k];
      if (isContainer(x) && remark(x)) marked = true;
    }
  }
  if (marked && !rec) (v as Holder)[LEXEMES] = Object.create(null) as LexemeRecord;
  else if (!marked && rec) delete (v as Holder)[LEXEMES];
  return marked;
}

/** `to`, a copy of `from` made member by member with the same keys (summary.ts), takes its record, as spread would. */
export function shareLexemes<T extends object>(from: object, to: T): T {
  const rec = (from as Holder)[LEXEMES];
  if (rec) (to as Holder)[LEXEMES] = rec;
  return to;
}

/** A deep copy of a JSON value with its lexemes (a JSON Patch `copy`, which must not alias its source). */
export function cloneWithLexemes<T>(v: T): T {
  if (!isContainer(v)) return v;
  const out: Record<string, unknown> | unknown[] = Array.isArray(v) ? v.map(cloneWithLexemes) : {};
  if (!Array.isArray(v)) {
    for (const k of Object.keys(v)) {
      const x = cloneWithLexemes((v as Record<string, unknown>)[k]);
      if (k === '__proto__') Object.defineProperty(out, k, { value: x, writable: true, enumerable: true, configurable: true });
      else (out as Record<string, unknown>)[k] = x;
    }
  }
  const rec = (v as Holder)[LEXEMES];
  if (rec) (out as Holder)[LEXEMES] = rec; // never mutated in place (setLexeme copies), so it may be shared
  return out as T;
}

/**
 * Gives `to`, a copy of `from` made member by member (the de-identified copy, a JSON round trip), the
 * lexemes of `from` wherever the same key path still holds the same number. Arrays are followed only when
 * their lengths agree (one made by map, not by filter), so a lexeme never lands on another element's value.
 * Returns `to`.
 */
export function carryLexemes<T>(from: unknown, to: T): T {
  const walk = (a: unknown, b: unknown): boolean => {
    if (!hasLexemes(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
    if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
    let marked = false;
    const src = a as Record<string, unknown>;
    const dst = b as Record<string, unknown>;
    for (const k of Object.keys(dst)) {
      const x = dst[k];
      if (typeof x === 'number') {
        const lex = lexemeOf(src, k);
        if (lex !== undefined && Object.is(src[k], x)) {
          setLexeme(dst, k, lex);
          marked = true;
        }
      } else if (isContainer(x) && walk(src[k], x)) marked = true;
    }
    if (marked && !recordOf(dst)) setRecord(dst, Object.create(null) as LexemeRecord);
    return marked;
  };
  walk(from, to);
  return to;
}
