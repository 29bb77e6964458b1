// The embedded cluster's cache (src/store/embedded.ts): a quarter of the memory by default, within bounds,
// and the size asked for is the one PostgreSQL runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import pg from 'pg';
import { defaultSharedBuffersMb } from '../../src/store/embedded.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase } from '../helpers/server.js';

test('shared_buffers defaults to a quarter of the memory, at least 128 MB and at most 8 GB', () => {
  const mb = defaultSharedBuffersMb();
  assert.equal(mb, Math.max(128, Math.min(8192, Math.floor(totalmem() / 4 / 2 ** 20))));
  assert.ok(mb >= 128 && mb <= 8192);
});

test('EMBEDDED_PG_SHARED_BUFFERS_MB sets it; unset leaves the default', () => {
  assert.equal(loadConfig({}).embeddedPgSharedBuffersMb, undefined);
  assert.equal(loadConfig({ EMBEDDED_PG_SHARED_BUFFERS_MB: '256' }).embeddedPgSharedBuffersMb, 256);
  assert.throws(() => loadConfig({ EMBEDDED_PG_SHARED_BUFFERS_MB: 'lots' }), /not a number/);
});

test('the embedded cluster runs with the size it was started with', { skip: process.env.TEST_PG_URL ? 'TEST_PG_URL: not an embedded cluster' : false }, async () => {
  const database = await createTestDatabase(); // test/helpers/server.ts starts it with 128 MB
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    assert.equal((await client.query('show shared_buffers')).rows[0].shared_buffers, '128MB');
  } finally {
    await client.end();
    await database.drop();
  }
});
