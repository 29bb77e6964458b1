// SMART client registrations and user logins in schema `auth` (migrations/020_auth.sql), read and
// written by the connecting role directly: these are the authorization server's records, not clinical data.
import type { Db } from './session.js';

export interface ClientRecord {
  tenant: string;
  id: string;
  secretHash?: string;
  jwks?: { keys: Array<Record<string, unknown>> };
  jwksUrl?: string;
  redirectUris: string[];
  scopes: string;
  role?: string;
}

export interface UserRecord {
  tenant: string;
  id: string;
  username: string;
  passwordHash: string;
  role: string;
  fhirUser?: string;
  totpSecret?: string;
}

function client(r: Record<string, unknown>): ClientRecord {
  return {
    tenant: r.tenant as string,
    id: r.id as string,
    secretHash: (r.secret_hash as string | null) ?? undefined,
    jwks: (r.jwks as ClientRecord['jwks'] | null) ?? undefined,
    jwksUrl: (r.jwks_url as string | null) ?? undefined,
    redirectUris: r.redirect_uris as string[],
    scopes: r.scopes as string,
    role: (r.role as string | null) ?? undefined,
  };
}

export async function upsertClient(db: Db, c: ClientRecord): Promise<void> {
  await db.pool.query(
    `insert into auth.clients (tenant, id, secret_hash, jwks, jwks_url, redirect_uris, scopes, role)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (tenant, id) do update set secret_hash = excluded.secret_hash, jwks = excluded.jwks,
       jwks_url = excluded.jwks_url, redirect_uris = excluded.redirect_uris, scopes = excluded.scopes, role = excluded.role`,
    [c.tenant, c.id, c.secretHash ?? null, c.jwks ? JSON.stringify(c.jwks) : null, c.jwksUrl ?? null, c.redirectUris, c.scopes, c.role ?? null],
  );
}

export async function getClient(db: Db, tenant: string, id: string): Promise<ClientRecord | undefined> {
  const r = await db.pool.query('select * from auth.clients where tenant = $1 and id = $2', [tenant, id]);
  return r.rows[0] ? client(r.rows[0]) : undefined;
}

/** Redirect URIs of every client of the tenant (the launcher only sends browsers to their origins). */
export async function allRedirectUris(db: Db, tenant: string): Promise<string[]> {
  const r = await db.pool.query('select unnest(redirect_uris) as u from auth.clients where tenant = $1', [tenant]);
  return r.rows.map((x) => x.u as string);
}

function user(r: Record<string, unknown>): UserRecord {
  return {
    tenant: r.tenant as string,
    id: r.id as string,
    username: r.username as string,
    passwordHash: r.password_hash as string,
    role: r.role as string,
    fhirUser: (r.fhir_user as string | null) ?? undefined,
    totpSecret: (r.totp_secret as string | null) ?? undefined,
  };
}

/** Creates or replaces a login; a replaced login keeps its id (the id_token `sub`). */
export async function upsertUser(db: Db, u: Omit<UserRecord, 'id'> & { id: string }): Promise<UserRecord> {
  const r = await db.pool.query(
    `insert into auth.users (tenant, id, username, password_hash, role, fhir_user, totp_secret)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (tenant, username) do update set password_hash = excluded.password_hash, role = excluded.role,
       fhir_user = excluded.fhir_user, totp_secret = excluded.totp_secret
     returning *`,
    [u.tenant, u.id, u.username, u.passwordHash, u.role, u.fhirUser ?? null, u.totpSecret ?? null],
  );
  await db.pool.query('delete from auth.login_attempts where tenant = $1 and username = $2', [u.tenant, u.username]);
  return user(r.rows[0]);
}

export async function getUserByName(db: Db, tenant: string, username: string): Promise<UserRecord | undefined> {
  const r = await db.pool.query('select * from auth.users where tenant = $1 and username = $2', [tenant, username]);
  return r.rows[0] ? user(r.rows[0]) : undefined;
}

export async function getUserById(db: Db, tenant: string, id: string): Promise<UserRecord | undefined> {
  const r = await db.pool.query('select * from auth.users where tenant = $1 and id = $2', [tenant, id]);
  return r.rows[0] ? user(r.rows[0]) : undefined;
}

/** Records the accepted TOTP time step; false when it (or a later one) was already used. */
export async function useTotpStep(db: Db, tenant: string, userId: string, step: number): Promise<boolean> {
  const r = await db.pool.query('update auth.users set totp_last_step = $3 where tenant = $1 and id = $2 and totp_last_step < $3', [tenant, userId, step]);
  return (r.rowCount ?? 0) > 0;
}

export interface LockState { failures: number; lockedSeconds: number }

export async function lockState(db: Db, tenant: string, username: string): Promise<LockState> {
  const r = await db.pool.query(
    `select failures, greatest(0, extract(epoch from locked_until - now()))::int as locked
       from auth.login_attempts where tenant = $1 and username = $2`,
    [tenant, username],
  );
  return r.rows[0] ? { failures: r.rows[0].failures as number, lockedSeconds: r.rows[0].locked as number } : { failures: 0, lockedSeconds: 0 };
}

/** Counts a failed sign-in; at `lockAfter` failures the account is locked for `lockSeconds` and the count restarts. */
export async function recordFailure(db: Db, tenant: string, username: string, lockAfter: number, lockSeconds: number): Promise<LockState> {
  const r = await db.pool.query(
    `insert into auth.login_attempts as a (tenant, username, failures, last_failure) values ($1, $2, 1, now())
     on conflict (tenant, username) do update set failures = a.failures + 1, last_failure = now()
     returning failures`,
    [tenant, username],
  );
  const failures = r.rows[0].failures as number;
  if (failures >= lockAfter) {
    await db.pool.query(
      `update auth.login_attempts set failures = 0, locked_until = now() + make_interval(secs => $3) where tenant = $1 and username = $2`,
      [tenant, username, lockSeconds],
    );
    return { failures, lockedSeconds: lockSeconds };
  }
  return { failures, lockedSeconds: 0 };
}

export async function clearFailures(db: Db, tenant: string, username: string): Promise<void> {
  await db.pool.query('delete from auth.login_attempts where tenant = $1 and username = $2', [tenant, username]);
}
