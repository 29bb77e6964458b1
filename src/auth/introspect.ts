// Token introspection (RFC 7662) and revocation (RFC 7009). Introspection is protected (RFC 7662 §2.1):
// a confidential client's credentials or a valid bearer token of this server. An unknown, expired or
// revoked token is exactly {"active":false} (§2.2; Inferno checks the body has that one member).
// Revoking either token of a grant ends the grant: its refresh tokens and all its access tokens.
import { getGrant, getRefreshToken } from '../store/auth-grants.js';
import { authenticateClient, isPublic } from './client-auth.js';
import { invalidClient, invalidRequest } from './oauth-error.js';
import type { AuthRuntime } from './runtime.js';
import { sha256 } from './secrets.js';
import { readAccessToken, type GrantData } from './tokens.js';
import { verifyBearer } from './verify-token.js';

const INACTIVE = { active: false } as const;

async function introspector(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<void> {
  if (authorization && /^Bearer /i.test(authorization)) {
    try {
      await verifyBearer(authorization, rt);
      return;
    } catch {
      throw invalidClient('the bearer token presented to introspect is not valid');
    }
  }
  const { client } = await authenticateClient(rt, tenant, authorization, body);
  if (isPublic(client)) throw invalidClient('a public client cannot introspect: present a bearer token');
}

export async function introspect(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<Record<string, unknown>> {
  await introspector(rt, tenant, authorization, body);
  const token = body.token;
  if (!token) throw invalidRequest('token is missing');
  // The hint only orders the lookups: "If the server is unable to locate the token using the given hint,
  // it MUST extend its search across all of its supported token types" (RFC 7662 §2.1).
  const c = await readAccessToken(rt, token);
  if (c) {
    if (rt.revocations.has(c.jti) || rt.revocations.has(c.gid) || c.ten !== tenant) return INACTIVE;
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
