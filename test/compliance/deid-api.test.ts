// The de-identified boundary through the real server: every write maintains the copy in its
// transaction; researcher tokens read it by pseudonymous id through the normal read URLs, references
// resolve, identified ids do not, writes are refused; key rotation rebuilds; the k-anonymity report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { Pseudonyms } from '../../src/deid/pseudonym.js';
import { keyIdOf, loadDeidSettings, rotateDeidKey, setDeidSettings, deidSettings } from '../../src/deid/settings.js';
import { rebuildDeid, writeDeidCopies } from '../../src/deid/copy.js';
import { withTx } from '../../src/store/session.js';
import { run as deidReport } from '../../src/cli/deid-report.js';
import type { Config } from '../../src/config.js';
import { startRoleServer, call, ownerClient, SYSTEM, DEID_KEY } from './helpers.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
let server: Server;
let c: pg.Client;
const researcher = { role: 'researcher' as const, scopes: ['user/*.rs'], userId: 'res-1', clientId: 'study-app' };
const pseudo = (type: string, id: string) => new Pseudonyms(Buffer.from(DEID_KEY), keyIdOf(Buffer.from(DEID_KEY)), 'default').id(type, id);
let pat: string;
let obs: string;

before(async () => {
  server = await startRoleServer();
  c = await ownerClient(server.adminUrl);
  pat = (await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Secretname' }], birthDate: '1961-04-05', gender: 'female',
    address: [{ line: ['1 Hidden Way'], city: 'Cambridge', state: 'MA', postalCode: '02139' }], telecom: [{ system: 'phone', value: '555-867-5309' }] })).json.id;
  obs = (await call(server, SYSTEM, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }] },
    subject: { reference: `Patient/${pat}`, display: 'Secretname' }, effectiveDateTime: '2019-05-06T07:08:09Z', valueQuantity: { value: 9.4, unit: '%' } })).json.id;
});
after(async () => {
  await c?.end();
  await server?.stop();
});

test('researchers read the de-identified copy by pseudonym; references resolve', async () => {
  const p = await call(server, researcher, 'GET', `Patient/${pseudo('Patient', pat)}`);
  assert.equal(p.status, 200, p.text);
  for (const phi of ['Secretname', 'Hidden Way', 'Cambridge', '555-867-5309', '1961-04-05', pat]) assert.ok(!p.text.includes(phi), phi);
  assert.equal(p.json.birthDate, '1961');
  assert.deepEqual(p.json.address, [{ state: 'MA', postalCode: '021' }]);
  const o = await call(server, researcher, 'GET', `Observation/${pseudo('Observation', obs)}`);
  assert.equal(o.json.effectiveDateTime, '2019');
  assert.deepEqual(o.json.valueQuantity, { value: 9.4, unit: '%' });
  const subject = await call(server, researcher, 'GET', o.json.subject.reference);
  assert.equal(subject.status, 200);
  assert.equal(subject.json.id, p.json.id);
  assert.equal((await call(server, researcher, 'GET', `Observation/${pseudo('Observation', obs)}/_history/1`)).status, 200);
});

test('researchers never reach identified data and cannot write', async () => {
  assert.equal((await call(server, researcher, 'GET', `Patient/${pat}`)).status, 404, 'identified ids are unknown on the de-identified side');
  const post = await call(server, researcher, 'POST', 'Patient', { resourceType: 'Patient' });
  assert.equal(post.status, 403);
  assert.match(post.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/, 'a write is beyond any researcher token (RFC 6750 §3.1)');
  assert.equal((await call(server, researcher, 'PUT', `Patient/${pseudo('Patient', pat)}`, { resourceType: 'Patient', id: pseudo('Patient', pat) })).status, 403);
  assert.equal((await call(server, researcher, 'DELETE', `Patient/${pseudo('Patient', pat)}`)).status, 403);
  assert.equal((await call(server, researcher, 'GET', `Patient/${pseudo('Patient', pat)}/_history`)).status, 403);
  const tx = await call(server, researcher, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'GET', url: `Patient/${pat}` } }] });
  assert.ok(tx.status >= 400 && !tx.text.includes('Secretname'));
  assert.equal((await call(server, { ...researcher, scopes: ['user/Observation.rs'] }, 'GET', `Patient/${pseudo('Patient', pat)}`)).status, 403, 'type grants apply');
  assert.equal((await call(server, { ...researcher, tenant: 'other' }, 'GET', `Patient/${pseudo('Patient', pat)}`)).status, 404, 'tenant wall');
});

test('the copy follows every write in the same transaction: update, delete', async () => {
  await call(server, SYSTEM, 'PUT', `Patient/${pat}`, { resourceType: 'Patient', id: pat, name: [{ family: 'Secretname' }], birthDate: '1961-04-05', gender: 'other' });
  const v2 = await call(server, researcher, 'GET', `Patient/${pseudo('Patient', pat)}`);
  assert.equal(v2.json.meta.versionId, '2');
  assert.equal(v2.json.gender, 'other');
  const tmp = (await call(server, SYSTEM, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${pat}` } })).json.id;
  assert.equal((await call(server, researcher, 'GET', `Observation/${pseudo('Observation', tmp)}`)).status, 200);
  await call(server, SYSTEM, 'DELETE', `Observation/${tmp}`);
  assert.equal((await call(server, researcher, 'GET', `Observation/${pseudo('Observation', tmp)}`)).status, 404);
  const failed = await call(server, SYSTEM, 'POST', 'Observation', { resourceType: 'Observation', status: 'not-a-status' });
  assert.ok(failed.status >= 400);
  const n = await c.query(`select count(*)::int as n from deid.resource where tenant = 'default'`);
  const m = await c.query(`select count(*)::int as n from fhir.resource where tenant = 'default' and not deleted`);
  assert.equal(n.rows[0].n, m.rows[0].n, 'one copy per live resource');
});

test('the importer\'s bulk form writes one copy per resource in one statement', async () => {
  const v1 = { resourceType: 'Observation', id: 'bulk-1', meta: { versionId: '1' }, status: 'final', code: { text: 'Secretname' }, subject: { reference: `Patient/${pat}` } };
  await withTx(server.db, { tenant: 'default', role: 'system', scopes: 'system/*.cruds' }, (tx) => writeDeidCopies(tx, [
    { content: JSON.stringify(v1), version: 1, compartments: [`Patient/${pat}`] },
    { content: { ...v1, meta: { versionId: '2' }, status: 'amended' }, version: 2, compartments: [`Patient/${pat}`] },
  ]));
  const r = await call(server, researcher, 'GET', `Observation/${pseudo('Observation', 'bulk-1')}`);
  assert.equal(r.json.status, 'amended');
  assert.equal(r.json.subject.reference, `Patient/${pseudo('Patient', pat)}`);
  assert.ok(!r.text.includes('Secretname'));
  await c.query(`delete from deid.resource where id = $1`, [pseudo('Observation', 'bulk-1')]);
});

test('fhirgate deid report: k-anonymity over birth year, sex and ZIP3', async () => {
  for (let i = 0; i < 3; i++) await call(server, SYSTEM, 'POST', 'Patient', { resourceType: 'Patient', birthDate: '1980-01-01', gender: 'male', address: [{ postalCode: '10001' }] });
  const out = await deidReport(['--k', '3'], { db: server.db, config: { dataDir: server.dataDir } as Config, tenant: 'default' });
  // The first patient (1961, other, no address after its update) is alone in its class; the three are k=3.
  assert.equal(out.patients, 4);
  assert.equal(out.smallestK, 1);
  assert.equal(out.belowK, 1);
  assert.equal(out.classes, 2);
  assert.equal(out.kAnonymous, false);
});

test('HMAC key rotation: the copy is rebuilt with new pseudonyms, old ones stop resolving', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-deid-key-'));
  writeFileSync(join(dir, 'deid.key'), DEID_KEY);
  const before = loadDeidSettings({ DEID_HMAC_KEY_FILE: join(dir, 'deid.key') }, dir);
  assert.equal(before.keyId, deidSettings().keyId);
  const after = rotateDeidKey(before);
  assert.notEqual(after.keyId, before.keyId);
  const r = await rebuildDeid(server.db, 'default', after);
  setDeidSettings(after);
  assert.ok(r.copied >= 5 && r.removed >= 5);
  assert.equal((await call(server, researcher, 'GET', `Patient/${pseudo('Patient', pat)}`)).status, 404);
  const renamed = new Pseudonyms(after.key, after.keyId, 'default').id('Patient', pat);
  assert.equal((await call(server, researcher, 'GET', `Patient/${renamed}`)).status, 200);
  const keys = await c.query(`select distinct key_id from deid.resource where tenant = 'default'`);
  assert.deepEqual(keys.rows.map((x) => x.key_id), [after.keyId]);
});
