// The precomputed scope type lists (src/store/scope-types.ts) must mean exactly what the policies'
// own parser, ctx.scope_types (migrations/030_rls.sql), means: compared over many scope strings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase } from '../helpers/server.js';
import { createPool } from '../../src/store/pool.js';
import { migrate } from '../../src/store/migrate.js';
import { withTx } from '../../src/store/session.js';
import { scopeTypes } from '../../src/store/scope-types.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let client: pg.Client;
before(async () => {
  db = await createTestDatabase();
  const pool = createPool(db.url, 2);
  await migrate(pool);
  await pool.end();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
after(async () => {
  await client?.end();
  await db?.drop();
});

const SCOPES = [
  '', 'openid fhirUser launch/patient', 'patient/*.read', 'patient/*.rs', 'user/*.cruds', 'system/*.*', 'system/*.write',
  'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory',
  'patient/Observation.read?category=x', 'user/Patient.r user/Observation.s', 'user/Patient.cu system/Encounter.d',
  'patient/Condition.rs patient/Observation.rs?category=a|b patient/Patient.r', 'user/lowercase.rs', 'user/Patient.sr',
  'patient/Patient.rs  user/Encounter.cruds\tsystem/Observation.read', 'user/*.', 'user/Patient.rsx', 'system/Binary.cruds?x=1',
];
const CONTEXTS = [['user'], ['patient'], ['system'], ['patient', 'user'], ['user', 'system']];

test('scopeTypes agrees with ctx.scope_types for every scope string, permission set and context', async () => {
  let compared = 0;
  for (const scopes of SCOPES) {
    for (const perms of ['rs', 'cu', 'ud', 'r', 's', 'c', 'd']) {
      for (const contexts of CONTEXTS) {
        const r = await client.query('select ctx.scope_types($1, $2, $3) as t', [scopes, perms, contexts]);
        assert.deepEqual(scopeTypes(scopes, perms, contexts), r.rows[0].t, `${scopes} / ${perms} / ${contexts}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 500);
});

test('inside a request transaction ctx.types returns the precomputed lists, and the same as the parser', async () => {
  const pool = createPool(db.url, 2);
  try {
    const scopes = 'user/Patient.rs user/Observation.cruds patient/Condition.rs';
    const got = await withTx({ pool }, { tenant: 'default', role: 'clinician', scopes }, async (tx) => {
      const r = await tx.query<{ pre: string | null; t: string[]; parsed: string[] }>(
        `select current_setting('fhirgate.types_rs_user', true) as pre, ctx.types('rs', '{user}') as t, ctx.scope_types($1, 'rs', '{user}') as parsed`, [scopes]);
      return r.rows[0];
    });
    assert.equal(got.pre, 'Observation,Patient');
    assert.deepEqual(got.t, got.parsed);
    const none = await withTx({ pool }, { tenant: 'default', role: 'clinician', scopes: 'openid' }, async (tx) =>
      (await tx.query<{ t: string[] }>(`select ctx.types('cu', '{patient}') as t`)).rows[0].t);
    assert.deepEqual(none, []);
  } finally {
    await pool.end();
  }
});
