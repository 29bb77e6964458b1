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

/** A decimal search value and its implicit precision range (search.html#number: 100 means [99.5, 100.5)). */
export function parseDecimal(text: string, name: string): { value: number; lo: number; hi: number } {
  const m = /^([-+]?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/.exec(text);
  if (!m) throw paramError(name, `'${text.slice(0, 40)}' is not a number`);
  const value = Number(text);
  const decimals = m[3]?.length ?? 0;
  const exp = m[4] ? Number(m[4]) : 0;
  // With an exponent the significant figures set the precision: 1.0e2 → ±5, 1e2 → ±50.
  const half = 0.5 * 10 ** (exp - decimals);
  return { value, lo: value - half, hi: value + half };
}
