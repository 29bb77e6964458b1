// What the validation unit tests compare: the issues as "code expression" lines, and the HTTP status
// assertValid refuses with (200 when it passes); a refusal always carries at least one issue.
import assert from 'node:assert/strict';
import { FhirError, type Issue } from '../../../src/errors.js';
import { assertValid } from '../../../src/fhir/validation/validate.js';

export const at = (issues: Issue[]) => issues.map((i) => `${i.code} ${i.expression?.join(',')}`).sort();

export function statusOf(resource: unknown): number {
  try {
    assertValid(resource);
  } catch (e) {
    assert.ok(e instanceof FhirError);
    assert.equal(e.issues.length >= 1, true);
    return e.status;
  }
  return 200;
}
