// Applies migrations/NNN_name.sql in order, each in its own transaction, under an advisory lock so a
// server and a CLI starting together never race. Idempotent: applied files are recorded and skipped;
// an applied file whose text changed is refused rather than silently re-run.
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import type { Pool } from './pool.js';
import { assertRolesGrantable, ROLE_GRANTING } from './migrate-roles.js';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');
const LOCK_KEY = 0x66686972; // 'fhir'

export interface MigrationResult { applied: string[]; total: number }

export async function migrate(pool: Pool, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = readdirSync(dir).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`create table if not exists public.fhirgate_migrations (
      name text primary key, checksum text not null, applied_at timestamptz not null default now())`);
    const done = new Map((await client.query('select name, checksum from public.fhirgate_migrations')).rows.map((r) => [r.name as string, r.checksum as string]));
    if (files.some((f) => ROLE_GRANTING.has(f) && !done.has(f))) await assertRolesGrantable(client);
    for (const file of files) {
      const sql = readFileSync(join(dir, file), 'utf8');
      const sum = createHash('sha256').update(sql).digest('hex');
      const prior = done.get(file);
      if (prior !== undefined) {
        if (prior !== sum) throw new Error(`migration ${file} was changed after it was applied`);
        continue;
      }
      await client.query('begin');
      try {
        await client.query(sql);
        await client.query('insert into public.fhirgate_migrations (name, checksum) values ($1, $2)', [file, sum]);
        await client.query('commit');
      } catch (e) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(e as Error).message}`);
      }
      applied.push(file);
    }
    return { applied, total: files.length };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    client.release();
  }
}

export async function migrationsApplied(pool: Pool, dir = MIGRATIONS_DIR): Promise<boolean> {
  const files = readdirSync(dir).filter((f) => /^\d{3}_.+\.sql$/.test(f));
  try {
    const r = await pool.query('select count(*)::int as n from public.fhirgate_migrations');
    return r.rows[0].n >= files.length;
  } catch {
    return false;
  }
}
