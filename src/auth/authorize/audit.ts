// Every refusal on the authorize pages leaves one AuditEvent (issue "Compliance"), shaped like the token
// endpoint's (src/audit/auth-events.ts: DCM 110114 User Authentication, action E, subtype
// authorize-refusal, outcome 4 minor failure; IHE BALP agents for client, user and network address):
// an unknown client or redirect_uri (the error page of RFC 6749 §4.1.2.1), an error sent back to the
// app (unsupported_response_type, invalid_request for aud or PKCE, invalid_scope, access_denied when
// the user denies), each with the OAuth error code and description (RFC 6749 §4.1.2.1) as the reason.
// Failed and locked sign-ins are Login events (110122) written by the sign-in route itself.
// Recorded: the client as claimed, the signed-in user if any, the address and X-Request-Id. Never
// recorded: state, code_challenge, nonce, launch, redirect_uri, codes or passwords. Best-effort like
// every refusal (auth-audit.ts): if the event cannot be written it is logged and the refusal answered.
import type { UserRecord } from '../../store/auth-clients.js';
import { authActor, tryRecordAuthEvent } from '../auth-audit.js';
import type { AuthRuntime } from '../runtime.js';

export interface AuthorizeRefusal {
  tenant: string;
  /** HTTP status answered: 400 for the error page, 303 for a redirect back to the app. */
  status: number;
  /** `<OAuth error code>: <description>`, from the server's own fixed texts. */
  reason: string;
  /** The client_id as the request claimed it (recorded only if it looks like one). */
  clientId?: string;
  user?: UserRecord;
  /** The patient the refused grant concerned, when known (a launch, the patient's own record, the one picked). */
  patient?: string;
  address?: string;
  requestId?: string;
}

const ID = /^[\x21-\x7e]{1,128}$/;
const PATIENT_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function auditAuthorizeRefusal(rt: AuthRuntime, r: AuthorizeRefusal): Promise<void> {
  const u = r.user;
  return tryRecordAuthEvent(rt, {
    kind: 'authorize-refusal',
    status: r.status,
    reason: r.reason.slice(0, 300),
    patient: r.patient && PATIENT_ID.test(r.patient) ? r.patient : undefined,
    requestId: r.requestId?.slice(0, 200),
    actor: authActor(r.tenant, {
      clientId: r.clientId && ID.test(r.clientId) ? r.clientId : undefined,
      address: r.address, role: u?.role, userId: u?.id, fhirUser: u?.fhirUser, username: u?.username,
    }),
  });
}
