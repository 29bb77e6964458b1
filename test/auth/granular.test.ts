// Granular scopes (SMART App Launch 2.2 "Finer-grained resource constraints using search parameters";
// Inferno G1/G2): a search returns only resources matching a granted constraint, and a read of a
// resource outside every granted constraint is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSmartServer, type SmartServer } from './helpers/smart-server.js';
import { seed, systemToken, fhirGet, type Fixture } from './helpers/fixtures.js';
import { run as clientAdd } from '../../src/cli/client-add.js';

const OBS = 'http://terminology.hl7.org/CodeSystem/observation-category';
let s: SmartServer;
let fx: Fixture;
let token: string;

before(async () => {
  s = await startSmartServer();
  fx = await seed(s, 'http://127.0.0.1:1/redirect');
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-gran-'));
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [fx.rs384.publicJwk] }));
  const scope = `system/Observation.rs?category=${OBS}|laboratory system/Patient.rs`;
  await clientAdd(['--id', 'granular', '--jwks-file', jwks, '--scope', scope], { db: s.db, config: s.config });
  token = await systemToken(s, 'granular', fx.rs384, scope);
});
after(async () => s?.stop());

test('a search returns only resources inside the granted category', async () => {
  const r = await fhirGet(s, 'Observation', token);
  assert.equal(r.status, 200);
  const ids = (r.json.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
  assert.deepEqual(ids, ['o-lab', 'o-p2']);
  const vitals = await fhirGet(s, `Observation?category=${encodeURIComponent(`${OBS}|vital-signs`)}`, token);
  assert.equal((vitals.json.entry ?? []).length, 0);
});

test('a read outside the granted category is 403 with an OperationOutcome; inside it is 200', async () => {
  assert.equal((await fhirGet(s, 'Observation/o-lab', token)).status, 200);
  const denied = await fhirGet(s, 'Observation/o-vital', token);
  assert.equal(denied.status, 403);
  assert.equal(denied.json.resourceType, 'OperationOutcome');
  // RFC 6750 §3.1: the token lacks the privileges, so the challenge names insufficient_scope.
  assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer realm="fhirgate", error="insufficient_scope"/);
});

test('a type without any granted scope is 403, never an empty Bundle', async () => {
  const r = await fhirGet(s, 'Condition', token);
  assert.equal(r.status, 403);
  assert.equal(r.json.resourceType, 'OperationOutcome');
});
