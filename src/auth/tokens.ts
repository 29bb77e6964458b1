// Access tokens are JWTs (RFC 9068 `at+jwt`, RS256) verified locally, so a FHIR request needs no
// database round trip; revocation is checked against the in-memory set by grant id and token id.
// id_tokens follow OpenID Connect Core §2 with SMART's `fhirUser` claim (an absolute resource URL).
import { SignJWT, jwtVerify, decodeProtectedHeader } from 'jose';
import type { DbRole } from '../store/session.js';
import type { KeyRing } from './keys.js';
import { SIGNING_ALG } from './keys.js';
import { randomToken } from './secrets.js';

/** What a grant (an authorization of a client, usually by a user) carries into its tokens. */
export interface GrantData {
  tenant: string;
  clientId: string;
  role: DbRole;
  scopes: string[];
  userId?: string;
  fhirUser?: string;
  patient?: string;
  encounter?: string;
  /** EHR launch: the EHR shows its own banner. */
  ehrLaunch?: boolean;
  authTime?: number;
}

export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  scope: string;
  exp: number;
  iat: number;
  jti: string;
  gid?: string;
  ten: string;
  role: DbRole;
  patient?: string;
  encounter?: string;
  fhirUser?: string;
}

export interface Issuer { keys: KeyRing; fhirBase: string }

export async function signAccessToken(iss: Issuer, g: GrantData, scopes: string[], seconds: number, grantId?: string): Promise<{ token: string; claims: AccessClaims }> {
  const now = Math.floor(Date.now() / 1000);
  const claims: AccessClaims = {
    iss: iss.fhirBase, aud: iss.fhirBase, sub: g.userId ?? g.clientId, client_id: g.clientId, scope: scopes.join(' '),
    iat: now, exp: now + seconds, jti: randomToken(16), ten: g.tenant, role: g.role,
    ...(grantId ? { gid: grantId } : {}),
    ...(g.patient ? { patient: g.patient } : {}),
    ...(g.encounter ? { encounter: g.encounter } : {}),
    ...(g.fhirUser ? { fhirUser: g.fhirUser } : {}),
  };
  const { kid, key } = iss.keys.signingKey();
  const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid }).sign(key);
  return { token, claims };
}

/** The claims of a well-signed, unexpired access token of this server, or undefined. */
export async function readAccessToken(iss: Issuer, token: string): Promise<AccessClaims | undefined> {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = iss.keys.verificationKey(kid);
    if (!key) return undefined;
    const { payload } = await jwtVerify(token, key, {
      algorithms: [SIGNING_ALG], typ: 'at+jwt', issuer: iss.fhirBase, audience: iss.fhirBase, requiredClaims: ['exp', 'jti', 'client_id'],
    });
    return payload as unknown as AccessClaims;
  } catch {
    return undefined;
  }
}

export async function signIdToken(iss: Issuer, g: GrantData, nonce: string | undefined, seconds: number): Promise<string> {
  const { kid, key } = iss.keys.signingKey();
  const claims: Record<string, unknown> = { auth_time: g.authTime };
  if (nonce) claims.nonce = nonce;
  if (g.fhirUser && g.scopes.includes('fhirUser')) claims.fhirUser = `${iss.fhirBase}/${g.fhirUser}`;
  if (g.fhirUser && g.scopes.includes('profile')) claims.profile = `${iss.fhirBase}/${g.fhirUser}`;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'JWT', kid })
    .setIssuer(iss.fhirBase)
    .setSubject(g.userId ?? g.clientId)
    .setAudience(g.clientId)
    .setIssuedAt()
    .setExpirationTime(`${seconds}s`)
    .sign(key);
}
