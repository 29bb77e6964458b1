// Writes the authorization server's AuditEvents (src/audit/auth-events.ts) through the audit store.
// The auth tables are written outside any transaction, so each event is appended in its own short
// transaction right after the act (store/audit.ts appendAuditAlone), under role 'system' of the tenant.
// A grant or sign-in whose event cannot be written fails ("no audit row, no access"); a refusal whose
// event cannot be written is logged and the refusal still answered, never turned into a 500.
import { decodeJwt } from 'jose';
import { authAuditRows, type AuthEvent } from '../audit/auth-events.js';
import type { Actor } from '../audit/balp.js';
import { appendAuditAlone } from '../store/audit.js';
import type { Db } from '../store/session.js';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { OAuthError } from './oauth-error.js';

export type AuthEventIn = Omit<AuthEvent, 'server'>;

/** The audit source: this server, named by its FHIR base (as dispatch.ts does for REST events). */
function server(config: Pick<Config, 'fhirBase'>): AuthEvent['server'] {
  return { observer: 'fhirgate', address: config.fhirBase };
}

/** Appends the event; throws if it cannot be stored (for successes: no audit row, no access). */
export async function recordAuthEvent(deps: { db: Db; config: Pick<Config, 'fhirBase'> }, e: AuthEventIn): Promise<void> {
  const rows = authAuditRows({ ...e, server: server(deps.config) });
  await appendAuditAlone(deps.db, { tenant: e.actor.tenant, role: 'system', actor: e.actor.userId ?? e.actor.clientId }, rows);
}

/** The same for refusals, failures and lookups: an audit failure is logged, never thrown. */
export async function tryRecordAuthEvent(deps: { db: Db; config: Pick<Config, 'fhirBase'> }, e: AuthEventIn): Promise<void> {
  try {
    await recordAuthEvent(deps, e);
  } catch (err) {
    log.error({ err: { code: (err as { code?: string }).code, name: (err as Error).name }, kind: e.kind, status: e.status }, 'audit: an authentication refusal could not be recorded');
  }
}

const ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The client a token, introspection or revocation request claims to be, before (or whether or not)
 * it authenticated: client_id, the HTTP Basic user, or the client assertion's `iss` (decoded, not
 * verified: like the username of a failed sign-in, it is what the caller claimed). Never a secret.
 */
export function claimedClient(authorization: string | undefined, body: Record<string, string>): string | undefined {
  let id: string | undefined = body.client_id;
  if (!id && authorization?.startsWith('Basic ')) {
    const creds = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = creds.indexOf(':');
    if (colon > 0) {
      try {
        id = decodeURIComponent(creds.slice(0, colon));
      } catch {
        id = undefined;
      }
    }
  }
  if (!id && body.client_assertion) {
    try {
      const iss = decodeJwt(body.client_assertion).iss;
      id = typeof iss === 'string' ? iss : undefined;
    } catch {
      id = undefined;
    }
  }
  return id && ID.test(id) ? id : undefined;
}

/** HTTP status and an audit reason for a refusal: the OAuth error code and its description. */
export function refusalOf(e: unknown): { status: number; reason: string } {
  if (e instanceof OAuthError) return { status: e.status, reason: `${e.code}: ${e.message}` };
  return { status: 500, reason: 'server_error' };
}

/** An actor for the authorization server's events (no role until a user or grant is known). */
export function authActor(tenant: string, a: Omit<Actor, 'tenant' | 'role'> & { role?: string }): Actor {
  return { ...a, tenant, role: a.role ?? '' };
}
