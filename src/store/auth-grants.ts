// Authorization codes, grants, refresh tokens, revocations and used client-assertion jti values
// (schema `auth`). Codes and refresh tokens are stored as SHA-256 hashes; codes are single-use.
import type { Db } from './session.js';
import type { PoolClient } from './pool.js';

export async function createCode(db: Db, codeHash: string, tenant: string, clientId: string, data: unknown, seconds: number): Promise<void> {
  await db.pool.query(
    `insert into auth.codes (code_hash, tenant, client_id, grant_data, expires_at) values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [codeHash, tenant, clientId, JSON.stringify(data), seconds],
  );
}

export type CodeUse<T> =
  | { kind: 'ok'; tenant: string; clientId: string; data: T }
  | { kind: 'replayed'; grantId?: string }
  | { kind: 'unknown' };

/** Marks the code used in the same statement that reads it, so two exchanges cannot both win. */
/**
 * Marks the code used and names, in the same statement, the grant its use will create: a replay, even one
 * racing the first use, then always finds the grant to revoke (RFC 6749 §4.1.2).
 */
export async function useCode<T>(db: Db, codeHash: string, grantId: string): Promise<CodeUse<T>> {
  const r = await db.pool.query(
    `update auth.codes set used_at = now(), grant_id = $2 where code_hash = $1 and used_at is null and expires_at > now()
     returning tenant, client_id, grant_data`,
    [codeHash, grantId],
  );
  if (r.rows[0]) return { kind: 'ok', tenant: r.rows[0].tenant, clientId: r.rows[0].client_id, data: r.rows[0].grant_data as T };
  const seen = await db.pool.query('select grant_id, used_at from auth.codes where code_hash = $1', [codeHash]);
  await db.pool.query(`delete from auth.codes where expires_at < now() - interval '1 day'`);
  if (seen.rows[0]?.used_at) return { kind: 'replayed', grantId: seen.rows[0].grant_id ?? undefined };
  return { kind: 'unknown' };
}

/** True when `id` (a grant or a token) has been revoked, as every process sees it. */
export async function isRevoked(db: Db, id: string): Promise<boolean> {
  return ((await db.pool.query('select 1 from auth.revocations where id = $1', [id])).rowCount ?? 0) > 0;
}

export interface GrantRecord<T = unknown> { id: string; tenant: string; clientId: string; data: T; revoked: boolean }

export async function createGrant(db: Db, id: string, tenant: string, clientId: string, data: unknown): Promise<void> {
  await db.pool.query('insert into auth.grants (id, tenant, client_id, data) values ($1, $2, $3, $4)', [id, tenant, clientId, JSON.stringify(data)]);
}

export async function getGrant<T>(db: Db, id: string): Promise<GrantRecord<T> | undefined> {
  const r = await db.pool.query('select id, tenant, client_id, data, revoked_at from auth.grants where id = $1', [id]);
  const x = r.rows[0];
  return x ? { id: x.id, tenant: x.tenant, clientId: x.client_id, data: x.data as T, revoked: x.revoked_at !== null } : undefined;
}

export async function createRefreshToken(db: Db, tokenHash: string, grantId: string, scopes: string, expiresAt: Date): Promise<void> {
  await db.pool.query('insert into auth.refresh_tokens (token_hash, grant_id, scopes, expires_at) values ($1, $2, $3, $4)', [tokenHash, grantId, scopes, expiresAt]);
}

export interface RefreshRecord { grantId: string; scopes: string; expiresAt: Date; rotated: boolean; expired: boolean }

export async function getRefreshToken(db: Db, tokenHash: string): Promise<RefreshRecord | undefined> {
  const r = await db.pool.query(
    'select grant_id, scopes, expires_at, rotated_at, expires_at <= now() as expired from auth.refresh_tokens where token_hash = $1', [tokenHash]);
  const x = r.rows[0];
  return x ? { grantId: x.grant_id, scopes: x.scopes, expiresAt: new Date(x.expires_at), rotated: x.rotated_at !== null, expired: x.expired } : undefined;
}

/** Rotation: the old refresh token stops working; true when this call rotated it (not a concurrent one). */
export async function rotateRefreshToken(db: Db, tokenHash: string): Promise<boolean> {
  const r = await db.pool.query('update auth.refresh_tokens set rotated_at = now() where token_hash = $1 and rotated_at is null', [tokenHash]);
  return (r.rowCount ?? 0) > 0;
}

/** Revokes a grant (its refresh tokens and access tokens), recording the id until `expiresAt`, and tells other processes. */
export async function revokeGrant(db: Db, grantId: string, accessExpiresAt: Date): Promise<void> {
  await db.pool.query('update auth.grants set revoked_at = coalesce(revoked_at, now()) where id = $1', [grantId]);
  await db.pool.query('update auth.refresh_tokens set rotated_at = coalesce(rotated_at, now()) where grant_id = $1', [grantId]);
  await addRevocation(db, grantId, accessExpiresAt);
}

export const REVOCATION_CHANNEL = 'fhirgate_revocation';

export async function addRevocation(db: Db, id: string, expiresAt: Date): Promise<void> {
  await db.pool.query(
    `insert into auth.revocations (id, expires_at) values ($1, $2) on conflict (id) do update set expires_at = greatest(auth.revocations.expires_at, excluded.expires_at)`,
    [id, expiresAt],
  );
  await db.pool.query('select pg_notify($1, $2)', [REVOCATION_CHANNEL, id]);
}

export async function activeRevocations(db: Db): Promise<string[]> {
  await db.pool.query('delete from auth.revocations where expires_at < now()');
  const r = await db.pool.query('select id from auth.revocations');
  return r.rows.map((x) => x.id as string);
}

/**
 * Listens for revocations made by other processes; `onId` gets each id, `onReset` is called after a
 * reconnect (ids may have been missed). Returns a function that stops listening.
 */
export async function listenRevocations(db: Db, onId: (id: string) => void, onReset: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: PoolClient | undefined;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    try {
      const c = await db.pool.connect();
      client = c;
      c.on('notification', (n) => { if (n.channel === REVOCATION_CHANNEL && n.payload) onId(n.payload); });
      // `on`, not `once`: a second error (e.g. the database shutting down after a reconnect attempt) must
      // not become an unhandled 'error' event that ends the process.
      c.on('error', () => {
        if (client !== c) return; // already released by stop(), or handled
        client = undefined;
        c.release(true);
        if (!stopped) setTimeout(() => void connect().then(onReset), 1000).unref();
      });
      await c.query(`listen ${REVOCATION_CHANNEL}`);
    } catch {
      if (!stopped) setTimeout(() => void connect().then(onReset), 1000).unref();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    const c = client;
    client = undefined;
    if (c) {
      c.on('error', () => {}); // a late error from a released client must not crash the process
      await c.query(`unlisten ${REVOCATION_CHANNEL}`).catch(() => {});
      c.release();
    }
  };
}

/** Records a client assertion's jti; false when the same client already used it (a replay). */
export async function useJti(db: Db, clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
  const r = await db.pool.query(
    `with gc as (delete from auth.used_jti where ctid in (select ctid from auth.used_jti where expires_at < now() limit 100))
     insert into auth.used_jti (client_id, jti, expires_at) values ($1, $2, $3) on conflict do nothing`,
    [clientId, jti, expiresAt],
  );
  return (r.rowCount ?? 0) > 0;
}
