// PKCE (RFC 7636) as SMART App Launch 2.2 requires it: S256 only ("plain" is refused), verifier of
// 43–128 unreserved characters (§4.1), challenge = BASE64URL(SHA256(ASCII(verifier))) (§4.2).
import { createHash, timingSafeEqual } from 'node:crypto';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export function validChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Whether `verifier` matches the S256 `challenge` recorded with the code. */
export function verifyPkce(challenge: string, verifier: string | undefined): boolean {
  if (!verifier || !VERIFIER.test(verifier)) return false;
  const a = Buffer.from(s256(verifier));
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}
