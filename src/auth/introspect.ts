// Token introspection (RFC 7662) and revocation (RFC 7009). An unknown, expired or revoked token is
// exactly {"active":false} (§2.2; Inferno checks the body has that one member). Revoking either token
// of a grant ends the grant: its refresh tokens and all its access tokens.
//
// Who may introspect what. RFC 7662 §2.1: "the endpoint MUST also require some form of authorization to
// access this endpoint, such as client authentication [...] or a separate OAuth 2.0 access token"; §4:
// "the authorization server MUST require authentication of protected resources that need to access the
// introspection endpoint and SHOULD require protected resources to be specifically authorized to call
// the introspection endpoint" (against token scanning). SMART token-introspection.html lets an
// "appropriately-scoped SMART App or SMART Backend Service bearer token" in, and such callers "are able
// to introspect tokens issued to any client". So:
// - a backend service (the resource servers of a SMART deployment are registered as one: keys and
//   system/ scopes, CONTRACT.md "Roles") is the caller specifically authorized: authenticated with
//   private_key_jwt, or presenting its client_credentials access token, it may introspect any token of
//   its tenant;
// - any other caller (an app's bearer token, a confidential app's own credentials) only learns what it
//   already holds: a bearer token its own grant's tokens, a confidential client the tokens issued to it;
// - no credentials, a public client's bare client_id, or a bad bearer token: 401 invalid_client.
// A token outside the caller's reach is answered as inactive, which §2.2 prescribes for a token "the
// protected resource is not allowed to introspect".
import { getGrant, getRefreshToken } from '../store/auth-grants.js';
import { authenticateClient, isPublic } from './client-auth.js';
import { invalidClient, invalidRequest } from './oauth-error.js';
import type { AuthRuntime } from './runtime.js';
import { sha256 } from './secrets.js';
import { readAccessToken, type AccessClaims, type GrantData } from './tokens.js';
import { verifyBearerClaims } from './verify-token.js';
import { parseResourceScope, splitScopes } from './scopes.js';

const INACTIVE = { active: false } as const;

/** What the caller may see: every token of the tenant, those issued to one client, or one grant's (or token's). */
type Reach =
  | { kind: 'tenant'; tenant: string }
  | { kind: 'client'; tenant: string; clientId: string }
  | { kind: 'grant'; tenant: string; clientId: string; grantId?: string; jti: string };

/** The token being introspected, as far as the reach check needs it. */
interface Subject { tenant: string; clientId: string; grantId?: string; jti?: string }

const hasSystemScope = (scopes: string[]) => scopes.some((s) => parseResourceScope(s)?.context === 'system');

async function reachOf(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<Reach> {
  if (authorization && /^Bearer /i.test(authorization)) {
    let claims: AccessClaims;
    try {
      claims = await verifyBearerClaims(authorization, rt);
    } catch {
      throw invalidClient('the bearer token presented to introspect is not valid');
    }
    // A client_credentials token (no grant id: it acts for no user) carries only system/ scopes.
    if (!claims.gid && hasSystemScope(splitScopes(claims.scope))) return { kind: 'tenant', tenant: claims.ten };
    return { kind: 'grant', tenant: claims.ten, clientId: claims.client_id, grantId: claims.gid, jti: claims.jti };
  }
  const { client, method } = await authenticateClient(rt, tenant, authorization, body);
  if (isPublic(client)) throw invalidClient('a public client cannot introspect: present a bearer token');
  if (method === 'private_key_jwt' && hasSystemScope(splitScopes(client.scopes))) return { kind: 'tenant', tenant: client.tenant };
  return { kind: 'client', tenant: client.tenant, clientId: client.id };
}

function within(r: Reach, t: Subject): boolean {
  if (t.tenant !== r.tenant) return false;
  if (r.kind === 'tenant') return true;
  if (t.clientId !== r.clientId) return false;
  if (r.kind === 'client') return true;
  return r.grantId ? t.grantId === r.grantId : t.jti === r.jti;
}

export async function introspect(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<Record<string, unknown>> {
  const reach = await reachOf(rt, tenant, authorization, body);
  const token = body.token;
  if (!token) throw invalidRequest('token is missing');
  // The hint only orders the lookups: "If the server is unable to locate the token using the given hint,
  // it MUST extend its search across all of its supported token types" (RFC 7662 §2.1).
  const c = await readAccessToken(rt, token);
  if (c) {
    if (rt.revocations.has(c.jti) || rt.revocations.has(c.gid) || c.ten !== tenant) return INACTIVE;
    if (!within(reach, { tenant: c.ten, clientId: c.client_id, grantId: c.gid, jti: c.jti })) return INACTIVE;
    return {
      active: true, scope: c.scope, client_id: c.client_id, exp: c.exp, iat: c.iat, sub: c.sub, iss: c.iss, aud: c.aud,
      token_type: 'Bearer',
      ...(c.patient ? { patient: c.patient } : {}),
      ...(c.encounter ? { encounter: c.encounter } : {}),
      ...(c.fhirUser ? { fhirUser: `${rt.fhirBase}/${c.fhirUser}` } : {}),
    };
  }
  const rec = await getRefreshToken(rt.db, sha256(token));
  if (!rec || rec.expired || rec.rotated) return INACTIVE;
  const grant = await getGrant<GrantData>(rt.db, rec.grantId);
  if (!grant || grant.revoked || grant.tenant !== tenant) return INACTIVE;
  if (!within(reach, { tenant: grant.tenant, clientId: grant.clientId, grantId: grant.id })) return INACTIVE;
  const g = grant.data;
  return {
    active: true, scope: rec.scopes, client_id: grant.clientId, exp: Math.floor(rec.expiresAt.getTime() / 1000), sub: g.userId ?? grant.clientId,
    iss: rt.fhirBase, token_type: 'refresh_token',
    ...(g.patient ? { patient: g.patient } : {}),
    ...(g.encounter ? { encounter: g.encounter } : {}),
  };
}

/** RFC 7009 §2.2: 200 whether or not the token was known; a token of another client is left alone. */
export async function revoke(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<void> {
  const { client } = await authenticateClient(rt, tenant, authorization, body);
  const token = body.token;
  if (!token) throw invalidRequest('token is missing');
  // An unknown hint is ignored, like a wrong one (RFC 7009 §2.1: the server "MAY ignore such hint"); every
  // token type this server issues can be revoked, so unsupported_token_type (§2.2.1) never applies.
  const grantEnd = new Date(Date.now() + rt.settings.accessTokenSeconds * 1000);
  const c = await readAccessToken(rt, token);
  if (c) {
    if (c.client_id !== client.id || c.ten !== client.tenant) return;
    if (c.gid) await rt.revocations.revokeGrant(c.gid, grantEnd);
    else await rt.revocations.revokeToken(c.jti, new Date(c.exp * 1000));
    return;
  }
  const rec = await getRefreshToken(rt.db, sha256(token));
  if (!rec) return;
  const grant = await getGrant<GrantData>(rt.db, rec.grantId);
  if (!grant || grant.clientId !== client.id || grant.tenant !== client.tenant) return;
  await rt.revocations.revokeGrant(grant.id, grantEnd);
}
