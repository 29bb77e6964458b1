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

export function stringCondition(values: string[], op: StringOp, x: Frag, name: string): Frag {
  return or(values.map((raw) => {
    if (raw === '') throw paramError(name, 'a string value is empty');
    const text = raw.length > MAX_STRING ? raw.slice(0, MAX_STRING) : raw;
    const v = normalizeString(text);
    switch (op) {
      case 'starts': return sql`(${x}.v >= ${v} and ${x}.v < ${v + TOP})`;
      case 'exact': return sql`(${x}.v = ${v} and coalesce(${x}.x, ${x}.v) = ${text})`;
      case 'equals': return sql`${x}.v = ${v}`;
      case 'contains': return sql`strpos(${x}.v, ${v}) > 0`;
      case 'ends': return sql`right(${x}.v, ${v.length}) = ${v}`;
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

/** uri (search.html#uri): exact; :below = the value and anything under it; :above = the value or a URL it is under. */
export function uriCondition(e: ValueExpr, x: Frag): IndexCond {
  const values = e.values.map(unescape);
  if (values.some((v) => v === '')) throw paramError(e.name, 'a uri value is empty');
  let cond: Frag;
  if (e.modifier === undefined) cond = sql`${x}.v = any(${values})`;
  else if (e.modifier === 'below') cond = or(values.map((v) => sql`(${x}.v >= ${v} and ${x}.v < ${v + TOP})`));
  else if (e.modifier === 'above') {
    const prefixes = values.flatMap((v) => {
      const out: string[] = [];
      for (let i = v.indexOf('/', v.indexOf('//') + 2); i > 0; i = v.indexOf('/', i + 1)) out.push(v.slice(0, i));
      return [...out, v];
    });
    cond = sql`${x}.v = any(${prefixes})`;
  } else throw paramError(e.name, `the modifier :${e.modifier} is not supported on uri parameters`);
  return { table: 'sp_string', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${cond}` };
}
