// `fhirgate import` (../shared/CONTRACT.md "Command line"): transaction/collection Bundles, NDJSON and
// folders; urn:uuid rewriting; --keep-ids dedup; history on changed re-imports; malformed input reported
// with file and line while the rest is stored; imported resources stored exactly like REST-created ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { useServerAndDir } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { run } from '../../src/cli/import.js';

const fx = useServerAndDir('fhirgate-import-');

const deps = () => ({ db: fx.server.db, config: fx.server.config, tenant: 'default' });
const file = (name: string, content: unknown) => {
  const path = join(fx.dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
  return path;
};
const sql = async (text: string, values: unknown[] = []) => (await fx.server.db.pool.query(text, values)).rows;
const idOf = (ref: string) => ref.split('/')[1];

const org = { resourceType: 'Organization', id: 'org-shared-1', name: 'Shared Clinic' };
function patientBundle(n: number, extra: Record<string, unknown> = {}) {
  const p = `urn:uuid:00000000-0000-4000-8000-00000000000${n}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${org.id}`, resource: org, request: { method: 'POST', url: 'Organization' } },
      { fullUrl: p, resource: { resourceType: 'Patient', id: p.slice(9), name: [{ family: `Imported${n}` }], gender: 'female', managingOrganization: { reference: `urn:uuid:${org.id}` }, ...extra }, request: { method: 'POST', url: 'Patient' } },
      { fullUrl: `urn:uuid:10000000-0000-4000-8000-00000000000${n}`, resource: { resourceType: 'Observation', id: `10000000-0000-4000-8000-00000000000${n}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] }, subject: { reference: p }, valueQuantity: { value: 170 + n, unit: 'cm' } }, request: { method: 'POST', url: 'Observation' } },
    ],
  };
}

test('a transaction Bundle: urn:uuid references become the new ids; readable over HTTP; index rows written', async () => {
  const r = await run(['--workers', '1', file('tx/one.json', patientBundle(1))], deps());
  assert.equal(r.resources, 3);
  assert.equal(r.rejected, 0);
  assert.equal(typeof r.seconds, 'number');
  const [obs] = await sql(`select id, content from fhir.resource where type = 'Observation' and content like '%"value":171%'`);
  const o = JSON.parse(obs.content);
  assert.notEqual(o.id, '10000000-0000-4000-8000-000000000001', 'without --keep-ids the fx.server assigns ids');
  assert.match(o.subject.reference, /^Patient\/[0-9a-f-]{36}$/);
  const read = await call(fx.server.fhirBase, 'GET', `Observation/${obs.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.json.meta.versionId, '1');
  assert.equal(read.headers.get('etag'), 'W/"1"');
  const pat = await call(fx.server.fhirBase, 'GET', o.subject.reference);
  assert.equal(pat.status, 200);
  assert.equal(pat.json.name[0].family, 'Imported1');
  assert.match(pat.json.managingOrganization.reference, /^Organization\//);
  const [{ compartments }] = await sql(`select compartments from fhir.resource where id = $1`, [obs.id]);
  assert.deepEqual(compartments, [o.subject.reference]);
  const [{ n }] = await sql(`select count(*)::int as n from fhir.sp_token t join fhir.resource r using (rid) where r.id = $1`, [obs.id]);
  assert.ok(n > 0, 'search index rows exist for the imported Observation');
});

test('imported resources are stored like REST-created ones: same text shape and index rows', async () => {
  const body = { resourceType: 'Patient', meta: { tag: [{ system: 'urn:t', code: 'x' }] }, name: [{ family: 'Same', given: ['Shape'] }], birthDate: '1970-01-02', gender: 'other' };
  const rest = await call(fx.server.fhirBase, 'PUT', 'Patient/shape-rest', { ...body, id: 'shape-rest' });
  assert.equal(rest.status, 201);
  const r = await run(['--workers', '0', file('shape.ndjson', JSON.stringify({ ...body, id: 'shape-imp' }) + '\n')], deps());
  assert.equal(r.created, 1);
  const rows = await sql(`select id, content, compartments from fhir.resource where id in ('shape-rest', 'shape-imp') order by id`);
  const norm = (c: string, id: string) => c.replace(id, 'ID').replace(/"lastUpdated":"[^"]+"/, '"lastUpdated":"T"');
  assert.equal(norm(rows[0].content, 'shape-imp'), norm(rows[1].content, 'shape-rest'));
  assert.deepEqual(rows[0].compartments, ['Patient/shape-imp']);
  const index = async (id: string) =>
    (await sql(`select t.p::text || ':' || coalesce(t.c, '') as k from fhir.sp_token t join fhir.resource r using (rid) where r.id = $1 order by 1`, [id])).map((x) => x.k);
  const imported = await index('shape-imp');
  assert.ok(imported.length > 0);
  assert.deepEqual(imported, await index('shape-rest'));
  // Both got their de-identified copy (the researcher's view), written in the same transaction.
  const copies = async () => (await sql(`select count(*)::int as n from deid.resource where type = 'Patient'`))[0].n as number;
  const before = await copies();
  await run(['--workers', '0', file('shape2.ndjson', JSON.stringify({ ...body, id: 'shape-imp-2' }))], deps());
  assert.equal(await copies(), before + 1);
});

test('a folder of a collection Bundle, NDJSON and a lone resource; NDJSON keeps ids', async () => {
  file('folder/a-collection.json', {
    resourceType: 'Bundle', type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Coll' }] } },
      { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000001' } } },
    ],
  });
  file('folder/b-lines.ndjson', [
    { resourceType: 'Patient', id: 'nd-1', name: [{ family: 'Line' }] },
    { resourceType: 'Observation', id: 'nd-obs-1', status: 'final', code: { text: 'y' }, subject: { reference: 'Patient/nd-1' } },
  ].map((x) => JSON.stringify(x)).join('\n') + '\n');
  file('folder/nested/c-lone.json', { resourceType: 'Practitioner', name: [{ family: 'Lone' }] });
  file('folder/ignored.txt', 'not imported');
  const r = await run(['--workers', '0', join(fx.dir, 'folder')], deps());
  assert.equal(r.files, 3);
  assert.equal(r.resources, 5);
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Patient/nd-1')).status, 200);
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Observation/nd-obs-1')).json.subject.reference, 'Patient/nd-1');
  const [obs] = await sql(`select content from fhir.resource where type = 'Observation' and content like '%"text":"x"%'`);
  const [pat] = await sql(`select id from fhir.resource where type = 'Patient' and content like '%"Coll"%'`);
  assert.equal(JSON.parse(obs.content).subject.reference, `Patient/${pat.id}`);
});

test('--keep-ids: an Organization repeated in every bundle stays one resource with one version', async () => {
  const r = await run(['--keep-ids', '--workers', '1', file('keep/p2.json', patientBundle(2)), file('keep/p3.json', patientBundle(3))], deps());
  assert.equal(r.rejected, 0);
  assert.equal(r.created, 5, JSON.stringify(r));
  assert.equal(r.unchanged, 1);
  const hist = await call(fx.server.fhirBase, 'GET', `Organization/${org.id}/_history`);
  assert.equal(hist.json.total, 1);
  const p2 = await call(fx.server.fhirBase, 'GET', 'Patient/00000000-0000-4000-8000-000000000002');
  assert.equal(p2.status, 200, 'the bundle id is kept');
  assert.equal(p2.json.managingOrganization.reference, `Organization/${org.id}`);
  // Importing the same files again changes nothing.
  const again = await run(['--keep-ids', join(fx.dir, 'keep')], deps());
  assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 6]);
});

test('re-importing changed content makes a new version and keeps the old one in history', async () => {
  const path = file('hist/p.ndjson', JSON.stringify({ resourceType: 'Patient', id: 'hist-1', gender: 'male' }) + '\n');
  await run(['--workers', '0', path], deps());
  file('hist/p.ndjson', JSON.stringify({ resourceType: 'Patient', id: 'hist-1', gender: 'female' }) + '\n');
  const r = await run(['--workers', '0', path], deps());
  assert.equal(r.updated, 1);
  const cur = await call(fx.server.fhirBase, 'GET', 'Patient/hist-1');
  assert.equal(cur.json.meta.versionId, '2');
  assert.equal(cur.json.gender, 'female');
  const v1 = await call(fx.server.fhirBase, 'GET', 'Patient/hist-1/_history/1');
  assert.equal(v1.json.gender, 'male');
  // The same id twice in one file: successive versions, in order.
  file('hist/twice.ndjson', ['other', 'unknown'].map((g) => JSON.stringify({ resourceType: 'Patient', id: 'hist-1', gender: g })).join('\n'));
  await run(['--workers', '0', join(fx.dir, 'hist/twice.ndjson')], deps());
  const last = await call(fx.server.fhirBase, 'GET', 'Patient/hist-1');
  assert.equal(last.json.meta.versionId, '4');
  assert.equal(last.json.gender, 'unknown');
  // One resource per transaction, two transactions at a time: later lines are still later versions.
  const genders = Array.from({ length: 12 }, (_, i) => ['male', 'female', 'female', 'other'][i % 4]);
  file('hist/many.ndjson', genders.map((g, i) => JSON.stringify({ resourceType: 'Patient', id: 'hist-2', gender: g, ...(i === 11 ? { active: true } : {}) })).join('\n'));
  const many = await run(['--workers', '0', '--batch-size', '1', '--writers', '2', join(fx.dir, 'hist/many.ndjson')], deps());
  assert.deepEqual([many.created, many.updated, many.unchanged], [1, 8, 3]);
  const final = await call(fx.server.fhirBase, 'GET', 'Patient/hist-2');
  assert.equal(final.json.meta.versionId, '9');
  assert.equal(final.json.active, true);
  const versions = (await sql(`select content from fhir.resource_history where id = 'hist-2' order by version`)).map((r) => JSON.parse(r.content).gender);
  assert.deepEqual(versions, ['male', 'female', 'other', 'male', 'female', 'other', 'male', 'female']);
});

test('a malformed JSON file and a bad NDJSON line are reported with file and line; the rest is imported', async () => {
  const bad = file('bad/a-broken.json', '{\n  "resourceType": "Patient",\n  "name": [ { "family": "X" } ,, ]\n}\n');
  const lines = file('bad/b-lines.ndjson', [
    JSON.stringify({ resourceType: 'Patient', id: 'ok-line-1' }),
    '{"resourceType": "Patient", "id": "broken-line"',
    JSON.stringify({ resourceType: 'Patient', id: 'ok-line-3' }),
    JSON.stringify({ resourceType: 'Patient', id: 'control-line', name: [{ family: 'a\u0001b' }] }),
  ].join('\n'));
  file('bad/c-good.json', { resourceType: 'Patient', id: 'after-bad', name: [{ family: 'After' }] });
  const r = await run(['--workers', '1', join(fx.dir, 'bad')], deps());
  const problems = r.problems as Array<{ file: string; line?: number; message: string }>;
  assert.equal(r.resources, 3);
  assert.equal(r.rejected, 3);
  assert.ok(problems.some((p) => p.file === bad && p.line === 3 && /malformed JSON/.test(p.message)), JSON.stringify(problems));
  assert.ok(problems.some((p) => p.file === lines && p.line === 2), JSON.stringify(problems));
  assert.ok(problems.some((p) => p.file === lines && p.line === 4 && /control character/.test(p.message)), JSON.stringify(problems));
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Patient/ok-line-3')).status, 200);
});

test('an invalid entry rejects its transaction Bundle whole, but only itself in a collection', async () => {
  const invalid = { resourceType: 'Patient', gender: 'robot', birthDate: 'yesterday' };
  const tx = patientBundle(4);
  tx.entry.push({ fullUrl: 'urn:uuid:bad', resource: invalid as never, request: { method: 'POST', url: 'Patient' } });
  const txPath = file('invalid/tx.json', tx);
  const collPath = file('invalid/coll.json', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'coll-ok' } }, { resource: invalid }] });
  const r = await run(['--keep-ids', '--workers', '0', txPath, collPath], deps());
  const problems = r.problems as Array<{ file: string; entry?: number; message: string }>;
  assert.ok(problems.some((p) => p.file === txPath && p.entry === 3 && /transaction Bundle rejected/.test(p.message)), JSON.stringify(problems));
  assert.ok(problems.some((p) => p.file === collPath && p.entry === 1), JSON.stringify(problems));
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Patient/00000000-0000-4000-8000-000000000004')).status, 404);
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Patient/coll-ok')).status, 200);
  assert.equal(r.rejected, 5);
});

test('--tenant: resources land in that tenant only', async () => {
  const path = file('tenant/p.ndjson', JSON.stringify({ resourceType: 'Patient', id: 'tenant-p1' }));
  const r = await run([path], { ...deps(), tenant: 'clinic-b' });
  assert.equal(r.created, 1);
  assert.deepEqual((await sql(`select tenant from fhir.resource where id = 'tenant-p1'`)).map((x) => x.tenant), ['clinic-b']);
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Patient/tenant-p1')).status, 404, 'not visible in the default tenant');
});

test('PUT entries update their id; the command prints the contract JSON', async () => {
  const path = file('put/tx.json', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: { resourceType: 'Patient', name: [{ family: 'Put' }] }, request: { method: 'PUT', url: 'Patient/put-1' } },
  ] });
  const out = spawnSync(process.execPath, ['bin/fhirgate.js', 'import', path], {
    env: { ...process.env, DATABASE_URL: fx.server.adminUrl, LOG_LEVEL: 'silent', PUBLIC_URL: fx.server.baseUrl }, encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  const printed = JSON.parse(out.stdout);
  assert.equal(printed.resources, 1);
  assert.equal(typeof printed.seconds, 'number');
  // Read back through SQL: the child ran long enough for the test fx.server's keep-alive sockets to close.
  const [stored] = await sql(`select content from fhir.resource where type = 'Patient' and id = 'put-1'`);
  assert.equal(JSON.parse(stored.content).name[0].family, 'Put');
  const missing = spawnSync(process.execPath, ['bin/fhirgate.js', 'import', join(fx.dir, 'nope')], { env: { ...process.env, DATABASE_URL: fx.server.adminUrl }, encoding: 'utf8' });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /no such file/);
});
