// Validates a resource against the R4 core definitions before it is written or when `$validate` asks:
// JSON shape and formats (schema.ts), cardinality, choices and required bindings (structure.ts), and
// the rules for nested resources (resource.html#contained: dom-2, dom-4, dom-5 here, dom-3 in
// contained-references.ts). Only R4 core resource types exist here; anything else is refused as unknown.
// Status (http.html "create"/"update"): 400 "resource could not be parsed or failed basic FHIR
// validation rules" (not an object, unknown type, unknown element, wrong JSON type, malformed
// primitive); 422 "the proposed resource violated applicable FHIR profiles or server business rules"
// (missing required element, code outside a required value set, invariants) when nothing is malformed.
import { FhirError, type Issue } from '../../errors.js';
import { isResourceType, RESOURCE_TYPES } from '../../registry/resource-types.js';
import { schemaIssues } from './schema.js';
import { structureIssues } from './structure.js';
import { controlCharIssues } from './control-chars.js';
import { unreferencedContained } from './contained-references.js';
import { MAX_DEPTH as MAX_NESTING, depthExceeds } from './body-shape.js';

export interface ValidateOptions {
  /**
   * `create`: an id in the body is ignored by the server (http.html#create: "If an id is provided, the
   * server SHALL ignore it"), so its format is not held against the resource. `update`: the id is
   * required. Absent: general validation ($validate without mode).
   */
  mode?: 'create' | 'update';
}

/** Keeps an OperationOutcome readable and bounded whatever the input. */
const MAX_ISSUES = 100;
/** Nested resources (Bundle in Bundle, contained, Parameters) deeper than this are refused. */
const MAX_DEPTH = 8;
/** Issue codes meaning the content is malformed rather than in breach of a rule: HTTP 400. */
const MALFORMED = new Set(['structure', 'value', 'invalid', 'not-supported', 'too-costly', 'too-long']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const error = (code: string, diagnostics: string, expression?: string): Issue =>
  ({ severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) });

function validateInto(resource: unknown, at: string, issues: Issue[], depth: number, contained: boolean, opts: ValidateOptions): void {
  if (issues.length >= MAX_ISSUES) return;
  if (!isObject(resource)) {
    issues.push(error('structure', `${at || 'The body'} must be a JSON object holding a FHIR resource`, at || undefined));
    return;
  }
  const type = resource.resourceType;
  if (typeof type !== 'string') {
    issues.push(error('structure', `${at || 'The resource'} has no resourceType`, at ? `${at}.resourceType` : 'resourceType'));
    return;
  }
  if (!isResourceType(type)) {
    // Vendor types (Medplum's Project, Bot, …) and abstract ones (Resource, DomainResource) land here.
    issues.push(error('not-supported', `Unknown resource type '${type.slice(0, 64)}': not an R4 core resource type`, at ? `${at}.resourceType` : 'resourceType'));
    return;
  }
  if (depth > MAX_DEPTH) {
    issues.push(error('too-costly', `${at} nests resources more than ${MAX_DEPTH} levels deep`, at));
    return;
  }
  const base = at || type;
  let found = schemaIssues(type, resource, base);
  if (!at && opts.mode === 'create') found = found.filter((i) => i.expression?.[0] !== `${type}.id`);
  issues.push(...found);
  if (!at && opts.mode === 'update' && resource.id === undefined) {
    issues.push(error('invalid', `${type}.id is required for an update (http.html#update)`, `${type}.id`));
  }
  if (contained) containedRules(resource, base, issues);
  // dom-3, for the container's contained resources (a contained one holding more is refused by dom-2).
  else if (resource.contained !== undefined) issues.push(...unreferencedContained(resource, type, base));
  issues.push(...structureIssues(resource, type, base, (nested, where, isContained) =>
    validateInto(nested, where, issues, depth + 1, isContained, opts)));
}

/** resource.html#contained: dom-2 no nested contained; dom-4 no versionId/lastUpdated; dom-5 no security label. */
function containedRules(resource: Record<string, unknown>, at: string, issues: Issue[]): void {
  if (resource.contained !== undefined) {
    issues.push(error('invariant', `${at} is contained and SHALL NOT contain other resources (dom-2)`, `${at}.contained`));
  }
  const meta = resource.meta;
  if (isObject(meta) && (meta.versionId !== undefined || meta.lastUpdated !== undefined)) {
    issues.push(error('invariant', `${at} is contained and SHALL NOT have meta.versionId or meta.lastUpdated (dom-4)`, `${at}.meta`));
  }
  // dom-5 (DomainResource): "If a resource is contained in another resource, it SHALL NOT have a security
  // label": labels apply to the whole container (security-labels.html), not to a part of it.
  if (isObject(meta) && meta.security !== undefined) {
    issues.push(error('invariant', `${at} is contained and SHALL NOT have a security label (dom-5)`, `${at}.meta.security`));
  }
}

/**
 * Every problem of `resource` as an OperationOutcome issue, with an expression such as
 * `Patient.name[0].given`. Empty when the resource is valid.
 */
export function validateResource(resource: unknown, opts: ValidateOptions = {}): Issue[] {
  // Shape first (body-shape.ts): the walks below recurse, and PostgreSQL refuses unpaired surrogates.
  if (depthExceeds(resource)) return [error('structure', `the resource is nested more than ${MAX_NESTING} levels deep`, isObject(resource) ? String(resource.resourceType ?? '') : '')];
  const issues: Issue[] = [];
  validateInto(resource, '', issues, 0, false, opts);
  if (isObject(resource) && typeof resource.resourceType === 'string') issues.push(...controlCharIssues(resource, resource.resourceType));
  if (issues.length > MAX_ISSUES) {
    issues.length = MAX_ISSUES;
    issues.push({ severity: 'information', code: 'too-costly', diagnostics: `Only the first ${MAX_ISSUES} issues are reported` });
  }
  return issues;
}

/** The HTTP status for a set of issues: 400 when anything is malformed, else 422. */
export function statusFor(issues: readonly Issue[]): 400 | 422 {
  return issues.some((i) => MALFORMED.has(i.code)) ? 400 : 422;
}

/** Throws a 400/422 FhirError carrying one issue per problem unless `resource` is a valid R4 resource. */
export function assertValid(resource: unknown, opts: ValidateOptions = {}): void {
  const issues = validateResource(resource, opts);
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length === 0) return;
  const status = statusFor(errors);
  const summary = errors.length === 1 ? errors[0].diagnostics ?? 'Invalid resource' : `Invalid resource: ${errors.length} problems`;
  throw new FhirError(status, errors[0].code, summary, { issues });
}

/**
 * Compiles the validators of `types` ahead of their first use. Validators compile lazily: the first one
 * costs ~0.25 s (the shared data types), each further type ~15 ms, all 146 about 1.3 s. Call it after
 * the server listens (or before a bulk import) so no request pays for it.
 */
export function warmUp(types: readonly string[] = RESOURCE_TYPES): void {
  for (const type of types) validateResource({ resourceType: type });
}
