// Keyed-hash pseudonyms for ids and references (HIPAA §164.514(c) "re-identification code": derived
// with a secret key, so it cannot be reversed or recomputed without the key; patterns §4.1 cryptoHash).
// HMAC-SHA256(key, tenant NUL Type/id), 32 hex characters (128 bits, a valid FHIR id). The same key
// gives the same pseudonym, so references between de-identified resources still resolve.
import { createHmac } from 'node:crypto';

const REF = /^(?:[a-z][a-z0-9+.-]*:\/\/[^?#]*\/)?([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
// Bounded: repeats are local (a patient's bundle), and the importer's memory must stay flat (< 500 MB).
const CACHE_MAX = 20_000;

export class Pseudonyms {
  private readonly cache = new Map<string, string>();
  /** Whole reference strings → rewritten (or '' = dropped): most references repeat within a patient. */
  private readonly refs = new Map<string, string>();

  constructor(private readonly key: Buffer, readonly keyId: string, readonly tenant: string) {}

  /** The pseudonymous id of `type/id`. Cached: a Synthea bundle repeats its patient and encounter ids. */
  id(type: string, id: string): string {
    const k = `${type}/${id}`;
    let p = this.cache.get(k);
    if (p === undefined) {
      p = createHmac('sha256', this.key).update(`${this.tenant}\u0000${k}`).digest('hex').slice(0, 32);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(k, p);
    }
    return p;
  }

  /**
   * The pseudonym of a contained resource's local id. The writer chooses local ids freely
   * ("zqx-dr-family-1958", an MRN): kept, they are "any other unique identifying number, characteristic,
   * or code" (§164.514(b)(2)(i)(R)). Keyed like every id, and the same for the id and its `#id` references.
   */
  local(id: string): string {
    return this.id('#', id);
  }

  /**
   * A Reference.reference rewritten to `Type/<pseudonym>[/_history/v]`; absolute URLs become relative
   * (the URL itself may identify a system). Contained references (#x) become `#<local pseudonym>`, `#` (the
   * container) stays. Anything else (urn:uuid, urn:oid, query references) cannot be resolved on the
   * de-identified side: undefined = drop it.
   */
  reference(ref: string): string | undefined {
    if (ref.charCodeAt(0) === 35) return ref.length === 1 ? ref : `#${this.local(ref.slice(1))}`; // '#': contained
    let out = this.refs.get(ref);
    if (out === undefined) {
      const m = REF.exec(ref);
      // A version is kept when it is a version number (what this server assigns); any other text is the
      // writer's ("/_history/ada-1958"), removed with the version (§164.514(b)(2)(i)(R)).
      out = m ? `${m[1]}/${this.id(m[1], m[2])}${m[3] && /^\/_history\/\d{1,9}$/.test(m[3]) ? m[3] : ''}` : '';
      if (this.refs.size >= CACHE_MAX) this.refs.clear();
      this.refs.set(ref, out);
    }
    return out || undefined;
  }

  /** `Patient/<id>` compartment entries to their pseudonymous form. */
  compartments(values: readonly string[]): string[] {
    const out: string[] = [];
    for (const v of values) {
      const r = this.reference(v);
      if (r) out.push(r);
    }
    return out;
  }

  /** A per-patient constant day shift in [-365, 365] \ {0} for the date-shift mode (limited data sets). */
  shiftDays(patientId: string | undefined): number {
    const h = createHmac('sha256', this.key).update(`shift\u0000${this.tenant}\u0000${patientId ?? ''}`).digest();
    const n = h.readUInt32BE(0) % 730;
    return n < 365 ? n - 365 : n - 364;
  }
}

/** Pseudonymizers by tenant and key, so their caches live as long as the key does. */
const byTenant = new Map<string, Pseudonyms>();

export function pseudonymsFor(key: Buffer, keyId: string, tenant: string): Pseudonyms {
  const k = `${keyId}\u0000${tenant}`;
  let p = byTenant.get(k);
  if (!p) {
    p = new Pseudonyms(key, keyId, tenant);
    byTenant.set(k, p);
  }
  return p;
}
