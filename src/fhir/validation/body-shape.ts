// Two properties of a JSON document that no FHIR resource can lack, checked wherever one enters (the REST
// request parser, `fhirgate import` through the validator) before any recursive walk meets it:
// - nesting at most MAX_DEPTH objects and arrays deep: at ~2,000 levels the validator, the reference walks
//   and the de-identified copy overflowed the stack (a 500), and import stored what no update could read;
// - no unpaired UTF-16 surrogate (an escaped "\ud800" alone): not a Unicode character, so no FHIR string
//   holds one (datatypes.html#string), and PostgreSQL's json refuses it (22P05).

/** Far beyond any FHIR resource (a Questionnaire nested 50 items deep is about 100 levels), far below the stack's limit. */
export const MAX_DEPTH = 256;

/** True when `v` nests objects and arrays more than `left` levels deep; never recurses past `left`. */
export function depthExceeds(v: unknown, left = MAX_DEPTH): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (left === 0) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null && typeof x === 'object' && depthExceeds(x, left - 1)) return true;
    return false;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === 'object' && depthExceeds(x, left - 1)) return true;
  }
  return false;
}

export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
