// string parameters (R4 search.html#string): by default "starts with", ignoring case and accents (values
// are normalised at write time: NFD, marks removed, lower case); :exact matches the whole original text;
// :contains anywhere. Starts-with is a btree range on the C-collated column, not LIKE, so it stays
// index-driven and leakproof under row-level security. Also uri parameters (exact, :below, :above).
import { sql, or, type Frag } from '../sql.js';
import type { Expr, StringOp } from '../model.js';
import { paramError } from '../model.js';
import { unescape } from '../escape.js';
import { normalizeString, MAX_STRING } from '../keys.js';
import { inKeys, paramKeys, type IndexCond } from './common.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

/** Above every character: the upper bound of a prefix range in C collation. */
const TOP = '\u{10FFFF}';

/**
 * The whole original (ORIG) and the whole normalised text (NORM) of a row: sp_string.x holds them joined by
 * U+0001 (keys.ts LONG_SEP) when the value was longer than the index's MAX_STRING, else x is the original
 * when it differs from v, and v is both. Only rows the index condition on v already chose compute them.
 */
const orig = (x: Frag) => sql`coalesce(split_part(${x}.x, chr(1), 1), ${x}.v)`;
const norm = (x: Frag) => sql`(case when strpos(${x}.x, chr(1)) > 0 then split_part(${x}.x, chr(1), 2) else ${x}.v end)`;

export function stringCondition(values: string[], op: StringOp, x: Frag, name: string): Frag {
  return or(values.map((text) => {
    if (text === '') throw paramError(name, 'a string value is empty');
    const long = text.length > MAX_STRING;
    // v is the normalised first MAX_STRING characters, cut before normalising, as on the write side.
    const head = normalizeString(long ? text.slice(0, MAX_STRING) : text);
    const v = normalizeString(text);
    switch (op) {
      case 'starts':
        return long ? sql`(${x}.v = ${head} and starts_with(${norm(x)}, ${v}))` : sql`(${x}.v >= ${v} and ${x}.v < ${v + TOP})`;
      // Equal to the indexed prefix is not equal to the value when either was cut: the whole texts decide.
      case 'exact': return sql`(${x}.v = ${head} and ${orig(x)} = ${text})`;
      case 'equals': return sql`(${x}.v = ${head} and ${norm(x)} = ${v})`;
      case 'contains': return sql`strpos(${norm(x)}, ${v}) > 0`;
      case 'ends': return sql`right(${norm(x)}, ${[...v].length}) = ${v}`;
      case 'differs': return sql`not (${x}.v = ${head} and ${norm(x)} = ${v})`;
    }
  }));
}

/** A comparison prefix before a number or date (`gt2010`) means the client took this for an ordered parameter. */
const PREFIXED = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)[-+]?\d/;

export function stringValueCondition(e: ValueExpr, x: Frag): IndexCond {
  const bad = e.op === undefined ? e.values.find((v) => PREFIXED.test(v)) : undefined;
  if (bad) throw paramError(e.name, `string parameters take no prefix ('${bad.slice(0, 40)}')`);
  let op: StringOp;
  if (e.op) op = e.op;
  else if (e.modifier === undefined) op = 'starts';
  else if (e.modifier === 'exact') op = 'exact';
  else if (e.modifier === 'contains') op = 'contains';
  else throw paramError(e.name, `the modifier :${e.modifier} is not supported on string parameters`);
  return { table: 'sp_string', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${stringCondition(e.values.map(unescape), op, x, e.name)}` };
}

/**
 * uri (R4 search.html#uri): exact by default. :below, "a URL that starts with" the value, on path-segment
 * boundaries (http://acme.org/fhir/ matches http://acme.org/fhir and …/fhir/ValueSet/1, not …/fhirx); :above,
 * the stored URL is the value or a segment prefix of it (url:above=…/ValueSet/123/_history/5 matches
 * …/ValueSet/123). "The :above and :below modifiers only apply to URLs, and not URNs such as OIDs": a 400.
 * _filter's `sw` asks for a plain prefix (op 'starts').
 */
export function uriCondition(e: ValueExpr, x: Frag): IndexCond {
  const values = e.values.map(unescape);
  if (values.some((v) => v === '')) throw paramError(e.name, 'a uri value is empty');
  let cond: Frag;
  if (e.op === 'starts') cond = or(values.map((v) => sql`(${x}.v >= ${v} and ${x}.v < ${v + TOP})`));
  else if (e.modifier === undefined) {
    // A URL as long as the index's MAX_STRING or longer may have been cut: its whole text decides.
    const short = values.filter((v) => v.length < MAX_STRING);
    const long = values.filter((v) => v.length >= MAX_STRING);
    cond = or([...(short.length ? [sql`${x}.v = any(${short})`] : []), ...long.map((v) => sql`(${x}.v = ${v.slice(0, MAX_STRING)} and ${orig(x)} = ${v})`)]);
  }
  else if (e.modifier === 'below' || e.modifier === 'above') {
    const urn = values.find((v) => /^urn:/i.test(v));
    if (urn) throw paramError(e.name, `:${e.modifier} applies to URLs, not URNs such as '${urn.slice(0, 60)}' (R4 search.html#uri)`);
    cond = e.modifier === 'below'
      ? or(values.map((v) => {
        const base = trimSlash(v);
        return sql`(${x}.v = ${base} or (${x}.v >= ${`${base}/`} and ${x}.v < ${`${base}/${TOP}`}))`;
      }))
      : sql`${x}.v = any(${[...new Set(values.flatMap(segmentPrefixes))]})`;
  } else throw paramError(e.name, `the modifier :${e.modifier} is not supported on uri parameters`);
  return { table: 'sp_string', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${cond}` };
}

/** The URL without trailing slashes (but never shorter than its scheme and authority). */
function trimSlash(v: string): string {
  const t = v.replace(/\/+$/, '');
  return t.endsWith(':') || t.endsWith(':/') ? v : t;
}

/** The URL and every path-segment prefix of it after the authority, each with and without a trailing slash. */
function segmentPrefixes(v: string): string[] {
  const base = trimSlash(v);
  const start = base.indexOf('//');
  const first = base.indexOf('/', start >= 0 ? start + 2 : 0);
  const out = [v, base, `${base}/`];
  for (let i = first; i > 0; i = base.indexOf('/', i + 1)) out.push(base.slice(0, i), base.slice(0, i + 1));
  return out;
}
