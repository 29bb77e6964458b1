// Signing keys of the authorization server (schema `auth`): one `current` key signs, `previous`
// keys stay in the JWKS until tokens they signed have expired. Generated on first start.
import type { Db } from './session.js';

export interface KeyRecord {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  status: 'current' | 'previous' | 'retired';
}

export async function publishedKeys(db: Db): Promise<KeyRecord[]> {
  const r = await db.pool.query(`select kid, alg, private_jwk, public_jwk, status from auth.signing_keys where status <> 'retired' order by created_at desc`);
  return r.rows.map((x) => ({ kid: x.kid, alg: x.alg, privateJwk: x.private_jwk, publicJwk: x.public_jwk, status: x.status }));
}

/** Inserts `key` as current unless another process already made one; returns whether it was stored. */
export async function insertFirstKey(db: Db, key: Omit<KeyRecord, 'status'>): Promise<boolean> {
  const r = await db.pool.query(
    `insert into auth.signing_keys (kid, alg, private_jwk, public_jwk, status) values ($1, $2, $3, $4, 'current') on conflict do nothing`,
    [key.kid, key.alg, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk)],
  );
  return (r.rowCount ?? 0) > 0;
}

/** Rotation: previous → retired, current → previous, `key` → current, in one transaction. */
export async function rotateKeys(db: Db, key: Omit<KeyRecord, 'status'>): Promise<void> {
  const c = await db.pool.connect();
  try {
    await c.query('begin');
    await c.query(`update auth.signing_keys set status = 'retired' where status = 'previous'`);
    await c.query(`update auth.signing_keys set status = 'previous' where status = 'current'`);
    await c.query(`insert into auth.signing_keys (kid, alg, private_jwk, public_jwk, status) values ($1, $2, $3, $4, 'current')`,
      [key.kid, key.alg, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk)]);
    await c.query('commit');
  } catch (e) {
    await c.query('rollback').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
