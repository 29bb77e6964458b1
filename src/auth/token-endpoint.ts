// The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; SMART App Launch 2.2 "Obtain access token",
// Backend Services): authorization_code with PKCE (always), refresh_token with rotation, client_credentials
// with system/ scopes. An ordered list of checks; each refusal an RFC 6749 §5.2 error. Grants and
// refusals are audited (auth-audit.ts).
import { createGrant, getGrant, getRefreshToken, isRevoked, rotateRefreshToken, useCode } from '../store/auth-grants.js';
import { authenticateClient, type AuthenticatedClient } from './client-auth.js';
import { invalidGrant, invalidRequest, invalidScope, OAuthError } from './oauth-error.js';
import { verifyPkce } from './pkce.js';
import type { AuthRuntime } from './runtime.js';
import { coveredBy, parseResourceScope, splitScopes } from './scopes.js';
import { randomToken, sha256 } from './secrets.js';
import { issueTokens, type CodeData } from './issue.js';
import type { GrantData } from './tokens.js';
import type { DbRole } from '../store/session.js';
import { authActor, claimedClient, recordAuthEvent, tryRecordAuthEvent, refusalOf } from './auth-audit.js';

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'];

/** Tokens issued and the grant they carry (for the audit event: client, user, patient, scopes). */
interface Issued { out: Record<string, unknown>; grant: GrantData }

/**
 * The token endpoint, audited (issue "Audit"; BALP IHE.IUA.71): every grant and every refusal leaves
 * one AuditEvent naming the client (as claimed, for a refusal), the user and the address, never a token.
 */
export async function tokenRequest(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>, address?: string): Promise<Record<string, unknown>> {
  const grantType = body.grant_type && GRANT_TYPES.includes(body.grant_type) ? body.grant_type : undefined;
  let issued: Issued;
  try {
    issued = await grantTokens(rt, tenant, authorization, body);
  } catch (e) {
    const r = refusalOf(e);
    await tryRecordAuthEvent(rt, {
      kind: 'token-refusal', status: r.status, reason: grantType ? `grant_type=${grantType}; ${r.reason}` : r.reason,
      actor: authActor(tenant, { clientId: claimedClient(authorization, body), address }),
    });
    throw e;
  }
  const g = issued.grant;
  await recordAuthEvent(rt, {
    kind: 'token-grant', status: 200, reason: `grant_type=${grantType}`, scopes: String(issued.out.scope ?? ''), patient: g.patient,
    actor: { tenant: g.tenant, role: g.role, clientId: g.clientId, userId: g.userId, fhirUser: g.fhirUser, address },
  });
  return issued.out;
}

async function grantTokens(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<Issued> {
  const grantType = body.grant_type;
  if (!grantType) throw invalidRequest('grant_type is missing');
  if (!GRANT_TYPES.includes(grantType)) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  const client = await authenticateClient(rt, tenant, authorization, body);
  if (grantType === 'authorization_code') return authorizationCode(rt, client, body);
  if (grantType === 'refresh_token') return refresh(rt, client, body);
  return clientCredentials(rt, client, body);
}

async function authorizationCode(rt: AuthRuntime, { client }: AuthenticatedClient, body: Record<string, string>): Promise<Issued> {
  if (!body.code) throw invalidRequest('code is missing');
  const codeHash = sha256(body.code);
  const grantId = randomToken(18);
  const use = await useCode<CodeData>(rt.db, codeHash, grantId);
  if (use.kind === 'replayed') {
    // RFC 6749 §4.1.2: a code used twice revokes what the first use produced.
    if (use.grantId) await rt.revocations.revokeGrant(use.grantId, new Date(Date.now() + rt.settings.accessTokenSeconds * 1000));
    throw invalidGrant('the authorization code was already used');
  }
  if (use.kind === 'unknown') throw invalidGrant('the authorization code is invalid or expired');
  const { data } = use;
  if (use.clientId !== client.id || use.tenant !== client.tenant) throw invalidGrant('the authorization code was issued to another client');
  if (body.redirect_uri !== data.redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
  // "The EHR SHALL ensure that the code_verifier is present and valid when the code is exchanged" (SMART App
  // Launch 2 "Obtain authorization code"). The authorize endpoint refuses a request without code_challenge,
  // so a code without one predates that rule: refused too, which also closes the PKCE downgrade (RFC 9700 §4.8.2).
  if (!data.codeChallenge) throw invalidGrant('the authorization request had no code_challenge: PKCE is required');
  if (!verifyPkce(data.codeChallenge, body.code_verifier)) throw invalidGrant('code_verifier does not match the code_challenge');
  await createGrant(rt.db, grantId, client.tenant, client.id, data.grant);
  const out = await issueTokens(rt, data.grant, grantId, data.grant.scopes, { nonce: data.nonce, newRefresh: true });
  // A replay that raced this use revoked the grant before its rows existed: revoke them now, answer nothing.
  if (await isRevoked(rt.db, grantId)) {
    await rt.revocations.revokeGrant(grantId, new Date(Date.now() + rt.settings.accessTokenSeconds * 1000));
    throw invalidGrant('the authorization code was used twice');
  }
  return { out, grant: data.grant };
}

async function refresh(rt: AuthRuntime, { client }: AuthenticatedClient, body: Record<string, string>): Promise<Issued> {
  if (!body.refresh_token) throw invalidRequest('refresh_token is missing');
  const hash = sha256(body.refresh_token);
  const rec = await getRefreshToken(rt.db, hash);
  if (!rec || rec.expired) throw invalidGrant('the refresh token is invalid or expired');
  const grant = await getGrant<GrantData>(rt.db, rec.grantId);
  if (!grant || grant.revoked) throw invalidGrant('the refresh token was revoked');
  if (grant.clientId !== client.id || grant.tenant !== client.tenant) throw invalidGrant('the refresh token was issued to another client');
  if (rec.rotated) {
    // Reuse of a rotated refresh token (OAuth 2.0 Security BCP §4.14.2): end the whole grant.
    await rt.revocations.revokeGrant(grant.id, new Date(Date.now() + rt.settings.accessTokenSeconds * 1000));
    throw invalidGrant('the refresh token was already used');
  }
  const held = splitScopes(rec.scopes);
  let scopes = held;
  if (body.scope !== undefined) {
    // RFC 6749 §6: the new scope must not include any scope not originally granted; an empty one asks for
    // nothing, which is no token at all (§3.3: the client requests the scope it needs).
    scopes = splitScopes(body.scope);
    if (scopes.length === 0) throw invalidScope('scope is empty: omit it to keep the scopes granted');
    const extra = scopes.filter((s) => !held.includes(s) && !coveredBy(s, held));
    if (extra.length) throw invalidScope(`not granted originally: ${extra.join(' ')}`);
  }
  if (!(await rotateRefreshToken(rt.db, hash))) throw invalidGrant('the refresh token was already used');
  const offline = held.includes('offline_access');
  return { out: await issueTokens(rt, grant.data, grant.id, scopes, { refreshScopes: held, refreshExpires: offline ? undefined : rec.expiresAt, newRefresh: true }), grant: grant.data };
}

async function clientCredentials(rt: AuthRuntime, { client, method }: AuthenticatedClient, body: Record<string, string>): Promise<Issued> {
  if (method !== 'private_key_jwt') throw new OAuthError('unauthorized_client', 'client_credentials needs private_key_jwt client authentication (SMART Backend Services)');
  const registered = splitScopes(client.scopes);
  const requested = body.scope !== undefined ? splitScopes(body.scope) : registered.filter((s) => s.startsWith('system/'));
  if (requested.length === 0) throw invalidScope('no scope requested');
  for (const s of requested) {
    const p = parseResourceScope(s);
    if (!p || p.context !== 'system') throw invalidScope(`only system/ scopes can be granted to a backend service: ${s}`);
    if (!coveredBy(s, registered)) throw invalidScope(`beyond the client's registration: ${s}`);
  }
  const grant: GrantData = { tenant: client.tenant, clientId: client.id, role: (client.role as DbRole | undefined) ?? 'system', scopes: requested };
  return { out: await issueTokens(rt, grant, undefined, requested, { system: true }), grant };
}
