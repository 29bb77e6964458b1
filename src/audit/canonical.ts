// Canonical JSON for audit content (RFC 8785's shape for our values): object keys sorted by UTF-16 code
// units, no whitespace, strings and numbers as JSON.stringify writes them. The stored text is what is
// hashed, so the same event always hashes the same, whichever process wrote it.

/**
 * True when JSON.stringify(value) already is the canonical text: plain objects whose keys come in sorted
 * order at every level, arrays without holes, strings, booleans, null and finite numbers. balp.ts builds
 * its events that way, so they take JSON.stringify (5 µs for a search's event) instead of the walk below
 * (11 µs); anything else (unsorted keys, a Date, a toJSON) takes the walk.
 */
export function inCanonicalOrder(v: unknown): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (v[i] === undefined || !inCanonicalOrder(v[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  let prev: string | undefined;
  for (const k of Object.keys(v as object)) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined && !inCanonicalOrder(x)) return false;
  }
  return true;
}

export function canonicalJson(value: unknown): string {
  return value !== undefined && inCanonicalOrder(value) ? JSON.stringify(value) : canonicalWalk(value);
}

// Loops and string appends rather than map/join.
function canonicalWalk(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i ? ',' : '') + (value[i] === undefined ? 'null' : canonicalWalk(value[i]));
    return s + ']';
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let s = '{';
  for (const k of keys) {
    const v = o[k];
    if (v === undefined) continue;
    s += (s.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalWalk(v);
  }
  return s + '}';
}
