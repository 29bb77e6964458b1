// Who is calling: the result of authenticating a request (SMART token, or AUTH=off's full-access
// system user). Passed explicitly to every layer below http; the store turns it into a DbContext.
import type { DbRole } from '../store/session.js';

export interface AuthContext {
  tenant: string;
  role: DbRole;
  /** Granted scopes exactly as in the token (SMART v1 and v2 syntax). */
  scopes: string[];
  /** Launch patient (token `patient` claim) for patient-context access. */
  patient?: string;
  encounter?: string;
  /** `Patient/ID` or `Practitioner/ID`: the signed-in user's FHIR identity. */
  fhirUser?: string;
  userId?: string;
  clientId?: string;
  /** Network address of the caller, for audit. */
  address?: string;
}

/** AUTH=off (development only): everything served as a full-access system user. */
export function developmentContext(tenant = 'default'): AuthContext {
  return { tenant, role: 'system', scopes: ['system/*.*', 'system/*.cruds'], clientId: 'auth-off' };
}

/** Unauthenticated callers of the public endpoints (metadata, SMART discovery): no scopes, no data. */
export function anonymousContext(tenant = 'default'): AuthContext {
  return { tenant, role: 'system', scopes: [], clientId: 'anonymous' };
}
