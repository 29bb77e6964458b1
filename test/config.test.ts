// Configuration rules that protect production: audit and auth can only be switched off together, never in production.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';

test('audit is on unless AUDIT=off, which only a development server (AUTH=off) accepts', () => {
  assert.equal(loadConfig({}).audit, true);
  assert.equal(loadConfig({ AUTH: 'off', AUDIT: 'off' }).audit, false);
  assert.equal(loadConfig({ AUTH: 'off' }).audit, true);
  assert.throws(() => loadConfig({ AUDIT: 'off' }), /AUTH=off/);
  assert.throws(() => loadConfig({ AUTH: 'off', AUDIT: 'off', NODE_ENV: 'production' }), /production/);
});

test('group commit: one shared transaction at a time for reads, two for searches; 0 turns both off unless searches say otherwise', () => {
  const slots = (env: NodeJS.ProcessEnv) => { const c = loadConfig(env); return [c.groupSlots, c.searchGroupSlots]; };
  assert.deepEqual(slots({}), [1, 2]);
  assert.deepEqual(slots({ PG_GROUP_SLOTS: '3' }), [3, 2]);
  assert.deepEqual(slots({ PG_GROUP_SLOTS: '0' }), [0, 0]);
  assert.deepEqual(slots({ PG_GROUP_SLOTS: '0', PG_SEARCH_GROUP_SLOTS: '1' }), [0, 1]);
  assert.deepEqual(slots({ PG_SEARCH_GROUP_SLOTS: '1' }), [1, 1]);
});
