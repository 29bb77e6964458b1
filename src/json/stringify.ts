// Value → JSON text, writing each number whose lexeme parseJson kept (lexemes.ts) as that lexeme, so a
// decimal keeps the precision it was sent with (R4 datatypes.html#decimal, json.html). A value carrying no
// lexeme (the common case) is plain JSON.stringify; a number changed since parsing prints as JS prints it.
import { randomBytes } from 'node:crypto';
import { LEXEMES, hasLexemes, type LexemeRecord } from './lexemes.js';

/**
 * The replacer hands JSON.stringify a string, U+0000 + a per-process nonce + the lexeme, and a final
 * replace turns `"<that>"` back into the bare lexeme. No data string can pose as one: it would have to
 * hold U+0000 (which FHIR strings may not, and the request parser, the validator and the importer refuse:
 * fhir/validation/control-chars.ts) and also guess the nonce.
 */
const NONCE = randomBytes(9).toString('base64url');
const PREFIX = `\u0000${NONCE}`;

/**
 * The written sentinel: a string value (after ':', ',' or '[' and optional spacing; inside a string a quote
 * is always escaped, so none starts there) holding exactly the prefix and a JSON number, followed by what
 * can follow a value (so never a property name).
 */
const SENTINEL = new RegExp(`([:,[][ \\n]*)"\\\\u0000${NONCE}(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)"(?=[ \\n]*[,\\]}]|$)`, 'g');

function replacer(this: unknown, key: string, v: unknown): unknown {
  if (typeof v !== 'number') return v;
  const lex = (this as { [LEXEMES]?: LexemeRecord })[LEXEMES]?.[key];
  return lex !== undefined && Object.is(Number(lex), v) ? PREFIX + lex : v;
}

/** JSON.stringify(value, null, space) with kept lexemes written back (see the header). */
export function stringifyJson(value: unknown, space?: number): string {
  if (!hasLexemes(value)) return JSON.stringify(value, null, space);
  return JSON.stringify(value, replacer, space).replace(SENTINEL, '$1$2');
}
