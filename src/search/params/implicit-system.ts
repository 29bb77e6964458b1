// token searches with a system on a `code` element (R4 search.html#token, the table of data types: for `code` the
// URI is "(implicit)": "the system is defined in the value set"). A code element carries no system, so it is
// indexed as system-less (extract-rows.ts) and `Patient?gender=http://hl7.org/fhir/administrative-gender|female`
// found nothing. Here the system is taken from the element's required binding: when the bound value set holds
// the code in that system, the system-less code matches too ([system]| matches every code of the system so bound).
// Only paths of plain navigation (`Patient.gender`, `Observation.component.code`) are followed.
import type { SearchParam } from '../../registry/search-params.js';
import { splitUnion } from '../../registry/search-params.js';
import { elementsOf } from '../../registry/resource-types.js';
import { expandValueSet } from '../../registry/valuesets.js';
import { splitEscaped, unescape } from '../escape.js';
import { keyText } from '../hash.js';
import { tokenSystemCode } from '../keys.js';

/** Per parameter identity: the value sets its `code` elements are bound to (empty: none, or not plain paths). */
const bindingsByParam = new Map<string, string[]>();

/** The required binding of the `code` element a plain path `Type.a.b` ends at, if it ends at one. */
function codeBinding(part: string, resourceType: string): string | undefined {
  const steps = part.trim().split('.');
  if (steps[0] !== resourceType || steps.length < 2 || !steps.slice(1).every((s) => /^[a-z][A-Za-z0-9]*$/.test(s))) return undefined;
  let path = resourceType;
  for (let i = 1; i < steps.length; i++) {
    const el = elementsOf(path)?.find((e) => e.name === steps[i]);
    if (!el) return undefined;
    if (i === steps.length - 1) return el.types.length === 1 && el.types[0] === 'code' ? el.binding : undefined;
    path = el.ref ?? (el.types.length === 1 && (el.types[0] === 'BackboneElement' || el.types[0] === 'Element') ? `${path}.${steps[i]}` : el.types[0]);
    if (!path) return undefined;
  }
  return undefined;
}

function bindingsOf(sp: SearchParam): string[] {
  let b = bindingsByParam.get(sp.key);
  if (!b) {
    b = sp.type === 'token' && sp.expression ? [...new Set(splitUnion(sp.expression).map((p) => codeBinding(p, sp.resourceType)).filter((x): x is string => !!x))] : [];
    bindingsByParam.set(sp.key, b);
  }
  return b;
}

/**
 * The codes a system-less `code` element of `sp` holds when a search names `system` (and `code`, or '' for any
 * code of the system): those of the bound value sets in that system. Empty when `sp` has no such element.
 */
export function implicitCodes(sp: SearchParam, system: string, code: string): string[] {
  if (system === '') return [];
  const out = new Set<string>();
  for (const vs of bindingsOf(sp)) {
    for (const [s, c] of expandValueSet(vs) ?? []) if (s === system && (code === '' || c === code)) out.add(c);
  }
  return [...out];
}

/** Extra keys for a token search value `[system]|[code]` or `[system]|` on `sp`: its system-less codes (above). */
export function implicitKeys(sp: SearchParam, value: string): string[] {
  const parts = splitEscaped(value, '|');
  if (parts.length !== 2) return [];
  const [system, code] = parts.map(unescape);
  return implicitCodes(sp, system, code).map((c) => keyText(tokenSystemCode(sp.key, '', c)));
}
