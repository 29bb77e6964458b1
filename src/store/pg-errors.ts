// PostgreSQL errors a client can cause, mapped to FHIR errors (unique violation on a concurrent create,
// serialization failure, a statement timeout). Everything else stays an internal error.
import { FhirError } from '../errors.js';

export class RetryableConflict extends Error {}

export function translatePgError(e: unknown): unknown {
  const code = (e as { code?: string })?.code;
  switch (code) {
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return new FhirError(409, 'transient', 'the request conflicted with a concurrent change; retry it');
    case '57014': // query_canceled (statement_timeout)
      return new FhirError(503, 'timeout', 'the request took too long and was cancelled');
    case '42501': // insufficient_privilege: the database refused the caller's role
      return new FhirError(403, 'forbidden', 'access denied');
    default:
      return e;
  }
}
