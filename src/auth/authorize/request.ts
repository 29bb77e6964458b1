// The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, SMART App Launch 2.2 "Obtain
// authorization code": PKCE required of every app) as an ordered list of checks. Until client_id and
// redirect_uri are proven, errors are shown as a page and never redirected (§4.1.2.1); after that they
// go back to the app.
import { getClient, type ClientRecord } from '../../store/auth-clients.js';
import { getLaunch, type LaunchRecord } from '../../store/auth-sessions.js';
import type { OAuthErrorCode } from '../oauth-error.js';
import { validChallenge } from '../pkce.js';
import type { AuthRuntime } from '../runtime.js';
import { isKnownScope, limitScopes, parseResourceScope, splitScopes } from '../scopes.js';
import { sha256 } from '../secrets.js';

export interface AuthorizeRequest {
  kind: 'authorize';
  clientId: string;
  redirectUri: string;
  state?: string;
  scopes: string[];
  codeChallenge?: string;
  nonce?: string;
  launch?: LaunchRecord;
}

/**
 * A refusal carries what its AuditEvent records (auditAuthorizeRefusal): the OAuth error code and
 * description, and the client as claimed. Never a request value such as state, code_challenge or launch.
 */
export interface Refusal { refusal: string; clientId?: string }

export type Checked =
  | { kind: 'ok'; request: AuthorizeRequest; client: ClientRecord }
  | ({ kind: 'page'; message: string } & Refusal)
  | ({ kind: 'redirect'; location: string } & Refusal);

export function errorRedirect(redirectUri: string, state: string | undefined, error: OAuthErrorCode, description: string): string {
  const u = new URL(redirectUri);
  u.searchParams.set('error', error);
  u.searchParams.set('error_description', description);
  if (state !== undefined) u.searchParams.set('state', state);
  return u.toString();
}

const trim = (s: string) => s.replace(/\/+$/, '');

export async function checkAuthorizeRequest(rt: AuthRuntime, tenant: string, p: Record<string, string>): Promise<Checked> {
  // 1. The client must be registered.
  if (!p.client_id) return { kind: 'page', message: 'The request names no client_id.', refusal: 'invalid_request: no client_id' };
  const client = await getClient(rt.db, tenant, p.client_id);
  if (!client) {
    return { kind: 'page', message: 'The application is not registered with this server.', refusal: 'invalid_client: the client is not registered', clientId: p.client_id };
  }
  // 2. redirect_uri must equal a registered one exactly (no prefix or pattern matching).
  if (!p.redirect_uri || !client.redirectUris.includes(p.redirect_uri)) {
    return { kind: 'page', message: 'The redirect_uri is not registered for this application.', refusal: 'invalid_request: redirect_uri is missing or not registered for the client', clientId: client.id };
  }
  const back = (error: OAuthErrorCode, d: string): Checked => ({
    kind: 'redirect', location: errorRedirect(p.redirect_uri, p.state, error, d), refusal: `${error}: ${d}`, clientId: client.id,
  });
  // 3. Only the authorization code flow.
  // A missing parameter is invalid_request; unsupported_response_type is for a value other than code (RFC 6749 §4.1.2.1).
  if (!p.response_type) return back('invalid_request', 'response_type is required');
  if (p.response_type !== 'code') return back('unsupported_response_type', 'response_type must be code');
  if (!p.state) return back('invalid_request', 'state is required');
  // 4. aud must be this server's FHIR base, so a token meant for another server is never issued here.
  if (!p.aud || trim(p.aud) !== trim(rt.fhirBase)) return back('invalid_request', 'aud must be this server\'s FHIR base URL');
  // 5. PKCE, S256 only, for every client, confidential ones too: "All SMART apps SHALL support Proof Key
  // for Code Exchange (PKCE)" and code_challenge / code_challenge_method are required parameters (SMART
  // App Launch 2 "Considerations for PKCE Support", "Obtain authorization code"); servers "SHALL NOT
  // support the plain method".
  if (p.code_challenge_method !== undefined && p.code_challenge_method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256');
  if (!p.code_challenge) return back('invalid_request', 'code_challenge is required: every client must use PKCE (S256)');
  if (!validChallenge(p.code_challenge)) return back('invalid_request', 'code_challenge is malformed');
  if (p.code_challenge_method === undefined) return back('invalid_request', 'code_challenge_method is required (S256)');
  // 6. Scopes the server knows and the registration allows. system/ scopes are never granted here: they
  // are a backend service's, obtained by the client credentials grant (SMART Backend Services), not by a
  // user's authorization, whatever the client's registration lists.
  const requested = splitScopes(p.scope).filter((s) => parseResourceScope(s)?.context !== 'system');
  const scopes = limitScopes(requested, splitScopes(client.scopes));
  if (scopes.filter((s) => isKnownScope(s)).length === 0) return back('invalid_scope', 'no grantable scope was requested');
  // 7. EHR launch: the opaque launch value must name a live launch context.
  let launch: LaunchRecord | undefined;
  if (p.launch !== undefined) {
    launch = await getLaunch(rt.db, sha256(p.launch));
    if (!launch || launch.tenant !== tenant) return back('invalid_request', 'launch is unknown or expired');
  }
  return {
    kind: 'ok',
    client,
    request: {
      kind: 'authorize', clientId: client.id, redirectUri: p.redirect_uri, state: p.state, scopes,
      codeChallenge: p.code_challenge, nonce: p.nonce, launch,
    },
  };
}
