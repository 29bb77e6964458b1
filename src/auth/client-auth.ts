// Client authentication at the token, introspection and revocation endpoints: public (client_id
// only, RFC 6749 §2.1), client_secret_basic / client_secret_post (§2.3.1), private_key_jwt
// (RFC 7523 §3 as SMART App Launch 2.2 "asymmetric" and Backend Services profile it: RS384/ES384,
// iss = sub = client_id, aud = the token endpoint, exp at most 5 minutes ahead, jti used once).
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { getClient, type ClientRecord } from '../store/auth-clients.js';
import { useJti } from '../store/auth-grants.js';
import { verifySecret } from './passwords.js';
import { sha256 } from './secrets.js';
import { invalidClient, invalidRequest, OAuthError } from './oauth-error.js';
import { CONTROL } from '../fhir/validation/control-chars.js';
import type { AuthRuntime } from './runtime.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGS = ['RS384', 'ES384'];
const MAX_EXP_AHEAD = 300;
const SKEW = 30;

export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
export interface AuthenticatedClient { client: ClientRecord; method: ClientAuthMethod }

export function isPublic(c: ClientRecord): boolean {
  return !c.secretHash && !c.jwks && !c.jwksUrl;
}

// Secrets verified once are remembered by hash, so scrypt is not paid on every token request.
const verified = new Map<string, string>();

async function checkSecret(c: ClientRecord, secret: string): Promise<boolean> {
  if (!c.secretHash) return false;
  const memo = `${c.tenant}\u0000${c.id}\u0000${c.secretHash}`;
  if (verified.get(memo) === sha256(secret)) return true;
  if (!(await verifySecret(secret, c.secretHash))) return false;
  if (verified.size > 1000) verified.clear();
  verified.set(memo, sha256(secret));
  return true;
}

/** RFC 6749 §2.3.1 Basic credentials: form-urlencoded id and secret (raw values too, as many clients send them). */
function basic(header: string | undefined): { id: string; secrets: string[] } | undefined {
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw invalidClient('malformed Basic credentials');
  const decode = (v: string) => {
    try {
      return decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      return v;
    }
  };
  const raw = text.slice(colon + 1);
  const id = decode(text.slice(0, colon));
  // No client id holds a control character; PostgreSQL text cannot hold U+0000 (a 500 before this check).
  if (CONTROL.test(id)) throw invalidClient('malformed Basic credentials');
  return { id, secrets: [...new Set([decode(raw), raw])] };
}

export async function authenticateClient(rt: AuthRuntime, tenant: string, authorization: string | undefined, body: Record<string, string>): Promise<AuthenticatedClient> {
  const creds = basic(authorization);
  const assertionType = body.client_assertion_type;
  const used = [creds, body.client_secret, assertionType ?? body.client_assertion].filter((x) => x !== undefined).length;
  if (used > 1) throw invalidRequest('use exactly one client authentication method');
  if (assertionType !== undefined || body.client_assertion !== undefined) {
    if (assertionType !== JWT_BEARER) throw invalidClient(`client_assertion_type must be ${JWT_BEARER}`);
    if (!body.client_assertion) throw invalidClient('client_assertion is missing');
    return { client: await verifyAssertion(rt, tenant, body.client_assertion, body.client_id), method: 'private_key_jwt' };
  }
  if (creds) {
    if (body.client_id !== undefined && body.client_id !== creds.id) throw invalidClient('client_id does not match the credentials');
    const c = await getClient(rt.db, tenant, creds.id);
    let ok = false;
    for (const secret of creds.secrets) if (c && !ok) ok = await checkSecret(c, secret);
    if (!c || !ok) throw invalidClient('client authentication failed');
    return { client: c, method: 'client_secret_basic' };
  }
  if (!body.client_id) throw invalidClient('client authentication is required');
  const c = await getClient(rt.db, tenant, body.client_id);
  if (!c) throw invalidClient('unknown client');
  if (body.client_secret !== undefined) {
    if (!(await checkSecret(c, body.client_secret))) throw invalidClient('client authentication failed');
    return { client: c, method: 'client_secret_post' };
  }
  if (!isPublic(c)) throw invalidClient('this client must authenticate');
  return { client: c, method: 'none' };
}

function usable(k: JWK, alg: string, kid: string | undefined): boolean {
  if (kid !== undefined && k.kid !== kid) return false;
  if (k.use !== undefined && k.use !== 'sig') return false;
  if (k.alg !== undefined && k.alg !== alg) return false;
  if (alg.startsWith('RS')) return k.kty === 'RSA';
  return k.kty === 'EC' && k.crv === 'P-384';
}

async function clientKeys(rt: AuthRuntime, c: ClientRecord, alg: string, kid: string | undefined, jku: string | undefined): Promise<JWK[]> {
  if (c.jwks) return c.jwks.keys.filter((k) => usable(k as JWK, alg, kid)) as JWK[];
  if (!c.jwksUrl) throw invalidClient('this client has no registered keys');
  // SMART Backend Services: a `jku` header must name the registered JWKS URL.
  if (jku !== undefined && jku !== c.jwksUrl) throw invalidClient('jku is not the registered JWKS URL');
  let keys = (await rt.clientJwks.get(c.jwksUrl)).filter((k) => usable(k, alg, kid));
  if (keys.length === 0) keys = (await rt.clientJwks.get(c.jwksUrl, true)).filter((k) => usable(k, alg, kid));
  return keys;
}

// Imported client keys by their JSON (EC key import validates the point: ~0.5 ms, worth keeping).
const imported = new Map<string, Promise<Awaited<ReturnType<typeof importJWK>>>>();
function importKey(k: JWK, alg: string): Promise<Awaited<ReturnType<typeof importJWK>>> {
  const id = `${alg}\u0000${JSON.stringify(k)}`;
  let p = imported.get(id);
  if (!p) {
    if (imported.size > 1000) imported.clear();
    p = importJWK(k, alg);
    imported.set(id, p);
    p.catch(() => imported.delete(id));
  }
  return p;
}

async function verifyAssertion(rt: AuthRuntime, tenant: string, assertion: string, bodyClientId: string | undefined): Promise<ClientRecord> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw invalidClient('client_assertion is not a JWT');
  }
  const alg = header.alg ?? '';
  if (!ASSERTION_ALGS.includes(alg)) throw invalidClient(`client_assertion alg must be one of ${ASSERTION_ALGS.join(', ')}`);
  const id = claims.iss;
  if (typeof id !== 'string' || claims.sub !== id) throw invalidClient('client_assertion iss and sub must both be the client_id');
  if (CONTROL.test(id)) throw invalidClient('client_assertion iss holds a control character');
  if (bodyClientId !== undefined && bodyClientId !== id) throw invalidClient('client_id does not match the assertion');
  const c = await getClient(rt.db, tenant, id);
  if (!c) throw invalidClient('unknown client');
  let keys: JWK[];
  try {
    keys = await clientKeys(rt, c, alg, header.kid, typeof header.jku === 'string' ? header.jku : undefined);
  } catch (e) {
    if (e instanceof OAuthError) throw e;
    throw invalidClient(`the client's JWKS could not be used: ${(e as Error).message}`);
  }
  if (keys.length === 0) throw invalidClient('no registered key matches the assertion kid and alg');
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'] | undefined;
  for (const k of keys) {
    try {
      const key = await importKey(k, alg);
      ({ payload } = await jwtVerify(assertion, key, { algorithms: [alg], issuer: id, subject: id, audience: rt.tokenUrl, requiredClaims: ['exp', 'jti'], clockTolerance: SKEW }));
      break;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw invalidClient(`client_assertion rejected: ${(e as Error).message}`);
    }
  }
  if (!payload) throw invalidClient('client_assertion signature does not verify');
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! > now + MAX_EXP_AHEAD + SKEW) throw invalidClient('client_assertion exp is more than 5 minutes ahead');
  if (CONTROL.test(String(payload.jti))) throw invalidClient('client_assertion jti holds a control character');
  if (!(await useJti(rt.db, id, String(payload.jti), new Date((payload.exp! + SKEW) * 1000)))) throw invalidClient('client_assertion jti was already used');
  return c;
}
