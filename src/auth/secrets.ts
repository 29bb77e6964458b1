// Random, URL-safe values for codes, tokens, session and launch ids (base64url of 32 random bytes:
// no `+`, `/`, `=` or `%`, so they survive unencoded form bodies, see Inferno's introspection test),
// and the SHA-256 under which the database keeps them.
import { createHash, randomBytes } from 'node:crypto';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
