// Several statements in one round trip (src/store/pipeline.ts): results per step, named statements parsed
// once per connection, and after a failing step the rest skipped, the error surfaced, the connection usable
// and a named statement the server never saw parsed again next time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase } from '../helpers/server.js';
import { createPool, type Pool, type PoolClient } from '../../src/store/pool.js';
import { runPipeline } from '../../src/store/pipeline.js';

let database: { url: string; drop: () => Promise<void> };
let pool: Pool;
let client: PoolClient;

before(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, 1);
  client = await pool.connect();
  await client.query('create table t (n int primary key)');
});

after(async () => {
  client.release();
  await pool.end();
  await database.drop();
});

test('each step answers in order; a named statement is parsed once per connection', async () => {
  const steps = [
    { name: 'p_add', text: 'select $1::int + $2::int as s', values: [2, 3] },
    { text: 'select $1::text as t, 42 as n', values: ['x'] },
    { name: 'p_many', text: 'select g from generate_series(1, $1::int) g', values: [3] },
  ];
  const r = await runPipeline(client, steps);
  assert.deepEqual(r.map((x) => x.rows), [[{ s: 5 }], [{ t: 'x', n: 42 }], [{ g: 1 }, { g: 2 }, { g: 3 }]]);
  assert.equal(r[2].rowCount, 3);
  const again = await runPipeline(client, [{ name: 'p_add', text: steps[0].text, values: [10, 1] }]);
  assert.deepEqual(again[0].rows, [{ s: 11 }]);
  // The server knows p_add: a plain prepared query by that name does not re-parse it.
  const direct = await client.query({ name: 'p_add', text: steps[0].text, values: [1, 1] });
  assert.deepEqual(direct.rows, [{ s: 2 }]);
});

test('inside BEGIN the pipeline does not commit; a failing step skips the rest and leaves the connection usable', async () => {
  await runPipeline(client, [{ name: 'p_begin', text: 'begin' }, { text: 'insert into t values (1)' }]);
  await assert.rejects(
    runPipeline(client, [{ text: 'insert into t values (1)' }, { name: 'p_never', text: 'insert into t values (2)' }]),
    (e: Error & { code?: string }) => e.code === '23505',
  );
  await client.query('rollback');
  assert.equal((await client.query('select count(*)::int as n from t')).rows[0].n, 0, 'nothing of the transaction stays');
  // p_never was skipped by the server, so it must be parsed again, not bound to a statement that does not exist.
  const r = await runPipeline(client, [{ name: 'p_never', text: 'insert into t values (2)' }, { text: 'select count(*)::int as n from t' }]);
  assert.equal(r[1].rows[0].n, 1);
});

test('a statement error in the first step is reported and nothing after it runs', async () => {
  await assert.rejects(runPipeline(client, [{ text: 'select 1/0' }, { text: 'insert into t values (3)' }]), /division by zero/);
  assert.equal((await client.query('select count(*)::int as n from t where n = 3')).rows[0].n, 0);
});
