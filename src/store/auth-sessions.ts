// Browser sessions, pending authorization requests and EHR launch contexts (schema `auth`). Every
// id is a random value handed to the browser or app; only its SHA-256 is stored.
import { withTx, type Db } from './session.js';

export interface SessionRecord { tenant: string; userId: string }

/** A session whose last use is older than `idleSeconds` is gone (and deleted). Touching renews it. */
export async function touchSession(db: Db, idHash: string, idleSeconds: number): Promise<SessionRecord | undefined> {
  const r = await db.pool.query(
    `update auth.sessions set last_seen = now()
      where id_hash = $1 and last_seen > now() - make_interval(secs => $2)
      returning tenant, user_id`,
    [idHash, idleSeconds],
  );
  if (!r.rows[0]) {
    await db.pool.query('delete from auth.sessions where id_hash = $1 or last_seen < now() - interval \'1 day\'', [idHash]);
    return undefined;
  }
  return { tenant: r.rows[0].tenant as string, userId: r.rows[0].user_id as string };
}

export async function createSession(db: Db, idHash: string, tenant: string, userId: string): Promise<void> {
  await db.pool.query('insert into auth.sessions (id_hash, tenant, user_id) values ($1, $2, $3)', [idHash, tenant, userId]);
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.pool.query('delete from auth.sessions where id_hash = $1', [idHash]);
}

export interface PendingRecord<R = unknown, S = unknown> {
  tenant: string;
  browser: string;
  request: R;
  state: S;
}

export async function createPending(db: Db, idHash: string, tenant: string, browser: string, request: unknown, seconds: number): Promise<void> {
  await db.pool.query(
    `insert into auth.pending (id_hash, tenant, browser, request, expires_at) values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [idHash, tenant, browser, JSON.stringify(request), seconds],
  );
}

export async function getPending<R, S>(db: Db, idHash: string): Promise<PendingRecord<R, S> | undefined> {
  const r = await db.pool.query('select tenant, browser, request, state from auth.pending where id_hash = $1 and expires_at > now()', [idHash]);
  return r.rows[0] as PendingRecord<R, S> | undefined;
}

export async function updatePendingState(db: Db, idHash: string, state: unknown): Promise<void> {
  await db.pool.query('update auth.pending set state = $2 where id_hash = $1', [idHash, JSON.stringify(state)]);
}

/** Ends a pending request; true when this call ended it (a double submit finds it gone). */
export async function deletePending(db: Db, idHash: string): Promise<boolean> {
  const r = await db.pool.query('delete from auth.pending where id_hash = $1', [idHash]);
  await db.pool.query('delete from auth.pending where expires_at < now()');
  return (r.rowCount ?? 0) > 0;
}

export interface LaunchRecord { tenant: string; patient: string; encounter?: string; username?: string }

export async function createLaunch(db: Db, idHash: string, l: LaunchRecord, seconds: number): Promise<void> {
  await db.pool.query(
    `insert into auth.launch_contexts (id_hash, tenant, patient, encounter, username, expires_at)
     values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [idHash, l.tenant, l.patient, l.encounter ?? null, l.username ?? null, seconds],
  );
  await db.pool.query('delete from auth.launch_contexts where expires_at < now()');
}

export async function getLaunch(db: Db, idHash: string): Promise<LaunchRecord | undefined> {
  const r = await db.pool.query('select tenant, patient, encounter, username from auth.launch_contexts where id_hash = $1 and expires_at > now()', [idHash]);
  const x = r.rows[0];
  return x ? { tenant: x.tenant, patient: x.patient, encounter: x.encounter ?? undefined, username: x.username ?? undefined } : undefined;
}

// The patient picker reads clinical data, so it runs as the signed-in clinician with the one scope it
// needs (row-level security applies).

/** Patients a clinician may pick from: id and stored JSON, first `limit` by id. */
export async function listPatients(db: Db, tenant: string, actor: string, limit: number): Promise<Array<{ id: string; content: string }>> {
  return withTx(db, { tenant, role: 'clinician', actor, scopes: 'user/Patient.rs' }, async (tx) => {
    const r = await tx.query<{ id: string; content: string }>(
      `select id, content from fhir.resource where tenant = $1 and type = 'Patient' and not deleted order by id limit $2`, [tenant, limit]);
    return r.rows;
  }, { readOnly: true });
}

export async function patientExists(db: Db, tenant: string, actor: string, id: string): Promise<boolean> {
  return withTx(db, { tenant, role: 'clinician', actor, scopes: 'user/Patient.rs' }, async (tx) => {
    const r = await tx.query(`select 1 from fhir.resource where tenant = $1 and type = 'Patient' and id = $2 and not deleted`, [tenant, id]);
    return r.rowCount > 0;
  }, { readOnly: true });
}

/**
 * For `fhirgate launch` (the operator acting for the tenant, as a backend service would): whether the
 * launch patient is a current, undeleted Patient of the tenant, and the launch encounter (if any) a
 * current, undeleted Encounter in that patient's compartment.
 */
export async function launchContextStored(db: Db, tenant: string, patient: string, encounter?: string): Promise<{ patient: boolean; encounter: boolean }> {
  return withTx(db, { tenant, role: 'system', actor: 'fhirgate-cli', scopes: 'system/Patient.rs system/Encounter.rs' }, async (tx) => {
    const p = await tx.query(`select 1 from fhir.resource where tenant = $1 and type = 'Patient' and id = $2 and not deleted`, [tenant, patient]);
    if (encounter === undefined) return { patient: p.rowCount > 0, encounter: true };
    const e = await tx.query(
      `select 1 from fhir.resource where tenant = $1 and type = 'Encounter' and id = $2 and not deleted and compartments @> array[$3::text]`,
      [tenant, encounter, `Patient/${patient}`]);
    return { patient: p.rowCount > 0, encounter: e.rowCount > 0 };
  }, { readOnly: true });
}
