// The Allow header of a 405 (RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in
// a 405 response containing a list of the target resource's currently supported methods").
// The list comes from the route table itself (fhir/routes.ts, fhir/register.ts), so it cannot drift
// from what the server answers: a method is allowed on a URL when the table routes it there.
import type { FhirRequest, HttpMethod } from '../fhir/types.js';
import { match } from '../fhir/routes.js';
import { FhirError } from '../errors.js';

/** In RFC 9110's order of definition (§9.3); HEAD is routed wherever GET is (§9.3.2). */
const METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** The methods the route table answers on `req`'s URL (its segments), e.g. `GET, HEAD, POST`. */
export function allowedMethods(req: FhirRequest): HttpMethod[] {
  return METHODS.filter((method) => {
    try {
      match({ ...req, method });
      return true;
    } catch {
      return false; // 405 (or 404 for an operation's level): not a method of this URL
    }
  });
}

/**
 * `err` with an Allow header when it is a 405 without one. A handler that knows better (a 405 that
 * depends on the caller, such as update-as-create refused to a patient-context token) sets its own.
 * Only runs on the error path: routing tries each method once, a few table scans.
 */
export function withAllow(err: unknown, req: FhirRequest): unknown {
  if (!(err instanceof FhirError) || err.status !== 405) return err;
  if (Object.keys(err.headers).some((k) => k.toLowerCase() === 'allow')) return err;
  const allow = allowedMethods(req).join(', ');
  return new FhirError(405, err.issues[0]?.code ?? 'not-supported', err.message, { issues: err.issues, headers: { ...err.headers, Allow: allow } });
}
