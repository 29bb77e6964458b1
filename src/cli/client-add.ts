// `fhirgate client add --id ID [--secret S | --jwks-file F | --jwks-url U] [--redirect-uri URI]…
// [--scope "S …"] [--role ROLE]` (../shared/CONTRACT.md): register or replace a SMART client.
// No secret and no keys = public; --secret = confidential symmetric (stored as scrypt);
// keys = confidential asymmetric / backend service (public JWKs only, RS384/ES384). system/ scopes
// need keys (SMART Backend Services): a warning otherwise.
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { upsertClient } from '../store/auth-clients.js';
import { hashSecret } from '../auth/passwords.js';
import { isKnownScope, parseResourceScope, splitScopes } from '../auth/scopes.js';
import { parseFlags } from './auth-args.js';

const ROLES = ['clinician', 'patient', 'researcher', 'auditor', 'admin', 'system'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function readJwks(file: string): { keys: Array<Record<string, unknown>> } {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: Array<Record<string, unknown>> };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('--jwks-file must hold a JWK Set with keys');
  // Only public members are registered: a private key given by mistake is not stored.
  return { keys: parsed.keys.map((k) => Object.fromEntries(Object.entries(k).filter(([n]) => !PRIVATE_MEMBERS.includes(n)))) };
}

export async function run(args: string[], deps: { db: Db; config: Config; tenant?: string; warn?: (line: string) => void }): Promise<Record<string, unknown>> {
  const warn = deps.warn ?? ((line: string) => void process.stderr.write(`warning: ${line}\n`));
  const { one, all } = parseFlags(args, { single: ['id', 'secret', 'jwks-file', 'jwks-url', 'scope', 'role', 'tenant'], repeat: ['redirect-uri'] });
  const id = one.id;
  if (!id || !/^[A-Za-z0-9._~:\-]{1,128}$/.test(id)) throw new Error('--id is required (letters, digits, . _ ~ : -)');
  const credentials = ['secret', 'jwks-file', 'jwks-url'].filter((k) => one[k] !== undefined);
  if (credentials.length > 1) throw new Error('use only one of --secret, --jwks-file, --jwks-url');
  if (one.role !== undefined && !ROLES.includes(one.role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const redirectUris = all['redirect-uri'] ?? [];
  for (const u of redirectUris) {
    const url = new URL(u);
    if (url.hash) throw new Error('a redirect URI must not contain a fragment');
  }
  if (one['jwks-url']) {
    const u = new URL(one['jwks-url']);
    if (u.protocol !== 'https:' && !['localhost', '127.0.0.1'].includes(u.hostname)) throw new Error('--jwks-url must use https');
  }
  const scopes = splitScopes(one.scope);
  const unknown = scopes.filter((s) => !isKnownScope(s));
  if (unknown.length) throw new Error(`unknown scope: ${unknown.join(' ')}`);
  // system/ scopes are a backend service's (SMART Backend Services): "Use of the client credentials grant
  // type requires that the client SHALL be a 'confidential' client", registered with public keys
  // (client-confidential-asymmetric); the token endpoint grants system/ scopes only after private_key_jwt,
  // and the authorization endpoint never does. A client without keys can never use them: said on stderr,
  // and registered as given (the contract registers any client its flags describe).
  const system = scopes.filter((s) => parseResourceScope(s)?.context === 'system');
  if (system.length && !one['jwks-file'] && !one['jwks-url']) {
    warn(`system/ scopes (${system.join(' ')}) are for backend services, which authenticate with keys (--jwks-file or --jwks-url); this client cannot use them`);
  }
  const tenant = one.tenant ?? deps.tenant ?? 'default';
  await upsertClient(deps.db, {
    tenant, id, redirectUris, scopes: scopes.join(' '), role: one.role,
    secretHash: one.secret !== undefined ? await hashSecret(one.secret) : undefined,
    jwks: one['jwks-file'] ? readJwks(one['jwks-file']) : undefined,
    jwksUrl: one['jwks-url'],
  });
  const type = one.secret !== undefined ? 'confidential-symmetric' : credentials.length ? 'confidential-asymmetric' : 'public';
  return { client: id, tenant, type, redirectUris, scope: scopes.join(' '), ...(one.role ? { role: one.role } : {}) };
}
