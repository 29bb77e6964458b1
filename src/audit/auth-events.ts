// AuditEvents for the authorization server (issue: "sign-in, token grant and refusal" each leave one):
// type DCM 110114 User Authentication, subtype DCM 110122 Login / 110123 Logout, or fhirgate's
// token-grant / token-refusal codes for the OAuth token endpoint (BALP's IUA pattern names the client
// and the user; the token itself is never recorded). The SMART code appends them with
// src/store/audit.ts appendAuditAlone under the tenant, role 'admin' (any request role may append).
import { buildAuditRows, outcomeOf, type Actor, type AuditRow } from './balp.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const SUBTYPES = 'https://fhirgate.dev/fhir/CodeSystem/audit-subtype';

export type AuthEventKind = 'login' | 'logout' | 'token-grant' | 'token-refusal' | 'authorize-refusal';

export interface AuthEvent {
  kind: AuthEventKind;
  actor: Actor;
  /** HTTP status answered (or 302 for a redirect). */
  status: number;
  /** Why, for refusals (e.g. an OAuth error code). No secrets, no tokens. */
  reason?: string;
  /** Launch patient a grant was for, when any. */
  patient?: string;
  /** Granted scopes (names only, no tokens). */
  scopes?: string;
  server: { observer: string; address?: string };
}

export function authAuditRows(e: AuthEvent, recorded = new Date().toISOString()): AuditRow[] {
  const dcm = e.kind === 'login' ? '110122' : e.kind === 'logout' ? '110123' : undefined;
  return buildAuditRows({
    actor: e.actor,
    recorded,
    type: { system: DCM, code: '110114', display: 'User Authentication' },
    subtype: dcm ?? e.kind,
    subtypeSystem: dcm ? DCM : SUBTYPES,
    action: 'E',
    outcome: e.kind.endsWith('refusal') ? Math.max(4, outcomeOf(e.status)) as 4 | 8 : outcomeOf(e.status),
    outcomeDesc: e.reason?.slice(0, 200) ?? (e.scopes ? `scopes: ${e.scopes.slice(0, 400)}` : undefined),
    patients: e.patient ? [`Patient/${e.patient}`] : [],
    server: e.server,
  });
}
