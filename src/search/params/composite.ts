// composite parameters (R4 search.html#composite): values joined by $, one per component
// (Observation?code-value-quantity=http://loinc.org|8480-6$gt100). The leading unordered components hash
// together into sp_composite.h exactly as extract-rows.ts builds them; an ordered last one (quantity, number,
// date) compares on lo/hi, two ordered number components (MolecularSequence `…-window-coordinate=1$lt44$gt55`)
// compare as the points lo and hi (keys.ts compositeShape). Also `near` (special, search.html#special).
import { sql, or, and, type Frag } from '../sql.js';
import type { Expr } from '../model.js';
import { paramError } from '../model.js';
import { splitEscaped, unescape } from '../escape.js';
import { keyText } from '../hash.js';
import { compositeKey, compositeShape, variant, normalizeString } from '../keys.js';
import { parseRefValue } from './reference.js';
import { parseQuantityValue, parseNumberValue, numberCondition, unitCondition } from './number.js';
import { parseDateValue, rangeCondition } from './date.js';
import { inKeys, paramKeys, type Ctx, type IndexCond } from './common.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

function variantOf(type: string, value: string, name: string, ctx: Ctx): string {
  if (type === 'token') {
    const parts = splitEscaped(value, '|');
    if (parts.length === 1) return variant.code(unescape(parts[0]));
    if (parts.length !== 2) throw paramError(name, `'${value.slice(0, 60)}' is not a token`);
    const [s, c] = parts.map(unescape);
    return c === '' ? variant.system(s) : variant.systemCode(s, c);
  }
  if (type === 'reference') {
    const r = parseRefValue(value, ctx.base, name);
    return variant.ref(r.type ? `${r.type}/${r.id}` : r.id);
  }
  if (type === 'string') return variant.text(normalizeString(unescape(value)));
  if (type === 'uri') return variant.text(unescape(value));
  throw paramError(name, `a ${type} component can only come last in a composite`);
}

export function compositeCondition(e: ValueExpr, x: Frag, ctx: Ctx): IndexCond {
  if (e.modifier !== undefined) throw paramError(e.name, `the modifier :${e.modifier} is not supported on composite parameters`);
  const comps = e.ps.params[0].components ?? [];
  const shape = compositeShape(comps.map((c) => c.type));
  if (!shape || e.ps.params.some((p) => (p.components ?? []).map((c) => c.type).join() !== comps.map((c) => c.type).join())) {
    throw paramError(e.name, 'this composite parameter is not supported');
  }
  const last = comps[comps.length - 1];
  const conds = e.values.map((value) => {
    const parts = splitEscaped(value, '$');
    if (parts.length !== comps.length) throw paramError(e.name, `needs ${comps.length} components separated by $`);
    const heads = parts.slice(0, shape.ordered === 0 ? parts.length : shape.hashed).map((p, i) => variantOf(comps[i].type, p, e.name, ctx));
    const keys = inKeys(sql`${x}.h`, e.ps.params.map((p) => keyText(compositeKey(p.key, heads))));
    if (shape.ordered === 0) return keys;
    if (shape.ordered === 2) {
      // Two coordinates, each a point: the first stored in lo, the second in hi.
      const a = parseNumberValue(unescape(parts[parts.length - 2]), e.name);
      const b = parseNumberValue(unescape(parts[parts.length - 1]), e.name);
      return sql`(${keys} and ${numberCondition(a, sql`${x}.lo`, sql`${x}.lo`)} and ${numberCondition(b, sql`${x}.hi`, sql`${x}.hi`)})`;
    }
    const tail = parts[parts.length - 1];
    let cond: Frag;
    if (last.type === 'date') {
      const { prefix, q } = parseDateValue(tail, e.name, ctx.now);
      cond = rangeCondition(prefix, q, sql`${x}.lo`, sql`${x}.hi`);
    } else if (last.type === 'number') {
      cond = numberCondition(parseNumberValue(unescape(tail), e.name), sql`${x}.lo`, sql`${x}.hi`);
    } else {
      const q = parseQuantityValue(tail, e.name);
      const unit = unitCondition(q, x);
      cond = and([numberCondition(q, sql`${x}.lo`, sql`${x}.hi`), ...(unit ? [unit] : [])]);
    }
    return sql`(${keys} and ${cond})`;
  });
  return { table: 'sp_composite', where: or(conds) };
}

const KM: Record<string, number> = { km: 1, m: 0.001, mi: 1.609344, '[mi_i]': 1.609344 };

/** near=[latitude]|[longitude]|[distance]|[units] (default 1 km): haversine within a bounding box. */
export function nearCondition(e: ValueExpr, x: Frag): IndexCond {
  const conds = e.values.map((value) => {
    const parts = splitEscaped(value, '|').map(unescape);
    const lat = Number(parts[0]);
    const lon = Number(parts[1]);
    const dist = parts[2] ? Number(parts[2]) : 1;
    const unit = parts[3] || 'km';
    if (parts.length < 2 || parts.length > 4 || !Number.isFinite(lat) || !Number.isFinite(lon) || !Number.isFinite(dist) || !(unit in KM) || Math.abs(lat) > 90) {
      throw paramError(e.name, 'near is [latitude]|[longitude]|[distance]|[km|m|mi]');
    }
    const km = dist * KM[unit];
    const dLat = km / 111.2;
    const dLon = km / (111.2 * Math.max(Math.cos((lat * Math.PI) / 180), 0.01));
    return sql`(${x}.lo between ${lat - dLat} and ${lat + dLat} and ${x}.hi between ${lon - dLon} and ${lon + dLon}
      and 12742 * asin(sqrt(power(sin(radians(${x}.lo - ${lat}) / 2), 2) + cos(radians(${lat})) * cos(radians(${x}.lo)) * power(sin(radians(${x}.hi - ${lon}) / 2), 2))) <= ${km})`;
  });
  return { table: 'sp_composite', where: sql`${inKeys(sql`${x}.h`, paramKeys(e.ps))} and ${or(conds)}` };
}
