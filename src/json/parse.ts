// JSON text → value, keeping every number's original text when JavaScript would print it differently
// (R4 datatypes.html#decimal "0.010 is regarded as different to 0.01, and the original precision should be
// preserved"; json.html on parsers that turn decimals into binary floats). Numbers stay JS numbers for
// every reader; the lexemes go beside them (lexemes.ts) for stringifyJson (stringify.ts) to write back.
//
// Fast path: JSON.parse, kept when plain-numbers.ts proves every number token spelled as String() prints
// it (all 565 Synthea bundles of the fixtures). Slow path, for a text with 1.50, 1e2, -0 or 17 digits in
// it: lossless-json, whose numbers keep their text. Errors are JSON.parse's, with its messages.
import { parse as losslessParse } from 'lossless-json';
import { LEXEMES, type LexemeRecord } from './lexemes.js';
import { numbersPrintAsWritten } from './plain-numbers.js';

export interface ParseOptions {
  /** Refuse (JsonTooDeep) objects and arrays nested more than this many levels, checked on the way. */
  maxDepth?: number;
}

/** Thrown by parseJson when the value nests deeper than ParseOptions.maxDepth. */
export class JsonTooDeep extends Error {
  constructor(readonly maxDepth: number) {
    super(`nested more than ${maxDepth} levels deep`);
  }
}

/** A number of the slow path whose text JavaScript would not print back. */
class Spelled {
  constructor(readonly value: number, readonly text: string) {}
}

function parseNumber(text: string): number | Spelled {
  const n = Number(text);
  return String(n) === text ? n : new Spelled(n, text);
}

/**
 * Replaces each Spelled member below `v` (a container at nesting `depth`) by its number, keeps its text in
 * the container's record and marks every container above one (lexemes.ts). True when `v` is marked.
 */
function revive(v: object, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth) throw new JsonTooDeep(maxDepth);
  let rec: LexemeRecord | undefined;
  let marked = false;
  const o = v as Record<string, unknown>;
  const visit = (k: string): void => {
    const x = o[k];
    if (x instanceof Spelled) {
      // '__proto__' is an ordinary own key here, as JSON.parse makes it: define it, do not assign it.
      if (k === '__proto__') Object.defineProperty(o, k, { value: x.value, writable: true, enumerable: true, configurable: true });
      else o[k] = x.value;
      (rec ??= Object.create(null) as LexemeRecord)[k] = x.text;
      marked = true;
    } else if (typeof x === 'object' && x !== null && revive(x, depth + 1, maxDepth)) marked = true;
  };
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) visit(String(i));
  else for (const k of Object.keys(v)) visit(k);
  if (marked) (v as { [LEXEMES]?: LexemeRecord })[LEXEMES] = rec ?? (Object.create(null) as LexemeRecord);
  return marked;
}

/** Nesting check for a value the slow path could not re-parse (bounded: stops at maxDepth + 1). */
function assertDepth(v: unknown, depth: number, maxDepth: number): void {
  if (typeof v !== 'object' || v === null) return;
  if (depth > maxDepth) throw new JsonTooDeep(maxDepth);
  for (const x of Array.isArray(v) ? v : Object.values(v)) assertDepth(x, depth + 1, maxDepth);
}

/** JSON.parse, keeping the text of numbers JavaScript would print differently (see the header). */
export function parseJson(text: string, opts: ParseOptions = {}): unknown {
  const maxDepth = opts.maxDepth ?? Infinity;
  const value: unknown = JSON.parse(text);
  const plain = numbersPrintAsWritten(text, value, maxDepth);
  if (plain === 'plain') return value;
  if (plain === 'too-deep') throw new JsonTooDeep(maxDepth);
  if (typeof value !== 'object' || value === null) return value; // a bare number has no holder for its text
  let lossless: unknown;
  try {
    // A repeated key: the last one wins, as with JSON.parse (lossless-json would throw).
    lossless = losslessParse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
  } catch {
    // JSON.parse took the text, so only lossless-json's recursion gave up (thousands of levels deep):
    // JSON.parse's value serves, without the lexemes.
    if (Number.isFinite(maxDepth)) assertDepth(value, 1, maxDepth);
    return value;
  }
  revive(lossless as object, 1, maxDepth);
  return lossless;
}
