// number and quantity parameters (R4 search.html#number, #quantity). A search value's precision makes
// eq a range (100 → [99.5, 100.5)); gt/lt/ge/le/sa/eb compare with the value itself; ap is ±10%.
// Targets are points (lo = hi) or Ranges [low, high]. Quantity units: [number]|[system]|[code] matches
// system and code; [number]||[code] matches code or unit; no unit part matches any unit.
import { sql, or, and, type Frag } from '../sql.js';
import type { Expr, Prefix } from '../model.js';
import { paramError } from '../model.js';
import { splitEscaped, unescape } from '../escape.js';
import { splitPrefix, parseDecimal } from './prefix.js';
import { inKeys, paramKeys, type IndexCond } from './common.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

/** lo/hi: the value's precision range [lo, hi); apLo/apHi: the value ±10% (prefix.ts parseDecimal). */
export interface NumberValue { prefix: Prefix; value: number; lo: number; hi: number; apLo: number; apHi: number }

export function parseNumberValue(text: string, name: string): NumberValue {
  const { prefix, rest } = splitPrefix(text, name);
  const d = parseDecimal(rest, name);
  return { prefix, ...d };
}

/** Condition on a target range [lo, hi] (float8 columns) for one search value. */
export function numberCondition(n: NumberValue, lo: Frag, hi: Frag): Frag {
  const v = n.value;
  switch (n.prefix) {
    case 'eq': return sql`(${lo} >= ${n.lo} and ${hi} < ${n.hi})`;
    case 'ne': return sql`(${lo} < ${n.lo} or ${hi} >= ${n.hi})`;
    case 'gt': return sql`${hi} > ${v}`;
    case 'lt': return sql`${lo} < ${v}`;
    case 'ge': return sql`${hi} >= ${v}`;
    case 'le': return sql`${lo} <= ${v}`;
    case 'sa': return sql`${lo} > ${v}`;
    case 'eb': return sql`${hi} < ${v}`;
    case 'ap': return sql`(${lo} <= ${n.apHi} and ${hi} >= ${n.apLo})`;
  }
}

export interface QuantityValue extends NumberValue { system?: string; code?: string }

export function parseQuantityValue(text: string, name: string): QuantityValue {
  const parts = splitEscaped(text, '|');
  if (parts.length !== 1 && parts.length !== 3) throw paramError(name, `a quantity is [prefix][number]|[system]|[code], not '${text.slice(0, 60)}'`);
  const n = parseNumberValue(unescape(parts[0]), name);
  if (parts.length === 1) return n;
  const system = unescape(parts[1]);
  const code = unescape(parts[2]);
  return { ...n, ...(system ? { system } : {}), ...(code ? { code } : {}) };
}

export function unitCondition(q: QuantityValue, x: Frag): Frag | undefined {
  if (q.system && q.code) return sql`(${x}.system = ${q.system} and ${x}.code = ${q.code})`;
  if (q.code) return sql`(${x}.code = ${q.code} or ${x}.unit = ${q.code})`;
  if (q.system) return sql`${x}.system = ${q.system}`;
  return undefined;
}

export function numberValueCondition(e: ValueExpr, x: Frag): IndexCond {
  if (e.modifier !== undefined) throw paramError(e.name, `the modifier :${e.modifier} is not supported on ${e.ps.type} parameters`);
  const conds = e.values.map((raw) => {
    const text = e.prefix ? `${e.prefix}${raw}` : raw;
    if (e.ps.type === 'number') return numberCondition(parseNumberValue(text, e.name), sql`${x}.lo`, sql`${x}.hi`);
    const q = parseQuantityValue(text, e.name);
    const unit = unitCondition(q, x);
    const num = numberCondition(q, sql`${x}.lo`, sql`${x}.hi`);
    return unit ? and([num, unit]) : num;
  });
  return { table: 'sp_number', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${or(conds)}` };
}
