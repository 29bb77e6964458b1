// 64-bit keys for index rows (HAPI's hashed-token idea, ../shared/reference/peer-servers.md §2.2): a value
// such as "Observation.code + http://loinc.org|8480-6" becomes one bigint, so lookups are a single
// leakproof bigint equality on a compact btree. Computed in JS as two 32-bit halves (no BigInt on the
// write path); SQL recombines them as (hi::int8 << 32) | (lo::int8 & 4294967295).

/** Two 32-bit halves of a 64-bit key: [hi, lo], both signed int32. */
export type Key = [hi: number, lo: number];

/** cyrb53's two cross-mixed 32-bit lanes, both kept (64 bits). Over UTF-16 code units; deterministic. */
export function hash64(s: string): Key {
  let h1 = 0xdeadbeef ^ s.length;
  let h2 = 0x41c6ce57 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h2 | 0, h1 | 0];
}

/** The signed 64-bit decimal text of a key, as bound to a bigint parameter in queries. */
export function keyText(k: Key): string {
  return BigInt.asIntN(64, (BigInt(k[0]) << 32n) | BigInt(k[1] >>> 0)).toString();
}

export const hashText = (s: string): string => keyText(hash64(s));

const paramKeys = new Map<string, Key>();
/** The key of a parameter identity (`Observation.code`), cached: it is hashed once per process. */
export function paramKey(identity: string): Key {
  let k = paramKeys.get(identity);
  if (!k) paramKeys.set(identity, (k = hash64(identity)));
  return k;
}
