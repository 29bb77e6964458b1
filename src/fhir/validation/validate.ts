// PLACEHOLDER (replaced by the validation work).
import { FhirError, type Issue } from '../../errors.js';
export function validateResource(resource: unknown, _opts?: { mode?: 'create' | 'update' }): Issue[] {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return [{ severity: 'error', code: 'structure', diagnostics: 'not a JSON object' }];
  return [];
}
export function assertValid(resource: unknown, opts?: { mode?: 'create' | 'update' }): void {
  const issues = validateResource(resource, opts);
  if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) throw new FhirError(400, 'invalid', 'invalid resource', { issues });
}
