// R4 value set expansions for the token :in / :not-in modifiers (search.html#token), precomputed from the
// definitions by scripts/gen-search-params.mjs; value sets needing an external terminology are absent.
import { loadCapabilityJson, once } from './load-json.js';

const expansions = once(() => loadCapabilityJson<Record<string, Array<[string, string]>>>('search-parameters/valuesets-r4.json'));

/** The [system, code] pairs of a value set (canonical URL, `|version` ignored), or undefined when unknown. */
export function expandValueSet(url: string): Array<[string, string]> | undefined {
  const bar = url.indexOf('|');
  return expansions()[bar >= 0 ? url.slice(0, bar) : url];
}
