// OperationOutcome construction (R4 operationoutcome.html): one issue per problem.
import type { OperationOutcome } from 'fhir/r4';
import type { Issue } from '../errors.js';

export function outcome(issues: Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code as OperationOutcome['issue'][number]['code'],
      ...(i.diagnostics ? { diagnostics: i.diagnostics } : {}),
      ...(i.expression ? { expression: i.expression } : {}),
    })),
  };
}

export function info(message: string): OperationOutcome {
  return outcome([{ severity: 'information', code: 'informational', diagnostics: message }]);
}
