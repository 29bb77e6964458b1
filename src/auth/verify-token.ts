// Bearer verification for every /fhir request (RFC 6750 §3): no token, or a malformed, badly signed,
// expired or revoked one, is a 401 with a `WWW-Authenticate: Bearer` challenge (bearer-challenge.ts).
// Local JWT check plus an in-memory revocation lookup: no database round trip, so it stays within the
// ≤0.5 ms p50 budget.
import { invalidToken, noBearer } from './bearer-challenge.js';
import type { AuthContext } from './context.js';
import type { AuthRuntime } from './runtime.js';
import { readAccessToken, type AccessClaims } from './tokens.js';
import { splitScopes } from './scopes.js';

export type BearerDeps = Pick<AuthRuntime, 'keys' | 'revocations' | 'fhirBase'>;

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

// Tokens whose signature was already checked, per key ring: a request with the same token skips the
// RSA verify. Expiry and revocation are still checked on every request; the cache is bounded and
// emptied whenever the key ring is (re)loaded, so a retired key's tokens go with it.
const caches = new WeakMap<object, { generation: number; tokens: Map<string, AccessClaims> }>();
const MAX_CACHED = 10_000;

async function claimsOf(deps: BearerDeps, token: string): Promise<AccessClaims | undefined> {
  let cache = caches.get(deps.keys);
  if (!cache || cache.generation !== deps.keys.generation) {
    cache = { generation: deps.keys.generation, tokens: new Map() };
    caches.set(deps.keys, cache);
  }
  const verified = cache.tokens;
  const hit = verified.get(token);
  if (hit) {
    if (hit.exp * 1000 > Date.now()) return hit;
    verified.delete(token);
    return undefined;
  }
  const claims = await readAccessToken(deps, token);
  if (claims) {
    if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
  }
  return claims;
}

/** The claims of the request's live access token of this server; throws the 401 RFC 6750 §3 describes. */
export async function verifyBearerClaims(authorization: string | undefined, deps: BearerDeps): Promise<AccessClaims> {
  // No credentials, or another scheme's (Basic …): "the client was unaware that authentication is
  // necessary or attempted using an unsupported authentication method" — a challenge without error code.
  if (!authorization || !/^Bearer(\s|$)/i.test(authorization)) throw noBearer('an access token is required (Authorization: Bearer)');
  const m = BEARER.exec(authorization);
  // The Bearer scheme with no token, or one outside the b64token syntax: a malformed token (§3.1).
  if (!m) throw invalidToken('the Bearer credentials are not a well-formed access token');
  const claims = await claimsOf(deps, m[1]);
  if (!claims || deps.revocations.has(claims.jti) || deps.revocations.has(claims.gid)) {
    throw invalidToken('the access token is invalid, expired or revoked');
  }
  return claims;
}

export async function verifyBearer(authorization: string | undefined, deps: BearerDeps): Promise<AuthContext> {
  return contextOf(await verifyBearerClaims(authorization, deps));
}

export function contextOf(c: AccessClaims): AuthContext {
  const ownPatient = c.role === 'patient' && c.fhirUser?.startsWith('Patient/') ? c.fhirUser.slice('Patient/'.length) : undefined;
  return {
    tenant: c.ten,
    role: c.role,
    scopes: splitScopes(c.scope),
    patient: ownPatient ?? c.patient,
    encounter: c.encounter,
    fhirUser: c.fhirUser,
    userId: c.sub !== c.client_id ? c.sub : undefined,
    clientId: c.client_id,
  };
}
