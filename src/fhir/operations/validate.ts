// POST [base]/[type]/$validate and POST [base]/[type]/[id]/$validate (R4 resource-operation-validate.html,
// OperationDefinition Resource-validate). In: `resource` (0..1, "must be present unless the mode is
// delete"), `mode` (create | update | delete | profile; "update and delete can only be used when the
// operation is invoked at the resource instance level"), `profile` (0..1; "if the server cannot
// validate against the nominated profile, it SHALL return an error"). The body is the resource itself
// or a Parameters carrying them; mode and profile may also come in the URL. Out: 200 with an
// OperationOutcome whose errors are the validation findings; "All OK" when there are none. A request
// the operation cannot perform at all (no resource, a mode not allowed at this level, an unknown
// profile) is refused with 400.
import { badRequest, FhirError, type Issue } from '../../errors.js';
import { outcome } from '../outcome.js';
import { validateResource } from '../validation/validate.js';
import type { Handler } from '../services.js';
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
function readInput(req: FhirRequest, type: string): Input {
  const body = req.body;
  const input: Input = {};
  const wrapped = isObject(body) && body.resourceType === 'Parameters' && Array.isArray(body.parameter) &&
    (type !== 'Parameters' || body.parameter.some((p) => isObject(p) && p.name === 'resource' && p.resource !== undefined));
  if (wrapped) {
    for (const p of (body as { parameter: unknown[] }).parameter) {
      if (!isObject(p)) continue;
      if (p.name === 'resource') input.resource = p.resource;
      else if (p.name === 'mode') input.mode = (p.valueCode ?? p.valueString) as Mode;
      else if (p.name === 'profile') input.profile = (p.valueCanonical ?? p.valueUri ?? p.valueString) as string;
    }
  } else {
    input.resource = body;
  }
  input.mode ??= queryParam(req, 'mode') as Mode | undefined;
  input.profile ??= queryParam(req, 'profile');
  if (input.mode !== undefined && !MODES.has(input.mode)) {
    throw badRequest(`mode must be one of create, update, delete, profile (resource-validation-mode), not '${String(input.mode).slice(0, 40)}'`);
  }
  return input;
}

function allOk(issues: Issue[]): FhirResponse {
  const errors = issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  const all = errors ? issues : [...issues, { severity: 'information' as const, code: 'informational', diagnostics: 'All OK' }];
  return { status: 200, body: outcome(all) };
}

/** The validation findings for one request; `id` is the instance of the URL, if any. */
function findings(input: Input, type: string, id: string | undefined): Issue[] {
  const base = `http://hl7.org/fhir/StructureDefinition/${type}`;
  if (input.profile !== undefined && input.profile.split('|')[0] !== base) {
    throw new FhirError(400, 'not-supported', `only the base R4 profile ${base} can be validated against, not '${input.profile.slice(0, 200)}'`);
  }
  if (input.mode === 'delete') return []; // "the server ignores the content"; no referential rules here
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

/** POST [base]/[type]/$validate: general validation or mode=create (update and delete need an instance). */
export const validateType: Handler = async (req) => {
  const type = req.segments[0];
  const input = readInput(req, type);
  if (input.mode === 'update' || input.mode === 'delete') {
    throw badRequest(`mode '${input.mode}' is only allowed at the instance level: POST ${type}/[id]/$validate`);
  }
  return allOk(findings(input, type, undefined));
};

/**
 * POST [base]/[type]/[id]/$validate: validates the given resource against the instance's id (mode
 * update: the body's id must be the URL's). Does not read the stored resource: mode update/delete do
 * not check that the instance exists.
 */
export const validateInstance: Handler = async (req) => {
  const [type, id] = req.segments;
  return allOk(findings(readInput(req, type), type, id));
};

/** Both levels behind one handler (the routes table registers one handler per operation). */
export const validateOperation: Handler = async (req, svc) =>
  req.segments.length === 3 ? validateInstance(req, svc) : validateType(req, svc);
