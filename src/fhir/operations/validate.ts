// POST [base]/[type]/$validate and POST [base]/[type]/[id]/$validate (R4 resource-operation-validate.html,
// OperationDefinition Resource-validate). In: `resource` (0..1, "must be present unless the mode is
// delete"), `mode` (create | update | delete | profile; "update and delete can only be used when the
// operation is invoked at the resource instance level"), `profile` (0..1; "if the server cannot
// validate against the nominated profile, it SHALL return an error"). The body is the resource itself
// or a Parameters carrying them; mode and profile may also come in the URL. Out: 200 with an
// OperationOutcome whose errors are the validation findings; "All OK" when there are none ("This
// operation returns a 200 OK whether or not the resource is valid. A 4xx or 5xx error means that the
// validation itself could not be performed"). A request the operation cannot perform at all (no
// resource, a mode not allowed at this level, an unknown profile, profile mode on an unknown instance)
// is refused with 4xx.
import { badRequest, FhirError, type Issue } from '../../errors.js';
import { outcome } from '../outcome.js';
import { validateResource } from '../validation/validate.js';
import { readLive } from '../resource-write.js';
import { readCurrent } from '../../store/resources.js';
import { searchParameterIssues } from '../../store/search-params-custom.js';
import type { Tx } from '../../store/session.js';
import type { Services } from '../services.js';
import type { FhirRequest, FhirResponse } from '../types.js';

const MODES = new Set(['create', 'update', 'delete', 'profile']);
type Mode = 'create' | 'update' | 'delete' | 'profile';

interface Input {
  resource?: unknown;
  mode?: Mode;
  profile?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function queryParam(req: FhirRequest, name: string): string | undefined {
  return req.params.find(([k]) => k === name)?.[1];
}

/** The operation's inputs, from a Parameters body (when it carries them) or a bare resource plus URL. */
export function readInput(req: FhirRequest, type: string): Input {
  const body = req.body;
  const input: { resource?: unknown; mode?: unknown; profile?: unknown } = {};
  const wrapped = isObject(body) && body.resourceType === 'Parameters' && Array.isArray(body.parameter) &&
    (type !== 'Parameters' || body.parameter.some((p) => isObject(p) && p.name === 'resource' && p.resource !== undefined));
  if (wrapped) {
    for (const p of (body as { parameter: unknown[] }).parameter) {
      if (!isObject(p)) continue;
      if (p.name === 'resource') input.resource = p.resource;
      else if (p.name === 'mode') input.mode = p.valueCode ?? p.valueString;
      else if (p.name === 'profile') input.profile = p.valueCanonical ?? p.valueUri ?? p.valueString;
    }
  } else {
    input.resource = body;
  }
  input.mode ??= queryParam(req, 'mode');
  input.profile ??= queryParam(req, 'profile');
  if (input.mode !== undefined && (typeof input.mode !== 'string' || !MODES.has(input.mode))) {
    throw badRequest(`mode must be one of create, update, delete, profile (resource-validation-mode), not '${String(input.mode).slice(0, 40)}'`);
  }
  if (input.profile !== undefined && typeof input.profile !== 'string') throw badRequest('profile must be a canonical URL (a string)');
  return input as Input;
}

function allOk(issues: Issue[]): FhirResponse {
  const errors = issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  const all = errors ? issues : [...issues, { severity: 'information' as const, code: 'informational', diagnostics: 'All OK' }];
  return { status: 200, body: outcome(all) };
}

/** The profile parameter names the base R4 profile of the type, or the operation cannot be performed. */
function assertProfile(input: Input, type: string): void {
  const base = `http://hl7.org/fhir/StructureDefinition/${type}`;
  if (input.profile !== undefined && input.profile.split('|')[0] !== base) {
    throw new FhirError(400, 'not-supported', `only the base R4 profile ${base} can be validated against, not '${input.profile.slice(0, 200)}'`);
  }
}

/** The content findings for one request; `id` is the instance of the URL, if any. */
export function findings(input: Input, type: string, id: string | undefined): Issue[] {
  if (input.resource === undefined) throw badRequest('$validate needs a resource (the body, or the Parameters parameter "resource")');
  const issues = validateResource(input.resource, { mode: input.mode === 'create' || input.mode === 'update' ? input.mode : undefined });
  const resource = input.resource as Record<string, unknown>;
  if (isObject(resource) && typeof resource.resourceType === 'string' && resource.resourceType !== type) {
    issues.push({ severity: 'error', code: 'invalid', diagnostics: `resourceType '${resource.resourceType.slice(0, 64)}' does not match the URL's '${type}'`, expression: ['resourceType'] });
  }
  if (id !== undefined && input.mode === 'update' && isObject(resource) && resource.id !== undefined && resource.id !== id) {
    issues.push({ severity: 'error', code: 'invalid', diagnostics: `${type}.id does not match the URL's id '${id}'`, expression: [`${type}.id`] });
  }
  return issues;
}

/**
 * A SearchParameter the write path would refuse (store/search-params-custom.ts). resource-validation-mode
 * "create: ... checks that the content would be acceptable as a create (e.g. that the content would not
 * violate any uniqueness constraints)": the tenant's other SearchParameters are consulted for create and
 * update; general validation checks the content alone.
 */
async function searchParameterFindings(tx: Tx, input: Input, id: string | undefined): Promise<Issue[]> {
  const sp = input.resource as Record<string, unknown>;
  if (input.mode === 'create') return searchParameterIssues(tx, { ...sp, id: undefined }); // the server assigns the id
  if (input.mode === 'update') return searchParameterIssues(tx, { ...sp, id });
  return searchParameterIssues(tx, sp, { conflicts: false });
}

/**
 * mode delete, resource-validation-mode: "The server ignores the content, and checks that the nominated
 * resource is allowed to be deleted (e.g. checking referential integrity rules)". This server enforces
 * none, so the only question is whether the delete would succeed; for an unknown or already deleted id it
 * would: http.html#delete, "Upon successful deletion, or if the resource does not exist at all, the server
 * should return either a 200 OK ... or a 204 No Content" (interactions/write.ts does). The answer is then
 * the same as for an existing resource, no error, with a warning that the delete would change nothing.
 */
async function deleteFindings(tx: Tx, type: string, id: string): Promise<Issue[]> {
  const cur = await readCurrent(tx, type, id);
  if (cur && !cur.deleted) return [];
  return [{ severity: 'warning', code: 'not-found', diagnostics: `${type}/${id} ${cur ? 'is already deleted' : 'is not known'}: a delete would succeed and change nothing (http.html#delete)` }];
}

/** Both levels; the level comes from the URL. */
export async function validateInTx(req: FhirRequest, tx: Tx, _svc: Services): Promise<FhirResponse> {
  const type = req.segments[0];
  const id = req.segments.length === 3 ? req.segments[1] : undefined;
  const input = readInput(req, type);
  assertProfile(input, type);
  if (id === undefined && (input.mode === 'update' || input.mode === 'delete' || input.mode === 'profile')) {
    throw badRequest(`mode '${input.mode}' is only allowed at the instance level: POST ${type}/[id]/$validate`);
  }
  if (input.mode === 'delete') return allOk(await deleteFindings(tx, type, id!));
  if (input.mode === 'profile') {
    // resource-validation-mode "profile: The server checks an existing resource (must be nominated by id,
    // not provided as a parameter) as valid against the nominated profile".
    if (input.resource !== undefined) throw badRequest("mode 'profile' validates the stored resource nominated by the URL; send no resource");
    const stored = await readLive(tx, type, id!);
    return allOk(findings({ resource: JSON.parse(stored.content) }, type, id));
  }
  const issues = findings(input, type, id);
  if (type === 'SearchParameter' && isObject(input.resource) && input.resource.resourceType === 'SearchParameter') {
    issues.push(...await searchParameterFindings(tx, input, id));
  }
  return allOk(issues);
}
