// Canonical URL searches with a version (R4 search.html#uri): "for uri parameters that refer to the Canonical
// URLs of the conformance and knowledge resources … servers SHOULD support searching by canonical references,
// and SHOULD support automatically detecting a |[version] portion as part of the search parameter, and
// interpreting that portion as a search on the version". `ValueSet?url=http://x/vs|1.0` becomes
// `url=http://x/vs` and `version=1.0` on the same resource; it used to look for a URL spelt with the '|' and
// found nothing. A canonical URL never holds a '|' of its own (references.html#canonical), so one in the value
// is always the version separator.
import type { Expr, ParamSet } from './model.js';
import { splitEscaped } from './escape.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

/** `[url]|[version]` as its two parts (still escaped), or undefined for a value without a version. */
function versioned(value: string): [string, string] | undefined {
  const p = splitEscaped(value, '|');
  return p.length === 2 && p[0] !== '' && p[1] !== '' ? [p[0], p[1]] : undefined;
}

/**
 * `e` with every `[url]|[version]` value split into url and version; `versionOf` gives the types' `version`
 * parameter (undefined when they have none in common: the value is then matched as written).
 */
export function withCanonicalVersion(e: ValueExpr, versionOf: () => ParamSet | undefined): Expr {
  if (e.ps.type !== 'uri' || e.ps.code !== 'url' || e.modifier !== undefined) return e;
  const split = e.values.map(versioned);
  if (split.every((p) => p === undefined)) return e;
  const version = versionOf();
  if (!version || version.type !== 'token') return e;
  const plain = e.values.filter((_, i) => split[i] === undefined);
  const items: Expr[] = plain.length ? [{ ...e, values: plain }] : [];
  for (const p of split) {
    if (p) items.push({ k: 'and', items: [{ ...e, values: [p[0]] }, { k: 'value', name: e.name, ps: version, values: [p[1]] }] });
  }
  return items.length === 1 ? items[0] : { k: 'or', items };
}
