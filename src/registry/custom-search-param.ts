// Which stored SearchParameter resources a tenant can use as custom search parameters (R4
// searchparameter.html; search.html#composite), and why not. The write path refuses what $reindex could
// not activate (store/search-params-custom.ts), and $reindex activates only what passes here, so no stored,
// current SearchParameter is silently ignored, shadowed, or left to fail every write of its base type.
// SearchParameter.code is "the code used in the URL" (R4 searchparameter-definitions.html): one code must
// name one parameter per resource type, built-in or custom, or [type]?[code]= would be ambiguous.
import type { Issue } from '../errors.js';
import { builtInDefinition, expressionFor, getSearchParam, isResourceType, typesOf, type SearchParamDefinition, type SearchParamType } from './search-params.js';
import { fhirpathProblem } from './fhirpath-check.js';

type Json = Record<string, unknown>;

export type Verdict =
  /** Kept as a record, never activated: retired, or the server's own built-in definition. */
  | { kind: 'inert'; reason: string }
  | { kind: 'usable'; def: SearchParamDefinition }
  | { kind: 'refused'; issues: Issue[] };

const TYPES = new Set(['number', 'date', 'string', 'token', 'reference', 'composite', 'quantity', 'uri', 'special']);
const CODE_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** How a definition is named in messages: `SearchParameter/id (url)`. */
export const labelOf = (sp: Json): string =>
  `SearchParameter/${typeof sp.id === 'string' ? sp.id : '(new)'}${typeof sp.url === 'string' ? ` (${sp.url.slice(0, 200)})` : ''}`;

const issue = (code: string, diagnostics: string, at: string): Issue => ({ severity: 'error', code, diagnostics, expression: [`SearchParameter.${at}`] });
const listed = (types: string[]): string => (types.length > 4 ? `${types.slice(0, 4).join(', ')} and ${types.length - 4} more` : types.join(', '));

/**
 * The verdict on one SearchParameter resource. `resolve` finds a component's definition by url (built-in
 * ones by default; callers add the tenant's usable custom ones).
 */
export function judgeSearchParameter(sp: Json, resolve: (url: string) => SearchParamDefinition | undefined = builtInDefinition): Verdict {
  if (sp.status === 'retired') return { kind: 'inert', reason: `${labelOf(sp)}: retired` };
  const url = typeof sp.url === 'string' ? sp.url : undefined;
  const code = sp.code;
  const issues: Issue[] = [];
  const builtIn = url ? builtInDefinition(url) : undefined;
  if (builtIn) {
    // A copy of the spec's (or US Core's) own definition: already searchable, nothing to activate. A
    // different code under its url would look like a new parameter that never works.
    if (code === builtIn.code) return { kind: 'inert', reason: `${labelOf(sp)}: a built-in parameter` };
    return { kind: 'refused', issues: [issue('invalid', `url ${url} is the built-in parameter '${builtIn.code}' (${builtIn.base.join(', ')}); a copy of it must keep code '${builtIn.code}', a new parameter needs its own url`, 'code')] };
  }
  if (!url) issues.push(issue('required', 'a SearchParameter needs a url (1..1)', 'url'));
  if (typeof code !== 'string' || !CODE_RE.test(code)) {
    issues.push(issue('invalid', 'code must be a plain name (a letter, then up to 63 letters, digits, - or _): it is the name used in the URL', 'code'));
  }
  const type = sp.type;
  if (typeof type !== 'string' || !TYPES.has(type)) issues.push(issue('invalid', 'type must be a search-param-type code', 'type'));
  else if (type === 'special') {
    // search-param-type "special: Special logic applies to this parameter per the description": none here.
    issues.push(issue('not-supported', "type 'special' needs logic of its own, which this server cannot supply for a custom parameter", 'type'));
  }
  const base = Array.isArray(sp.base) ? (sp.base as unknown[]).filter((b): b is string => typeof b === 'string') : [];
  const badBase = base.filter((b) => !isResourceType(b) && b !== 'Resource' && b !== 'DomainResource');
  if (base.length === 0) issues.push(issue('required', 'base must list at least one resource type', 'base'));
  else if (badBase.length) issues.push(issue('invalid', `base ${badBase.map((b) => `'${b.slice(0, 64)}'`).join(', ')} is not an R4 resource type`, 'base'));
  const types = badBase.length ? [] : typesOf({ base });
  const expression = typeof sp.expression === 'string' ? sp.expression.trim() : '';
  if (!expression) {
    issues.push(issue('required', 'expression is required: this server indexes a parameter by its FHIRPath expression (it does not evaluate xpath)', 'expression'));
  } else {
    issues.push(...expressionIssues(expression, base, types));
  }
  if (type === 'composite') issues.push(...componentIssues(sp.component, types, resolve));
  if (typeof code === 'string' && CODE_RE.test(code)) {
    const shadowed = types.filter((t) => getSearchParam(t, code) !== undefined); // no tenant: built-in only
    if (shadowed.length) {
      issues.push(issue('duplicate', `code '${code}' is already a built-in search parameter of ${listed(shadowed)}; a second definition would make ${shadowed[0]}?${code}= ambiguous`, 'code'));
    }
  }
  if (issues.length) return { kind: 'refused', issues };
  const def: SearchParamDefinition = { url: url!, code: code as string, type: type as SearchParamType, base, expression };
  if (Array.isArray(sp.target)) def.target = (sp.target as unknown[]).filter((t): t is string => typeof t === 'string');
  if (type === 'composite') {
    def.component = (sp.component as Json[]).map((c) => ({ definition: c.definition as string, expression: c.expression as string }));
  }
  if (typeof sp.description === 'string') def.description = sp.description.slice(0, 400);
  return { kind: 'usable', def };
}

/** The expression must give each listed base type something to index, and compile and evaluate on it. */
function expressionIssues(expression: string, base: string[], types: string[]): Issue[] {
  const out: Issue[] = [];
  const missed = base.filter((b) => isResourceType(b) && expressionFor(b, expression) === '');
  if (missed.length) out.push(issue('invalid', `expression does not navigate from ${missed.join(', ')} (each part starts at another resource type)`, 'expression'));
  const seen = new Set<string>();
  for (const t of types) {
    const own = expressionFor(t, expression);
    if (!own || seen.has(own)) continue;
    seen.add(own);
    const problem = fhirpathProblem(own, t);
    if (problem) {
      out.push(issue('invalid', `expression ${problem}`, 'expression'));
      break;
    }
  }
  return out;
}

/** search.html#composite: a composite names its parts, each another (non-composite) parameter plus a relative expression. */
function componentIssues(component: unknown, types: string[], resolve: (url: string) => SearchParamDefinition | undefined): Issue[] {
  if (!Array.isArray(component) || component.length === 0) {
    return [issue('required', 'a composite parameter needs component entries (definition and expression of each part)', 'component')];
  }
  const out: Issue[] = [];
  component.forEach((c: Json, i) => {
    const at = `component[${i}]`;
    if (typeof c?.definition !== 'string' || typeof c?.expression !== 'string' || !c.expression.trim()) {
      out.push(issue('required', `${at} needs a definition and an expression`, at));
      return;
    }
    const part = resolve(c.definition);
    if (!part) out.push(issue('not-found', `${at}.definition ${c.definition.slice(0, 200)} is neither a built-in parameter nor a current custom one of this server`, `${at}.definition`));
    else if (part.type === 'composite') out.push(issue('invalid', `${at}.definition names a composite parameter; parts must be simple ones`, `${at}.definition`));
    const rooted = /^%resource\.(.+)$/.exec(c.expression.trim());
    const problem = types.length === 0 ? undefined
      : rooted ? fhirpathProblem(`${types[0]}.${rooted[1]}`, types[0]) : fhirpathProblem(c.expression, types[0], { elements: false });
    if (problem) out.push(issue('invalid', `${at}.expression ${problem}`, `${at}.expression`));
  });
  return out;
}

/** Why two usable definitions cannot both be active (same url, or same code on a shared type), or undefined. */
export function conflictBetween(a: SearchParamDefinition, b: SearchParamDefinition, bLabel: string): string | undefined {
  if (a.url === b.url) return `url ${a.url.slice(0, 200)} is also the url of ${bLabel}, which is not retired; retire one`;
  if (a.code !== b.code) return undefined;
  const theirs = new Set(typesOf(b));
  const shared = typesOf(a).filter((t) => theirs.has(t));
  if (shared.length === 0) return undefined;
  return `code '${a.code}' is also the code of ${bLabel} for ${listed(shared)}, which is not retired; ${shared[0]}?${a.code}= would be ambiguous. Retire one (status retired) or choose another code`;
}

/**
 * The definitions $reindex activates from the tenant's current SearchParameter resources, and why each
 * other one is not. Conflicting definitions (stored before these rules, or by a path that does not check
 * them, such as a bulk import) are all set aside rather than one picked: which one a search would use
 * must not depend on the order of urls.
 */
export function selectActive(stored: Json[]): { defs: SearchParamDefinition[]; skipped: string[] } {
  const skipped: string[] = [];
  // Components may name other custom parameters: resolved against every current custom one first, then
  // dropped below if the one they name is not activated.
  const candidates = new Map<string, SearchParamDefinition>();
  for (const sp of stored) {
    if (sp.status !== 'retired' && typeof sp.url === 'string' && typeof sp.code === 'string' && typeof sp.type === 'string' && !builtInDefinition(sp.url)) {
      candidates.set(sp.url, { url: sp.url, code: sp.code, type: sp.type as SearchParamType, base: [] });
    }
  }
  let usable: Array<{ def: SearchParamDefinition; label: string }> = [];
  for (const sp of stored) {
    const v = judgeSearchParameter(sp, (u) => builtInDefinition(u) ?? candidates.get(u));
    if (v.kind === 'usable') usable.push({ def: v.def, label: labelOf(sp) });
    else if (v.kind === 'inert') skipped.push(v.reason);
    else skipped.push(`${labelOf(sp)}: ${v.issues.map((i) => i.diagnostics).join('; ')}`);
  }
  const conflicted = new Set<number>();
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const why = conflictBetween(usable[i].def, usable[j].def, usable[j].label);
      if (why) {
        conflicted.add(i).add(j);
        skipped.push(`${usable[i].label}: ${why}`, `${usable[j].label}: conflicts with ${usable[i].label}`);
      }
    }
  }
  usable = usable.filter((_, i) => !conflicted.has(i));
  for (let changed = true; changed;) {
    changed = false;
    const active = new Set(usable.map((u) => u.def.url));
    usable = usable.filter((u) => {
      const missing = u.def.component?.find((c) => !builtInDefinition(c.definition) && !active.has(c.definition));
      if (!missing) return true;
      skipped.push(`${u.label}: component ${missing.definition} is not an active parameter`);
      changed = true;
      return false;
    });
  }
  return { defs: usable.map((u) => u.def), skipped };
}
