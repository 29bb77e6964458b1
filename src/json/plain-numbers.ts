// Decides, after JSON.parse, whether every number token of the text is spelled exactly as JavaScript prints
// its value (String(n)); only then may parseJson (parse.ts) keep JSON.parse's result, because R4
// datatypes.html#decimal wants a decimal's precision as written ("0.010 is regarded as different to 0.01").
//
// Why not a scan of the text: V8 runs a regular expression that is not a plain literal at about 0.3 ns a
// character, 15–35% of JSON.parse, and no literal finds "1e2". Literal searches (indexOf) run at memchr
// speed when their first character is rare, so the proof is built from them and from one walk of the value
// (which the REST parser needed anyway, for the nesting limit):
// - members (`"key": number`) whose value is not an integer: every dot in the text that sits in a token
//   proved to be a member's value (see trustedMember) is checked to print as written, and counted. As many
//   such tokens as non-integer member values means none of those values came from another spelling
//   (5e-1, 1e-07), all of them having been counted among the dotted ones;
// - members with an integer value, and arrays of numbers under a key: for each, in walk order, a real
//   member's token spelled String(n) is found by indexOf after the last one accepted.
// The accepted tokens are real, distinct and plain, and as many as the numbers, each number having come
// from one token: so every token is plain. A false answer only sends the text to the slow path.
//
// Known limit: with a repeated key (RFC 8259 §4: names SHOULD be unique; JSON.parse keeps the last), the
// discarded token may be the one counted, and the kept one's spelling is then not checked.

/** Nesting at which the walk stops proving (answers not-plain): far beyond any FHIR resource, far within the stack. */
const WALK_LIMIT = 1000;

const isWs = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Characters a number token may hold (RFC 8259 §6). */
const isNumChar = (c: number): boolean => isDigit(c) || c === 46 || c === 45 || c === 43 || c === 101 || c === 69;
/** Characters of the keys the backward checks trust (see trustedMember). */
const isKeyChar = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c === 45 || c === 46;
const isKeyStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;

/** The result of a walk: every number plain, or why not. */
export type PlainResult = 'plain' | 'not-plain' | 'too-deep';

// One proof at a time (it is synchronous): the text, where the last integer token found ended, the nesting
// limit, the count of non-integer member values, and how integers are looked for.
let text = '';
let cursor = 0;
let limit = Infinity;
let fractions = 0;
/** Whether integers are looked for by `"key":` (see integerMember). */
let keyNeedles = true;

/**
 * True when the token starting at `p` is the value of a member `"key": …` of an object, where the key is
 * made of letters, digits, '_', '$', '-' and '.', starts with a letter, '_' or '$', and its opening quote
 * is not escaped (an even run of backslashes before it). That quote then opens a string: JSON.parse accepted
 * the text, and after a closing quote only ws and one of , : ] } may come, none of them a key's first
 * character. The string holds no quote or backslash, so it ends at the next quote; a string followed by ':'
 * is a key; the value starts at `p`. With `key` the key must also be that one.
 */
function trustedMember(p: number, key?: string): boolean {
  let q = p - 1;
  while (q >= 0 && isWs(text.charCodeAt(q))) q--;
  if (text.charCodeAt(q) !== 58) return false; // ':'
  q--;
  while (q >= 0 && isWs(text.charCodeAt(q))) q--;
  if (text.charCodeAt(q) !== 34) return false;
  const close = q;
  q--;
  while (q >= 0 && isKeyChar(text.charCodeAt(q))) q--;
  if (q < 0 || text.charCodeAt(q) !== 34 || q + 1 === close || !isKeyStart(text.charCodeAt(q + 1))) return false;
  if (key !== undefined && (close - q - 1 !== key.length || !text.startsWith(key, q + 1))) return false;
  let slashes = 0;
  for (let r = q - 1; r >= 0 && text.charCodeAt(r) === 92; r--) slashes++;
  return (slashes & 1) === 0;
}

/** Where the value of the member whose `"key":` starts at `at` begins (a real member: trustedMember), or -1. */
function valueAfter(at: number, key: string): number {
  let p = at + key.length + 3;
  while (isWs(text.charCodeAt(p))) p++;
  return trustedMember(p, key) ? p : -1;
}

/**
 * The integer `n`, value of `key`: a real member `"key": <String(n)>` after the cursor, which then moves past
 * it (so no token is accepted twice). It need not be the very token of `n`: every accepted token is plain and
 * distinct, and there are as many as integers (see the header). Found by the needle `"key":`, which compact
 * and indented writers both emit and which indexOf finds without stopping at the digits of dates and ids;
 * then, for other layouts, by String(n) itself.
 */
function integerMember(key: string, n: number): boolean {
  const s = String(n);
  if (keyNeedles) {
    const needle = `"${key}":`;
    let at = text.indexOf(needle, cursor);
    for (; at >= 0; at = text.indexOf(needle, at + 1)) {
      const p = valueAfter(at, key);
      if (p < 0 || !text.startsWith(s, p) || isNumChar(text.charCodeAt(p + s.length))) continue; // another value
      cursor = p + s.length;
      return true;
    }
  }
  for (let p = text.indexOf(s, cursor); p >= 0; p = text.indexOf(s, p + 1)) {
    const end = p + s.length;
    if (isNumChar(text.charCodeAt(end)) || isNumChar(text.charCodeAt(p - 1)) || !trustedMember(p, key)) continue;
    // Found only this way: the text has another layout ("key" : 1), where the needle would cost a scan each time.
    keyNeedles = false;
    cursor = end;
    return true;
  }
  return false;
}

/** `key`: [numbers…]: the first found as a member's value would be, the rest following it one by one. */
function numberArray(key: string, a: readonly unknown[]): boolean {
  for (const x of a) if (typeof x !== 'number') return false;
  const first = String(a[0]);
  for (let p = text.indexOf(first, cursor); p >= 0; p = text.indexOf(first, p + 1)) {
    let q = p - 1;
    while (q >= 0 && isWs(text.charCodeAt(q))) q--;
    if (text.charCodeAt(q) !== 91 || !trustedMember(q, key)) continue; // '['
    let i = p;
    for (let j = 0; j < a.length; j++) {
      const s = String(a[j]);
      if (!text.startsWith(s, i) || isNumChar(text.charCodeAt(i + s.length))) return false;
      i += s.length;
      while (isWs(text.charCodeAt(i))) i++;
      if (text.charCodeAt(i) !== (j === a.length - 1 ? 93 : 44)) return false; // ']' or ','
      i++;
      while (isWs(text.charCodeAt(i))) i++;
    }
    cursor = i;
    return true;
  }
  return false;
}

/** `v`, a container at nesting `depth` (the root is 1): checks integers and arrays, counts fractions. */
function walk(v: object, depth: number): PlainResult {
  if (depth > limit) return 'too-deep';
  if (depth > WALK_LIMIT) return 'not-plain';
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null) {
        const r = walk(x, depth + 1);
        if (r !== 'plain') return r;
      } else if (typeof x === 'number') return 'not-plain'; // no key to anchor it
    }
    return 'plain';
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'number') {
      if (!Number.isInteger(x)) fractions++;
      else if (!integerMember(k, x)) return 'not-plain';
    } else if (typeof x === 'object' && x !== null) {
      if (Array.isArray(x) && typeof x[0] === 'number') {
        if (depth + 1 > limit) return 'too-deep';
        if (!numberArray(k, x)) return 'not-plain';
      } else {
        const r = walk(x, depth + 1);
        if (r !== 'plain') return r;
      }
    }
  }
  return 'plain';
}

/**
 * The number of dotted tokens that are members' values (trustedMember) and print as written; -1 when one
 * does not (1.50, 0.0000001, 1.5e3, 0.30000000000000001).
 */
function dottedMembers(): number {
  let count = 0;
  for (let dot = text.indexOf('.'); dot >= 0; dot = text.indexOf('.', dot + 1)) {
    if (!isDigit(text.charCodeAt(dot - 1)) || !isDigit(text.charCodeAt(dot + 1))) continue;
    let start = dot - 1;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    if (text.charCodeAt(start - 1) === 45) start--; // '-'
    let end = dot + 1;
    while (isDigit(text.charCodeAt(end))) end++;
    const last = text.charCodeAt(end - 1);
    const next = text.charCodeAt(end);
    if (!trustedMember(start, undefined)) continue; // text inside a string, or an array's element
    // A member's value: JSON.parse accepted it, so it is a number token, ending here or at an exponent.
    if (next === 101 || next === 69 || last === 48) return -1; // an exponent, or a fraction ending in 0
    const lead = text.charCodeAt(start) === 45 ? start + 1 : start;
    if (end - start > 16 || (text.charCodeAt(lead) === 48 && text.startsWith('000000', dot + 1))) {
      // 16 digits or more, or below 1e-6: the shortest spelling of the double may differ.
      const token = text.slice(start, end);
      if (String(Number(token)) !== token) return -1;
    }
    count++;
    dot = end;
  }
  return count;
}

/**
 * Whether every number token of `json` (which JSON.parse turned into `value`) is spelled as String() prints
 * its number; 'too-deep' when containers nest more than `maxDepth` levels (checked on the way, so a caller
 * needs no second walk for that limit). A bare number is 'not-plain' (nothing to keep its text in).
 */
export function numbersPrintAsWritten(json: string, value: unknown, maxDepth = Infinity): PlainResult {
  if (typeof value !== 'object' || value === null) return typeof value === 'number' ? 'not-plain' : 'plain';
  text = json;
  cursor = 0;
  limit = maxDepth;
  fractions = 0;
  keyNeedles = true;
  try {
    const r = walk(value, 1);
    if (r !== 'plain' || fractions === 0) return r;
    return dottedMembers() === fractions ? 'plain' : 'not-plain';
  } finally {
    text = ''; // do not keep a large body alive
  }
}
