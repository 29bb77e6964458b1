// Shared by the compliance tests: a server whose callers are chosen per request (the bearer is a
// base64url JSON AuthContext, so tests act as any role, tenant and patient without the SMART flow),
// and direct connections that switch into a request role exactly as session.ts does.
import pg from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { startTestServer, createTestDatabase, type TestServer } from '../helpers/server.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { migrate } from '../../src/store/migrate.js';
import type { AuthContext } from '../../src/auth/context.js';
import { unauthorized } from '../../src/errors.js';
import { setDeidSettings, loadDeidSettings } from '../../src/deid/settings.js';
import { call as plainCall, type Reply } from '../helpers/http.js';

export const DEID_KEY = 'compliance-test-key-0123456789abcdef';

/** A fixed de-identification key for the test process (never the repository's data dir). */
export function useTestDeidKey(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-compliance-'));
  setDeidSettings(loadDeidSettings({ DEID_HMAC_KEY: DEID_KEY }, dataDir));
  return dataDir;
}

export function bearer(ctx: Partial<AuthContext>): string {
  const full: AuthContext = { tenant: 'default', role: 'system', scopes: [], ...ctx };
  return `Bearer ${Buffer.from(JSON.stringify(full)).toString('base64url')}`;
}

export async function startRoleServer(env: Record<string, string> = {}): Promise<TestServer & { dataDir: string }> {
  const dataDir = useTestDeidKey();
  const server = await startTestServer({
    authOff: false,
    env: { DATA_DIR: dataDir, ...env },
    configure: () => ({
      authenticate: async (authorization: string | undefined, address: string | undefined) => {
        const m = /^Bearer (.+)$/.exec(authorization ?? '');
        if (!m) throw unauthorized('test bearer required');
        return { ...(JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as AuthContext), address };
      },
    }),
  });
  return { ...server, dataDir };
}

export type { Reply } from '../helpers/http.js';

export async function call(server: TestServer, ctx: Partial<AuthContext>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return plainCall(server.fhirBase, method, path, body === undefined ? undefined : JSON.stringify(body), { authorization: bearer(ctx), ...headers });
}

export const SYSTEM = { role: 'system' as const, scopes: ['system/*.cruds'], clientId: 'test-backend' };

/** A direct connection (the test database's owner) for SQL as any request role. */
export async function ownerClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

export interface AsRole {
  role: string;
  tenant?: string;
  patient?: string;
  scopes?: string;
}

/**
 * Runs `fn` in a transaction switched to a request role, with the given settings (or none), then rolls
 * back. Errors inside are returned, not thrown, so a test can assert a refusal and continue.
 */
export async function asRole<T>(c: pg.Client, who: AsRole, fn: () => Promise<T>): Promise<T | Error> {
  await c.query('begin');
  try {
    await c.query(`set local role fhirgate_${who.role}`);
    if (who.tenant !== undefined) await c.query(`select set_config('fhirgate.tenant', $1, true)`, [who.tenant]);
    if (who.patient !== undefined) await c.query(`select set_config('fhirgate.patient', $1, true)`, [who.patient]);
    if (who.scopes !== undefined) await c.query(`select set_config('fhirgate.scopes', $1, true)`, [who.scopes]);
    return await fn();
  } catch (e) {
    return e as Error;
  } finally {
    await c.query('rollback');
  }
}

export async function count(c: pg.Client, sql: string, values: unknown[] = []): Promise<number> {
  const r = await c.query(`select count(*)::int as n from (${sql}) q`, values);
  return r.rows[0].n as number;
}

/**
 * A fresh migrated database for one test file (registers its before/after hooks): a pool of 8 for the
 * store's functions and an owner connection for direct SQL, both ready inside the tests.
 */
export function useMigratedDatabase(): { readonly url: string; readonly pool: Pool; readonly c: pg.Client } {
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let pool: Pool | undefined;
  let c: pg.Client | undefined;
  before(async () => {
    database = await createTestDatabase();
    pool = createPool(database.url, 8);
    await migrate(pool);
    c = await ownerClient(database.url);
  });
  after(async () => {
    await c?.end();
    await pool?.end();
    await database?.drop();
  });
  return { get url() { return database!.url; }, get pool() { return pool!; }, get c() { return c!; } };
}
