// CONTRACT "Start": the environment variables the contract names, their defaults and effects, and how an
// invalid value is reported (README "Configuration"): the start stops, naming the variable, rather than
// quietly using another port, pool size or public URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startArgs } from '../../scripts/start-args.js';

test('defaults: HOST 127.0.0.1, PORT 8080, PUBLIC_URL http://localhost:$PORT, FHIR base $PUBLIC_URL/fhir, DATA_DIR ./.data, embedded database, auth on', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.publicUrl, 'http://localhost:8080');
  assert.equal(c.fhirBase, 'http://localhost:8080/fhir');
  assert.equal(c.dataDir, resolve('./.data'));
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.authOff, false);
  assert.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined, 'an empty DATABASE_URL is unset');
});

test('effects: PORT moves the default PUBLIC_URL; PUBLIC_URL (trailing slash dropped) sets the FHIR base; HOST, DATA_DIR, DATABASE_URL are taken as given', () => {
  assert.equal(loadConfig({ PORT: '9123' }).publicUrl, 'http://localhost:9123');
  const c = loadConfig({ PORT: '9123', HOST: '0.0.0.0', PUBLIC_URL: 'https://fhir.example.org/gw/', DATA_DIR: '/tmp/x', DATABASE_URL: 'postgres://u@h/db' });
  assert.equal(c.port, 9123);
  assert.equal(c.host, '0.0.0.0');
  assert.equal(c.publicUrl, 'https://fhir.example.org/gw');
  assert.equal(c.fhirBase, 'https://fhir.example.org/gw/fhir');
  assert.equal(c.dataDir, '/tmp/x');
  assert.equal(c.databaseUrl, 'postgres://u@h/db');
  assert.equal(loadConfig({ AUTH: 'off' }).authOff, true);
});

test('invalid numbers and URLs are refused, naming the variable', () => {
  for (const [name, value] of [
    ['PORT', 'abc'], ['PORT', '8080abc'], ['PORT', '80.5'], ['PORT', '70000'], ['PORT', '-1'],
    ['PG_POOL_SIZE', '0'], ['PG_POOL_SIZE', 'many'], ['MAX_BODY_BYTES', '32MB'], ['EMBEDDED_PG_PORT', '99999'],
    ['PG_GROUP_SLOTS', 'x'], ['SEARCH_CHAIN_TARGETS', '1e3'], ['EMBEDDED_PG_SHARED_BUFFERS_MB', '1GB'],
  ]) {
    assert.throws(() => loadConfig({ [name]: value }), (e: Error) => e.message.startsWith(`${name} must be a whole number`) && e.message.includes(`'${value}'`), `${name}=${value}`);
  }
  for (const value of ['localhost:8080', 'fhir.example.org', 'ftp://fhir.example.org', 'https://fhir.example.org/?a=1', 'not a url']) {
    assert.throws(() => loadConfig({ PUBLIC_URL: value }), /^Error: PUBLIC_URL must be an absolute http/, value);
  }
  // Whole numbers with surrounding blanks, and 0 for PORT (any free port), stay accepted.
  assert.equal(loadConfig({ PORT: ' 8081 ' }).port, 8081);
  assert.equal(loadConfig({ PORT: '0', PUBLIC_URL: 'http://127.0.0.1:1' }).port, 0);
  assert.equal(loadConfig({ PG_POOL_SIZE: '4' }).poolSize, 4);
});

test('npm start with an invalid PORT exits non-zero with a JSON log line naming it, before opening any database', () => {
  const out = spawnSync(process.execPath, startArgs, {
    env: { ...process.env, PORT: '80eighty', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'info' }, encoding: 'utf8', timeout: 20_000,
  });
  assert.notEqual(out.status, 0);
  const lines = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => /PORT must be a whole number/.test(JSON.stringify(l))), out.stdout + out.stderr);
});

test('the fhirgate command with an invalid PUBLIC_URL: one line on stderr naming it, nothing on stdout, exit 1', () => {
  const out = spawnSync(process.execPath, ['bin/fhirgate.js', 'migrate'], {
    env: { ...process.env, PUBLIC_URL: 'fhir.example.org', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 20_000,
  });
  assert.equal(out.status, 1);
  assert.equal(out.stdout, '');
  assert.match(out.stderr, /^fhirgate: PUBLIC_URL must be an absolute http:\/\/ or https:\/\/ URL[^\n]*\n$/);
});
