// The search parameter registry: the R4 base SearchParameters (FHIR 4.0.1 definitions) and US Core 6.1's
// additions, kept as data in capability/search-parameters/, bound per resource type; plus custom
// SearchParameter resources a tenant activated with $reindex (R4 searchparameter.html, "base" and "expression").
import { loadCapabilityJson, once } from './load-json.js';

export type SearchParamType = 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';

/** A SearchParameter definition as stored in capability/ (or trimmed from a custom SearchParameter resource). */
export interface SearchParamDefinition {
  url: string;
  code: string;
  type: SearchParamType;
  base: string[];
  expression?: string;
  target?: string[];
  component?: Array<{ definition: string; expression: string }>;
  description?: string;
}

/** A parameter bound to one resource type: what the compiler and the extractor work from. */
export interface SearchParam {
  resourceType: string;
  code: string;
  type: SearchParamType;
  url: string;
  description?: string;
  /** The parts of the definition's expression that apply to this resource type ('' when none). */
  expression: string;
  /** Reference targets (type reference); ['Resource'] style wildcards are expanded by callers. */
  targets: string[];
  components?: Array<{ type: SearchParamType; code: string; expression: string }>;
  /** `${resourceType}.${code}`: the identity hashed into index rows. */
  key: string;
  custom?: boolean;
}

const NOT_DOMAIN = new Set(['Bundle', 'Binary', 'Parameters']);

const definitions = once(() => [
  ...loadCapabilityJson<SearchParamDefinition[]>('search-parameters/r4-base.json'),
  ...loadCapabilityJson<SearchParamDefinition[]>('search-parameters/us-core-6.1.json'),
]);

/** R4 resource types (those with a StructureDefinition in the base spec). */
export const resourceTypes = once(() => loadCapabilityJson<string[]>('search-parameters/resource-types.json'));
const typeSet = once(() => new Set(resourceTypes()));
export const isResourceType = (t: string): boolean => typeSet().has(t);

/**
 * Splits a FHIRPath expression at each top-level `sep` (outside parentheses and quoted strings), trimming
 * the parts: `|` for the union's parts, `.` for the steps of a path.
 */
export function splitTopLevel(expression: string, sep: '|' | '.'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'" && expression[i - 1] !== '\\') quote = !quote;
    else if (quote) continue;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === sep && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts;
}

/** Splits an expression at top-level `|` (outside parentheses and quotes). */
export function splitUnion(expression: string): string[] {
  return splitTopLevel(expression, '|').filter((p) => p.length > 0);
}

/** The root type an expression part starts from (`(Observation.value.ofType(X))` → Observation), if any. */
function rootOf(part: string): string | undefined {
  const m = /^\(*([A-Z][A-Za-z]*)(\.|\)|$)/.exec(part);
  return m ? m[1] : undefined;
}

/** Keeps the union parts of a shared expression (e.g. clinical-code) that navigate from `resourceType`. */
export function expressionFor(resourceType: string, expression: string | undefined): string {
  if (!expression) return '';
  return splitUnion(expression)
    .filter((part) => {
      const root = rootOf(part);
      return root === undefined || root === resourceType || root === 'Resource' || root === 'DomainResource' || !isResourceType(root);
    })
    .join(' | ');
}

function appliesTo(def: Pick<SearchParamDefinition, 'base'>, resourceType: string): boolean {
  return def.base.some((b) => b === resourceType || b === 'Resource' || (b === 'DomainResource' && !NOT_DOMAIN.has(resourceType)));
}

/** The concrete resource types a definition applies to (its `base`, with Resource and DomainResource expanded). */
export function typesOf(def: Pick<SearchParamDefinition, 'base'>): string[] {
  return resourceTypes().filter((t) => appliesTo(def, t));
}

export function bind(def: SearchParamDefinition, resourceType: string, byUrl: (url: string) => SearchParamDefinition | undefined, custom = false): SearchParam {
  const targets = (def.target ?? []).flatMap((t) => (t === 'Resource' || t === 'Any' ? resourceTypes() : [t]));
  const p: SearchParam = {
    resourceType,
    code: def.code,
    type: def.type,
    url: def.url,
    expression: expressionFor(resourceType, def.expression),
    targets: [...new Set(targets)],
    key: `${resourceType}.${def.code}`,
  };
  if (def.description) p.description = def.description;
  if (custom) p.custom = true;
  if (def.component) {
    p.components = def.component.map((c) => {
      const d = byUrl(c.definition);
      return { type: d?.type ?? 'token', code: d?.code ?? c.definition, expression: c.expression };
    });
  }
  return p;
}

const builtIn = once(() => {
  const defs = definitions();
  const byUrl = new Map(defs.map((d) => [d.url, d]));
  const index = new Map<string, Map<string, SearchParam>>();
  for (const type of resourceTypes()) {
    const m = new Map<string, SearchParam>();
    for (const def of defs) if (appliesTo(def, type)) m.set(def.code, bind(def, type, (u) => byUrl.get(u)));
    index.set(type, m);
  }
  return { index, byUrl };
});

export const builtInDefinition = (url: string): SearchParamDefinition | undefined => builtIn().byUrl.get(url);

// Custom parameters per tenant, installed by $reindex (or loaded from the database on first use).
const custom = new Map<string, Map<string, Map<string, SearchParam>>>();

/** Replaces a tenant's active custom parameters. Codes that collide with a built-in parameter are refused by the caller. */
export function setCustomParams(tenant: string, defs: SearchParamDefinition[]): void {
  const byType = new Map<string, Map<string, SearchParam>>();
  const byUrl = (u: string) => defs.find((d) => d.url === u) ?? builtInDefinition(u);
  for (const def of defs) {
    for (const type of resourceTypes()) {
      if (!appliesTo(def, type)) continue;
      let m = byType.get(type);
      if (!m) byType.set(type, (m = new Map()));
      m.set(def.code, bind(def, type, byUrl, true));
    }
  }
  custom.set(tenant, byType);
}

export const customParamsLoaded = (tenant: string): boolean => custom.has(tenant);

/** Custom parameters of a tenant for one type (empty when none, or not loaded yet). */
export function customParamsOf(tenant: string, resourceType: string): SearchParam[] {
  return [...(custom.get(tenant)?.get(resourceType)?.values() ?? [])];
}

export function getSearchParam(resourceType: string, code: string, tenant?: string): SearchParam | undefined {
  return builtIn().index.get(resourceType)?.get(code) ?? (tenant !== undefined ? custom.get(tenant)?.get(resourceType)?.get(code) : undefined);
}

/** Every built-in parameter that applies to a resource type (Resource and DomainResource ones included). */
export function searchParamsOf(resourceType: string): SearchParam[] {
  return [...(builtIn().index.get(resourceType)?.values() ?? [])];
}

/** For the CapabilityStatement: the parameters a type supports, as its rest.resource.searchParam entries. */
export function listSearchParams(resourceType: string): Array<{ name: string; type: string; url?: string; documentation?: string }> {
  return searchParamsOf(resourceType).map((p) => ({
    name: p.code,
    type: p.type,
    url: p.url,
    ...(p.description ? { documentation: p.description } : {}),
  }));
}
