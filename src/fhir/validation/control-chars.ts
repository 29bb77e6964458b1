// R4 datatypes.html#string: "Strings SHALL NOT contain Unicode character points below 32, except for
// u0009 (horizontal tab), u0010 (carriage return) and u0013 (line feed)". The JSON schema's string
// pattern lets them through, and PostgreSQL cannot store U+0000 at all, so every path that writes
// (REST, transactions, `fhirgate import`) refuses them here, with the element's path.
import type { Issue } from '../../errors.js';
import { LONE_SURROGATE } from './body-shape.js';

/** The characters refused: below U+0020 except tab, LF and CR. */
export const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** A refused control character or an unpaired UTF-16 surrogate (body-shape.ts): one test per string. */
const REFUSED = new RegExp(`${CONTROL.source}|${LONE_SURROGATE.source}`);

const what = (s: string): string => (CONTROL.test(s)
  ? 'a control character, which FHIR strings may not contain (only tab, CR and LF)'
  : 'an unpaired UTF-16 surrogate, which is not a Unicode character');

/** Up to `max` issues, one per string (key or value) holding a refused control character or an unpaired surrogate. */
export function controlCharIssues(value: unknown, path: string, max = 10): Issue[] {
  const out: Issue[] = [];
  const walk = (v: unknown, at: string): void => {
    if (out.length >= max) return;
    if (typeof v === 'string') {
      if (REFUSED.test(v)) out.push({ severity: 'error', code: 'value', diagnostics: `${at} holds ${what(v)}`, expression: [at] });
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], `${at}[${i}]`);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (REFUSED.test(k)) out.push({ severity: 'error', code: 'structure', diagnostics: `${at} has a property name holding ${what(k)}`, expression: [at] });
        else walk(x, `${at}.${k}`);
      }
    }
  };
  walk(value, path);
  return out;
}
