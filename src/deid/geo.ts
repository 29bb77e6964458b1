// Geography under Safe Harbor (§164.514(b)(2)(i)(B)): every subdivision smaller than a state is removed
// (street, city, district, county, geocodes), except the first three digits of a ZIP code when the area
// of all ZIP codes with those digits has more than 20,000 people; otherwise the three digits are 000.

/**
 * ZIP3 areas of 20,000 people or fewer: the 17 of HHS's de-identification guidance (2000 Census:
 * 036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893) and those of the 2010 Census
 * used by Microsoft's FHIR anonymizer (adds 205 and 369). The union, so neither census is missed.
 */
export const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036', '059', '063', '102', '203', '205', '369', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893',
]);

/** A US ZIP (5 or 9 digits) to its ZIP3, `000` for a restricted area; undefined when it is not a US ZIP. */
export function zip3(postalCode: string, restricted: ReadonlySet<string> = RESTRICTED_ZIP3): string | undefined {
  const m = /^\s*(\d{3})\d{2}(?:-?\d{4})?\s*$/.exec(postalCode);
  if (!m) return undefined;
  return restricted.has(m[1]) ? '000' : m[1];
}

const US = new Set(['US', 'USA', 'United States', 'United States of America']);

/**
 * An Address reduced to use, type, state and country, with postalCode → ZIP3 (US only: elsewhere the
 * postal code is dropped, its granularity is unknown). Lines, city, district, text, period and
 * extensions (Synthea's geolocation) are removed.
 */
export function generalizeAddress(a: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (typeof a.use === 'string') out.use = a.use;
  if (typeof a.type === 'string') out.type = a.type;
  if (typeof a.state === 'string') out.state = a.state;
  if (typeof a.country === 'string') out.country = a.country;
  if (typeof a.postalCode === 'string' && (a.country === undefined || US.has(a.country as string))) {
    const z = zip3(a.postalCode);
    if (z) out.postalCode = z;
  }
  return Object.keys(out).length ? out : undefined;
}
