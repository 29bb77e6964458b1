// The embedded cluster's cache (src/store/embedded.ts): a quarter of the memory by default, within bounds,
// and the size asked for is the one PostgreSQL runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { defaultSharedBuffersMb, startEmbedded } from '../../src/store/embedded.js';
import { createLogger } from '../../src/log.js';
import { loadConfig } from '../../src/config.js';

test('shared_buffers defaults to a quarter of the memory, at least 128 MB and at most 8 GB', () => {
  const mb = defaultSharedBuffersMb();
  assert.equal(mb, Math.max(128, Math.min(8192, Math.floor(totalmem() / 4 / 2 ** 20))));
  assert.ok(mb >= 128 && mb <= 8192);
});

test('EMBEDDED_PG_SHARED_BUFFERS_MB sets it; unset leaves the default', () => {
  assert.equal(loadConfig({}).embeddedPgSharedBuffersMb, undefined);
  assert.equal(loadConfig({ EMBEDDED_PG_SHARED_BUFFERS_MB: '256' }).embeddedPgSharedBuffersMb, 256);
  // The message names the variable and the value (test/contract/config-env.test.ts pins the wording for all).
  assert.throws(() => loadConfig({ EMBEDDED_PG_SHARED_BUFFERS_MB: 'lots' }), /EMBEDDED_PG_SHARED_BUFFERS_MB must be a whole number.*'lots'/);
});

test('an embedded cluster runs with the size it was started with', async () => {
  // Its own cluster: the suite's shared one (TEST_PG_URL, scripts/run-tests.mjs) is not started by startEmbedded.
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-sb-'));
  const h = await startEmbedded(dir, createLogger('silent'), { sharedBuffersMb: 144 });
  const client = new pg.Client({ connectionString: h.url });
  try {
    await client.connect();
    assert.equal((await client.query('show shared_buffers')).rows[0].shared_buffers, '144MB');
  } finally {
    await client.end().catch(() => {});
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
