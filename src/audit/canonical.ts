// Canonical JSON for audit content (RFC 8785's shape for our values): object keys sorted by UTF-16 code
// units, no whitespace, strings and numbers as JSON.stringify writes them. The stored text is what is
// hashed, so the same event always hashes the same, whichever process wrote it.

// Loops and string appends rather than map/join: this runs for every request's AuditEvent.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    let s = '[';
    for (let i = 0; i < value.length; i++) s += (i ? ',' : '') + (value[i] === undefined ? 'null' : canonicalJson(value[i]));
    return s + ']';
  }
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let s = '{';
  for (const k of keys) {
    const v = o[k];
    if (v === undefined) continue;
    s += (s.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return s + '}';
}
