// A migrated test database with a loader that writes resources the way the write path does
// (fhir.resource row + writeIndex in one transaction), for search tests that need no HTTP server.
import type { Resource } from 'fhir/r4';
import { createTestDatabase } from '../../helpers/server.js';
import { createPool, type Pool } from '../../../src/store/pool.js';
import { migrate } from '../../../src/store/migrate.js';
import { withTx, type Db, type DbContext } from '../../../src/store/session.js';
import { extractIndex } from '../../../src/search/extract.js';
import { writeIndex } from '../../../src/store/search-index.js';

export interface SearchDb { db: Db; pool: Pool; ctx: DbContext; load(resources: Resource[], tenant?: string): Promise<void>; stop(): Promise<void> }

export async function startSearchDb(): Promise<SearchDb> {
  const database = await createTestDatabase();
  const pool = createPool(database.url, 4);
  await migrate(pool);
  const db: Db = { pool };
  const ctx: DbContext = { tenant: 'default', role: 'system', scopes: 'system/*.cruds' };
  let seq = 0;
  const load = async (resources: Resource[], tenant = 'default') => {
    await withTx(db, { ...ctx, tenant }, async (tx) => {
      for (let i = 0; i < resources.length; i += 500) {
        const chunk = resources.slice(i, i + 500);
        const stamped = chunk.map((r) => {
          seq++;
          const lastUpdated = r.meta?.lastUpdated ?? new Date(Date.UTC(2024, 0, 1) + seq * 1000).toISOString();
          return { ...r, meta: { ...r.meta, versionId: '1', lastUpdated } } as Resource;
        });
        const indexes = stamped.map((r) => extractIndex(r));
        const ins = await tx.query<{ rid: string }>(
          `insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content)
           select $1, t, i, 1, lu::timestamptz, string_to_array(c, ' '), j
           from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) with ordinality as u(t, i, lu, c, j, n) order by n returning rid`,
          [tenant, stamped.map((r) => r.resourceType), stamped.map((r) => r.id), stamped.map((r) => r.meta!.lastUpdated),
            indexes.map((x) => x.compartments.join(' ')), stamped.map((r) => JSON.stringify(r))],
        );
        await writeIndex(tx, ins.rows.map((row, k) => ({ rid: row.rid, tenant, type: stamped[k].resourceType, index: indexes[k] })));
      }
    });
    // What autovacuum does on a live server: planner statistics for the freshly loaded rows.
    await pool.query('analyze fhir.resource, fhir.sp_token, fhir.sp_string, fhir.sp_reference, fhir.sp_date, fhir.sp_number, fhir.sp_composite');
  };
  return { db, pool, ctx, load, stop: async () => { await pool.end(); await database.drop(); } };
}
