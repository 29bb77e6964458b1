// The de-identified search index in the database (migrations/040_deid_search_index.sql; patterns §2.1,
// §2.5-11, §2.6 "must-have tests"): a direct connection as fhirgate_researcher reads deid.* index tables
// of its tenant and scope types and nothing in schema fhir; writers reach the index only through
// deid.put_indexed and cannot read it back; the tenant wall holds for every new table. Also: the search
// compiler, given schema deid, names no identified table at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../helpers/server.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { migrate } from '../../src/store/migrate.js';
import { withTx, type DbRole } from '../../src/store/session.js';
import { writeDeidCopies, rebuildDeid } from '../../src/deid/copy.js';
import { deidSettings } from '../../src/deid/settings.js';
import { plan } from '../../src/search/plan.js';
import { pageQuery, countQuery, matchQuery, fastCountQuery } from '../../src/search/query.js';
import { includeQuery } from '../../src/search/include.js';
import { asRole, count, ownerClient, useTestDeidKey } from './helpers.js';

let db: { url: string; drop: () => Promise<void> };
let pool: Pool;
let c: pg.Client;
const TABLES = ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite'];
const MIGRATIONS = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', 'migrations');
const ROLES = ['clinician', 'patient', 'researcher', 'auditor', 'admin', 'system'];

async function write(tenant: string, role: DbRole, resources: object[]): Promise<void> {
  await withTx({ pool }, { tenant, role, scopes: role === 'system' ? 'system/*.cruds' : 'user/*.cruds' }, (tx) =>
    writeDeidCopies(tx, resources.map((r) => ({ content: { meta: { versionId: '1', lastUpdated: '2024-05-06T07:08:09Z' }, ...r }, version: 1,
      compartments: (r as { resourceType: string }).resourceType === 'Patient' ? [`Patient/${(r as { id: string }).id}`] : ['Patient/p1'] }))));
}

const patient = (id: string) => ({ resourceType: 'Patient', id, gender: 'female', birthDate: '1970-02-03', name: [{ family: 'Hidden' }] });
const obs = (id: string, code: string) => ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] },
  subject: { reference: 'Patient/p1' }, effectiveDateTime: '2020-01-02', valueQuantity: { value: 5, unit: 'mg' } });

before(async () => {
  useTestDeidKey();
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  await migrate(pool);
  c = await ownerClient(db.url);
  await write('t1', 'system', [patient('p1'), obs('o1', '4548-4'), obs('o2', '2345-7')]);
  await write('t2', 'clinician', [patient('p1'), obs('o1', '4548-4')]);
});
after(async () => {
  await c?.end();
  await pool?.end();
  await db?.drop();
});

const owner = async (sql: string, values: unknown[] = []) => (await c.query(`select count(*)::int as n from (${sql}) q`, values)).rows[0].n as number;

test('privileges: researchers select deid.* only; writers go through deid.put_indexed and cannot read back', async () => {
  for (const t of TABLES) {
    const r = (await c.query(`select has_table_privilege('fhirgate_researcher', $1, 'SELECT') as s,
      has_table_privilege('fhirgate_researcher', $1, 'INSERT,UPDATE,DELETE,TRUNCATE') as w`, [`deid.${t}`])).rows[0];
    assert.deepEqual(r, { s: true, w: false }, t);
    for (const role of ROLES.filter((x) => x !== 'researcher')) {
      const any = (await c.query(`select has_table_privilege($1, $2, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE') as p`, [`fhirgate_${role}`, `deid.${t}`])).rows[0].p;
      assert.equal(any, false, `${role} on deid.${t}`);
    }
  }
  const fn = await c.query(`select r, has_function_privilege(r, 'deid.index_delete(bigint[])', 'EXECUTE') as del,
      has_function_privilege(r, p.oid, 'EXECUTE') as put
    from unnest($1::text[]) r, pg_proc p where p.proname = 'put_indexed' and p.pronamespace = 'deid'::regnamespace order by r`, [ROLES.map((x) => `fhirgate_${x}`)]);
  const put = Object.fromEntries(fn.rows.map((x) => [x.r, x.put]));
  assert.deepEqual(put, { fhirgate_admin: false, fhirgate_auditor: false, fhirgate_clinician: true, fhirgate_patient: true, fhirgate_researcher: false, fhirgate_system: true });
  assert.ok(fn.rows.every((x) => x.del === false), 'only the writer deletes index rows');
  const old = await c.query(`select bool_or(has_function_privilege(r, 'deid.put(text, text, integer, text[], text, text, text, text, text)', 'EXECUTE')
      or has_function_privilege(r, 'deid.put_many(jsonb)', 'EXECUTE')) as any from unnest($1::text[]) r`, [ROLES.map((x) => `fhirgate_${x}`)]);
  assert.equal(old.rows[0].any, false, 'no request role writes a copy without its index rows');
  const fhirUsage = (await c.query(`select has_schema_privilege('fhirgate_researcher', 'fhir', 'USAGE') as u`)).rows[0].u;
  assert.equal(fhirUsage, false);
});

test('a direct connection as fhirgate_researcher reads deid index tables and nothing in fhir', async () => {
  const r = { role: 'researcher', tenant: 't1', scopes: 'user/*.rs' };
  for (const t of TABLES) {
    const n = await asRole(c, r, () => count(c, `select * from deid.${t}`));
    assert.equal(n, await owner(`select * from deid.${t} where tenant = 't1'`), t);
  }
  assert.ok((await asRole(c, r, () => count(c, 'select * from deid.sp_token'))) as number > 0);
  for (const t of ['fhir.resource', 'fhir.sp_token', 'fhir.sp_reference', 'fhir.resource_history']) {
    assert.match(String(await asRole(c, r, () => c.query(`select * from ${t}`))), /permission denied/, t);
  }
  assert.match(String(await asRole(c, r, () => c.query(`insert into deid.sp_token (tenant, rid, p, h, type) values ('t1', 1, 1, 1, 'Patient')`))), /permission denied/);
  assert.match(String(await asRole(c, r, () => c.query(`delete from deid.sp_string`))), /permission denied/);
  assert.match(String(await asRole(c, r, () => c.query(`select deid.index_delete('{1}')`))), /permission denied/);
  // A search's shape: index lookup joined to the copy, as the researcher.
  const joined = await asRole(c, r, async () => (await c.query(`select distinct r.type from deid.sp_token x join deid.resource r on r.rid = x.rid where x.c = '4548-4'`)).rows.map((x) => x.type));
  assert.deepEqual(joined, ['Observation']);
});

test('tenant wall and type grants on every de-identified index table', async () => {
  for (const t of TABLES) {
    const t1 = await owner(`select * from deid.${t} where tenant = 't1'`);
    const t2 = await owner(`select * from deid.${t} where tenant = 't2'`);
    assert.equal(await asRole(c, { role: 'researcher', tenant: 't2', scopes: 'user/*.rs' }, () => count(c, `select * from deid.${t}`)), t2, t);
    assert.equal(await asRole(c, { role: 'researcher', tenant: 't2', scopes: 'user/*.rs' }, () => count(c, `select * from deid.${t} where tenant = 't1'`)), 0, t);
    assert.equal(await asRole(c, { role: 'researcher', scopes: 'user/*.rs' }, () => count(c, `select * from deid.${t}`)), 0, `${t}: no tenant, no rows`);
    assert.equal(await asRole(c, { role: 'researcher', tenant: '', scopes: 'user/*.rs' }, () => count(c, `select * from deid.${t}`)), 0, t);
    const obsOnly = await asRole(c, { role: 'researcher', tenant: 't1', scopes: 'user/Observation.rs' }, () => count(c, `select * from deid.${t}`));
    assert.equal(obsOnly, await owner(`select * from deid.${t} where tenant = 't1' and type = 'Observation'`), t);
    if (t === 'sp_token') assert.ok(obsOnly > 0 && obsOnly < t1, 'the Patient\'s token rows are not granted');
    const r = (await c.query(`select c.relrowsecurity as rls, c.relforcerowsecurity as forced,
      exists (select 1 from pg_policy p where p.polrelid = c.oid and p.polname = 'fg_tenant_wall' and not p.polpermissive) as wall
      from pg_class c where c.oid = $1::regclass`, [`deid.${t}`])).rows[0];
    assert.deepEqual(r, { rls: true, forced: true, wall: true }, t);
  }
  // Writers: the tenant comes from the request context, never from the rows passed in.
  const t2rids = await owner(`select * from deid.sp_token x join deid.resource r on r.rid = x.rid where r.tenant = 't2' and x.tenant <> 't2'`);
  assert.equal(t2rids, 0);
  const none = await asRole(c, { role: 'clinician', scopes: 'user/*.cruds' }, () => c.query(`select deid.put_indexed('[]', ${Array(39).fill("'{}'").join(', ')})`));
  assert.match(String(none), /no tenant in context/);
});

test('deid.put_indexed refuses rows whose index entries name no copy (fail closed)', async () => {
  const rows = JSON.stringify([{ i: 1, type: 'Patient', id: 'zz', version: 1, compartments: [], content: '{}', key_id: 'k', last_updated: '2024-01-01T00:00:00Z' }]);
  const args = Array(39).fill("'{}'");
  args[0] = "'{2}'"; args[1] = "'{1}'"; args[2] = "'{1}'"; args[3] = "'{1}'"; args[4] = "'{1}'"; args[5] = "'{x}'";
  const bad = await asRole(c, { role: 'system', tenant: 't1', scopes: 'system/*.cruds' }, () => c.query(`select deid.put_indexed($1::jsonb, ${args.join(', ')})`, [rows]));
  assert.match(String(bad), /null value in column "rid"/);
});

test('index values travel as array literals intact: quotes, backslashes, braces, commas, NULL, non-ASCII', async () => {
  const odd = ['q"u\\o{t}e, x', 'NULL', ' spaced ', 'ünï€'];
  await write('t3', 'system', odd.map((code, k) => obs(`odd${k}`, code)));
  for (const code of odd) assert.equal(await owner(`select distinct rid from deid.sp_token where tenant = 't3' and c = $1`, [code]), 1, code);
});

test('compiled for schema deid, a search names no identified table', () => {
  const params: Array<[string, string]> = [['code', 'http://loinc.org|4548-4'], ['patient.gender', 'female'], ['_has:Observation:has-member:code', 'x'],
    ['date', 'ge2019'], ['value-quantity:missing', 'true'], ['code:not', '1'], ['_list', 'l1'], ['_sort', '-date,_lastUpdated']];
  const sr = plan({ types: ['Observation'], params, compartment: { type: 'Patient', id: 'abc' } });
  const opts = { tenant: 't1', base: 'http://x/fhir', now: 0, schema: 'deid' as const };
  const texts = [pageQuery(sr, opts, 21).sql.text, countQuery(sr, opts).text, matchQuery(sr, opts).text,
    includeQuery([{ source: 'Observation', param: 'patient', iterate: false, rev: false, name: '_include' },
      { source: 'Observation', param: 'subject', iterate: false, rev: true, name: '_revinclude' }], [{ rid: '1', type: 'Observation', id: 'a' }], 't1', 'deid')!.text];
  const single = plan({ types: ['Observation'], params: [['code', '4548-4']] });
  texts.push(fastCountQuery(single, opts)!.text);
  for (const t of texts) {
    assert.doesNotMatch(t, /\bfhir\./);
    assert.match(t, /\bdeid\.(resource|sp_)/);
  }
  const identified = pageQuery(sr, { ...opts, schema: undefined }, 21).sql.text;
  assert.doesNotMatch(identified, /\bdeid\./);
  assert.match(identified, /\bfhir\.resource\b/);
});

test('a database with copies from before migration 040: rows are numbered, then rebuildDeid indexes them', async () => {
  const old = await createTestDatabase();
  const oldPool = createPool(old.url, 2);
  const oc = await ownerClient(old.url);
  try {
    const early = mkdtempSync(join(tmpdir(), 'fhirgate-mig-'));
    for (const f of readdirSync(MIGRATIONS).filter((x) => /^\d{3}_/.test(x) && x < '040')) copyFileSync(join(MIGRATIONS, f), join(early, f));
    await migrate(oldPool, early);
    await oc.query(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content) values
      ('t1', 'Patient', 'p1', 1, now(), '{Patient/p1}', $1), ('t1', 'Observation', 'o1', 1, now(), '{Patient/p1}', $2)`,
    [JSON.stringify({ ...patient('p1'), meta: { versionId: '1', lastUpdated: '2023-03-04T05:06:07Z' } }), JSON.stringify({ ...obs('o1', '4548-4'), meta: { versionId: '1', lastUpdated: '2023-03-04T05:06:07Z' } })]);
    await oc.query(`insert into deid.resource (tenant, type, id, version, content, key_id) values ('t1', 'Patient', 'stale', 1, '{}', 'k0')`);
    await migrate(oldPool);
    const numbered = (await oc.query(`select rid, last_updated from deid.resource`)).rows;
    assert.equal(numbered.length, 1);
    assert.ok(Number(numbered[0].rid) > 0);
    const r = await rebuildDeid({ pool: oldPool }, 't1', deidSettings());
    assert.deepEqual(r, { copied: 2, removed: 1 }, 'the copy made with another key goes');
    const researcher = { role: 'researcher', tenant: 't1', scopes: 'user/*.rs' };
    const hits = await asRole(oc, researcher, async () => (await oc.query(`select distinct r.type, extract(year from r.last_updated at time zone 'UTC')::int as y
      from deid.sp_token x join deid.resource r on r.rid = x.rid where x.c = '4548-4'`)).rows);
    assert.deepEqual(hits, [{ type: 'Observation', y: 2023 }]);
  } finally {
    await oc.end();
    await oldPool.end();
    await old.drop();
  }
});
