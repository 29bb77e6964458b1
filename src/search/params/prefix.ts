// Prefixes of the ordered types (R4 search.html#prefix): eq ne gt lt ge le sa eb ap, eq when absent.
// Each maps to a condition over the target's range [lo, hi] against the search value's range.
import type { Prefix } from '../model.js';
import { paramError } from '../model.js';

const PREFIXES = new Set(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

export function splitPrefix(value: string, name: string, allowed = true): { prefix: Prefix; rest: string } {
  const m = /^([a-z]{2})(.*)$/.exec(value);
  if (m && PREFIXES.has(m[1])) {
    if (!allowed) throw paramError(name, `prefixes are not allowed here ('${value.slice(0, 40)}')`);
    return { prefix: m[1] as Prefix, rest: m[2] };
  }
  if (m && /^[a-z]{2}[-+0-9.]/.test(value)) throw paramError(name, `unknown prefix '${m[1]}'`);
  return { prefix: 'eq', rest: value };
}

/**
 * A decimal search value, its implicit precision range (search.html#number: 100 means [99.5, 100.5); "the
 * number of significant digits … excluding leading zeros", so 1.0e2 is ±5 and 1e2 ±50) and its `ap` range
 * (search.html#prefix: "the recommended value for the approximation is 10% of the stated value").
 * Every bound is computed in decimal from the digits as written and only then read as a double, so it is the
 * double nearest the exact bound, the one a stored value at that bound also reads as: in floating point
 * 5.4 − 0.05 is 5.3500000000000005, so `value-quantity=5.4` missed a stored 5.35 at the bottom of [5.35, 5.45),
 * and 0.3 + 0.03 is 0.32999999999999996, so `ap0.3` missed 0.33.
 */
export function parseDecimal(text: string, name: string): { value: number; lo: number; hi: number; apLo: number; apHi: number } {
  const m = /^([-+]?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!m) throw paramError(name, `'${text.slice(0, 40)}' is not a number`);
  const decimals = m[3]?.length ?? 0;
  const exp = (m[4] ? Number(m[4]) : 0) - decimals;
  // value = s × 10^exp exactly, s the signed digits as written (5.40e-3 → 540 × 10^-5). A bound beyond what a
  // double holds reads as ±Infinity (1e999), as the value itself does.
  const s = BigInt(`${m[1] === '-' ? '-' : ''}${m[2]}${m[3] ?? ''}`);
  const at = (tenths: bigint): number => Number(`${tenths}e${exp - 1}`); // (tenths × 10^(exp − 1)) as a double
  const abs = s < 0n ? -s : s;
  return { value: Number(text), lo: at(10n * s - 5n), hi: at(10n * s + 5n), apLo: at(10n * s - abs), apHi: at(10n * s + abs) };
}
