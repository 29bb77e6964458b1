// token parameters (R4 search.html#token): [code], [system]|[code], |[code], [system]|; modifiers :not,
// :text (string match on display/text), :of-type (Identifier type|value), :in / :not-in (R4 value sets);
// :above / :below (subsumption) are refused with a 400 (no code system hierarchies here).
// Matching is exact and case-sensitive on the hashed value forms of src/search/keys.ts; a `code` element takes
// its system from its binding (implicit-system.ts).
import { sql } from '../sql.js';
import type { Expr } from '../model.js';
import { paramError } from '../model.js';
import { FhirError } from '../../errors.js';
import { splitEscaped, unescape } from '../escape.js';
import { keyText } from '../hash.js';
import { tokenCode, tokenSystemCode, tokenSystem, tokenOfType, derived } from '../keys.js';
import { expandValueSet } from '../../registry/valuesets.js';
import { inKeys, paramKeys, type IndexCond } from './common.js';
import { stringCondition } from './string.js';
import { implicitKeys } from './implicit-system.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

/** The hashed keys one token search value stands for, on one parameter identity. */
export function tokenKeys(param: string, value: string, name: string): string[] {
  const parts = splitEscaped(value, '|');
  if (parts.length > 2) throw paramError(name, `a token is [system]|[code], not '${value.slice(0, 60)}'`);
  if (parts.length === 1) {
    if (parts[0] === '') throw paramError(name, 'a token value is empty');
    return [keyText(tokenCode(param, unescape(parts[0])))];
  }
  const [system, code] = parts.map(unescape);
  if (code === '') {
    if (system === '') throw paramError(name, "'|' alone is not a token");
    return [keyText(tokenSystem(param, system))];
  }
  return [keyText(tokenSystemCode(param, system, code))];
}

function ofTypeKeys(param: string, value: string, name: string): string[] {
  const parts = splitEscaped(value, '|').map(unescape);
  if (parts.length !== 3 || parts[1] === '' || parts[2] === '') throw paramError(name, ':of-type needs [type system]|[type code]|[value]');
  return [keyText(tokenOfType(param, parts[0], parts[1], parts[2]))];
}

function valueSetKeys(param: string, url: string, name: string): string[] {
  const codes = expandValueSet(unescape(url));
  if (!codes) throw paramError(name, `the value set '${url.slice(0, 100)}' is not known to this server or cannot be expanded`);
  // A `code` element carries no system (its value set implies it): match system-less values by code too.
  return codes.flatMap(([system, code]) => [keyText(tokenSystemCode(param, system, code)), keyText(tokenSystemCode(param, '', code))]);
}

export function tokenCondition(e: ValueExpr, x: ReturnType<typeof sql>): IndexCond {
  const params = e.ps.params.map((p) => p.key);
  switch (e.modifier) {
    case undefined:
    case 'not': {
      // A code element's implicit system (implicit-system.ts): its system-less codes answer `[system]|[code]` too.
      const keys = e.ps.params.flatMap((p) => e.values.flatMap((v) => [...tokenKeys(p.key, v, e.name), ...implicitKeys(p, v)]));
      return { table: 'sp_token', where: sql`${inKeys(sql`${x}.h`, keys)}`, negate: e.modifier === 'not' };
    }
    case 'of-type': {
      const keys = params.flatMap((p) => e.values.flatMap((v) => ofTypeKeys(p, v, e.name)));
      return { table: 'sp_token', where: sql`${inKeys(sql`${x}.h`, keys)}` };
    }
    case 'in':
    case 'not-in': {
      const keys = params.flatMap((p) => e.values.flatMap((v) => valueSetKeys(p, v, e.name)));
      return { table: 'sp_token', where: sql`${inKeys(sql`${x}.h`, keys)}`, negate: e.modifier === 'not-in' };
    }
    case 'text':
      return { table: 'sp_string', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps, ':text'))} and ${stringCondition(e.values.map(unescape), 'starts', x, e.name)}` };
    case 'above':
    case 'below':
      // Subsumption (R4 search.html#token, codesystem.html#subsumption) needs the code system's hierarchy; the
      // registry holds only flat value set expansions. Matching the code alone would silently drop descendants.
      throw new FhirError(400, 'not-supported', `parameter ${e.name}: the modifier :${e.modifier} (subsumption) is not supported: `
        + 'this server has no code system hierarchies to test is-a relationships with', { expression: [e.name] });
    default:
      throw paramError(e.name, `the modifier :${e.modifier} is not supported on token parameters`);
  }
}

export { derived };
