// The FHIR API's refusals of an access token, with the `WWW-Authenticate: Bearer` challenge RFC 6750 §3
// defines: realm always; error="invalid_token" (401) for a token that is "expired, revoked, malformed, or
// invalid for other reasons"; error="insufficient_scope" (403) when "the request requires higher
// privileges than provided by the access token"; an error_description with each error; and no error code
// when the request carried no Bearer credentials at all. The body stays an OperationOutcome (errors.ts).
import { FhirError } from '../errors.js';

export const REALM = 'fhirgate';

// §3: error and error_description values "MUST NOT include characters outside the set %x20-21 /
// %x23-5B / %x5D-7E" (no quote, no backslash, nothing beyond ASCII).
const quotable = (s: string) => s.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');

export function bearerChallenge(error?: 'invalid_token' | 'insufficient_scope', description?: string): string {
  const params = [`realm="${REALM}"`];
  if (error) params.push(`error="${error}"`);
  if (error && description) params.push(`error_description="${quotable(description)}"`);
  return `Bearer ${params.join(', ')}`;
}

/** 401 for a request without Bearer credentials (none, or another scheme's): "SHOULD NOT include an error code". */
export const noBearer = (msg: string) => new FhirError(401, 'login', msg, { headers: { 'WWW-Authenticate': bearerChallenge() } });

/** 401 invalid_token: malformed, badly signed, of another issuer, expired or revoked. */
export const invalidToken = (msg: string) =>
  new FhirError(401, 'login', msg, { headers: { 'WWW-Authenticate': bearerChallenge('invalid_token', msg) } });

/** 403 insufficient_scope: a valid token whose scopes do not cover the request. */
export const insufficientScope = (msg: string) =>
  new FhirError(403, 'forbidden', msg, { headers: { 'WWW-Authenticate': bearerChallenge('insufficient_scope', msg) } });
