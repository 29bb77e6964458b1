// AuditEvents for the authorization server and the FHIR API's bearer check (issue: "sign-in, token
// grant and refusal" each leave one). All are type DCM 110114 User Authentication, as BALP's IUA
// profiles (IHE.IUA.71 "Get Access Token") do; the subtype says which: DCM 110122 Login / 110123 Logout
// for the sign-in pages, IHE ITI-71 Get Access Token for the token endpoint (grants and refusals alike,
// told apart by the outcome), ITI-72 Incorporate Access Token for a FHIR request refused for its bearer
// token (401), fhirgate codes for introspection and revocation. Agents name the client, the user and
// the network address; tokens, codes, passwords and secrets are never recorded.
import { buildAuditRows, outcomeOf, type Actor, type AuditOutcome, type AuditRow } from './balp.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const IHE_EVENT = 'urn:ihe:event-type-code';
const SUBTYPES = 'https://fhirgate.dev/fhir/CodeSystem/audit-subtype';
// Keys in sorted order, as balp.ts writes its own: the event is then already canonical.
const USER_AUTHENTICATION = { code: '110114', display: 'User Authentication', system: DCM };

export type AuthEventKind = 'login' | 'logout' | 'token-grant' | 'token-refusal' | 'bearer-refusal' | 'token-introspect' | 'token-revoke' | 'authorize-refusal';

export interface AuthEvent {
  kind: AuthEventKind;
  actor: Actor;
  /** HTTP status answered (or 303 for a redirect). */
  status: number;
  /** What happened or why it was refused (an OAuth error code, a sign-in failure reason). No secrets, no tokens. */
  reason?: string;
  /** Launch patient a grant was for, when any. */
  patient?: string;
  /** Granted scopes (names only, no tokens). */
  scopes?: string;
  /** X-Request-Id of the HTTP request, when the caller sent one. */
  requestId?: string;
  server: { observer: string; address?: string };
}

const SUBTYPE: Record<AuthEventKind, { system: string; code: string }> = {
  login: { system: DCM, code: '110122' },
  logout: { system: DCM, code: '110123' },
  'token-grant': { system: IHE_EVENT, code: 'ITI-71' },
  'token-refusal': { system: IHE_EVENT, code: 'ITI-71' },
  'bearer-refusal': { system: IHE_EVENT, code: 'ITI-72' },
  'token-introspect': { system: SUBTYPES, code: 'token-introspect' },
  'token-revoke': { system: SUBTYPES, code: 'token-revoke' },
  'authorize-refusal': { system: SUBTYPES, code: 'authorize-refusal' },
};

/** 0 success, 4 minor failure (a refusal the caller caused), 8 serious failure (the server failed). */
function outcome(e: AuthEvent): AuditOutcome {
  const o = outcomeOf(e.status);
  const refusal = e.kind.endsWith('refusal');
  return refusal && o === 0 ? 4 : o;
}

export function authAuditRows(e: AuthEvent, recorded = new Date().toISOString()): AuditRow[] {
  const sub = SUBTYPE[e.kind];
  const desc = [e.reason?.slice(0, 300), e.scopes ? `scopes: ${e.scopes.slice(0, 400)}` : undefined].filter(Boolean).join('; ');
  return buildAuditRows({
    actor: e.actor,
    recorded,
    type: USER_AUTHENTICATION,
    subtype: sub.code,
    subtypeSystem: sub.system,
    action: 'E',
    outcome: outcome(e),
    outcomeDesc: desc || undefined,
    patients: e.patient ? [`Patient/${e.patient}`] : [],
    requestId: e.requestId,
    server: e.server,
  });
}
