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
