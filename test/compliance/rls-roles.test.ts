// PostgreSQL is the authority (issue "Access control enforced by PostgreSQL"): direct connections switch
// into each request role, with and without request context, and prove what each can and cannot see or
// change in fhir.resource, fhir.resource_history and the search index tables.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase } from '../helpers/server.js';
import { createPool } from '../../src/store/pool.js';
import { migrate } from '../../src/store/migrate.js';
import { withTx } from '../../src/store/session.js';
import { asRole, count, ownerClient } from './helpers.js';

let db: { url: string; drop: () => Promise<void> };
let c: pg.Client;
const ALL = 'select * from fhir.resource';

async function seed(tenant: string, type: string, id: string, compartments: string[], content: object = {}): Promise<string> {
  const r = await c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content)
    values ($1, $2, $3, 2, now(), $4, $5) returning rid`, [tenant, type, id, compartments, JSON.stringify({ resourceType: type, id, ...content })]);
  const rid = r.rows[0].rid as string;
  await c.query(`insert into fhir.resource_history (tenant, type, id, version, rid, last_updated, deleted, compartments, content, superseded)
    values ($1, $2, $3, 1, $4, now(), false, $5, '{}', now())`, [tenant, type, id, rid, compartments]);
  await c.query('insert into fhir.sp_token (tenant, rid, p, h) values ($1, $2, 1, 2)', [tenant, rid]);
  return rid;
}

before(async () => {
  db = await createTestDatabase();
  const pool = createPool(db.url, 2);
  await migrate(pool);
  await pool.end();
  c = await ownerClient(db.url);
  await seed('t1', 'Patient', 'p1', ['Patient/p1']);
  await seed('t1', 'Patient', 'p2', ['Patient/p2']);
  await seed('t1', 'Observation', 'o1', ['Patient/p1'], { subject: { reference: 'Patient/p1' } });
  await seed('t1', 'Observation', 'o2', ['Patient/p2'], { subject: { reference: 'Patient/p2' } });
  await seed('t1', 'Condition', 'c1', ['Patient/p1'], { subject: { reference: 'Patient/p1' } });
  await seed('t1', 'Organization', 'org1', []);
  await seed('t2', 'Patient', 'p1', ['Patient/p1']);
  await seed('t2', 'Observation', 'o1', ['Patient/p1'], { subject: { reference: 'Patient/p1' } });
  // Filler in a third tenant so the planner has real statistics to choose indexes with.
  await c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content)
    select 't3', 'Observation', 'f' || g, 1, now(), array['Patient/q' || (g % 500)], '{}' from generate_series(1, 20000) g`);
  await c.query('analyze fhir.resource');
});
after(async () => {
  await c?.end();
  await db?.drop();
});

/** ctx.* calls not enclosed by a parenthesised SELECT in a deparsed policy expression. */
function unwrappedCtxCalls(expr: string): number {
  const stack: boolean[] = [];
  let bare = 0;
  for (let i = 0; i < expr.length; i++) {
    if (expr[i] === '(') stack.push(/^\(\s*SELECT\b/i.test(expr.slice(i, i + 10)));
    else if (expr[i] === ')') stack.pop();
    else if (expr.startsWith('ctx.', i) && !stack.includes(true)) bare++;
  }
  return bare;
}

const ROLES = ['clinician', 'patient', 'researcher', 'auditor', 'admin', 'system'];

test('request roles are not superuser, cannot bypass RLS, cannot log in, and own nothing', async () => {
  const r = await c.query(`select rolname, rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname like 'fhirgate\\_%'`);
  assert.ok(r.rows.length >= ROLES.length);
  for (const row of r.rows) {
    assert.equal(row.rolsuper, false, row.rolname);
    assert.equal(row.rolbypassrls, false, row.rolname);
    assert.equal(row.rolcanlogin, false, row.rolname);
  }
  const owned = await c.query(`select c.relname, r.rolname from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.oid = c.relowner
    where n.nspname in ('fhir', 'deid', 'audit', 'ctx') and r.rolname like 'fhirgate\\_%'`);
  assert.deepEqual(owned.rows, []);
});

test('every table holding PHI has RLS enabled and forced, with a restrictive tenant wall', async () => {
  const r = await c.query(`select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
      exists (select 1 from pg_policy p where p.polrelid = c.oid and p.polname = 'fg_tenant_wall' and not p.polpermissive) as wall
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('fhir', 'deid', 'audit') and c.relkind in ('r', 'p')`);
  assert.ok(r.rows.some((x) => x.relname === 'sp_token'), 'the search index tables are covered');
  for (const row of r.rows) {
    assert.equal(row.relrowsecurity, true, `${row.nspname}.${row.relname}`);
    assert.equal(row.relforcerowsecurity, true, `${row.nspname}.${row.relname}`);
    assert.equal(row.wall, true, `${row.nspname}.${row.relname}`);
  }
  // No policy reads a setting per row: every ctx.* call sits inside a (SELECT …) (splinter lint 0003).
  const pol = await c.query(`select tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') as expr
    from pg_policies where schemaname in ('fhir', 'deid', 'audit')`);
  for (const row of pol.rows) assert.equal(unwrappedCtxCalls(row.expr), 0, `${row.tablename}.${row.policyname}`);
});

test('fail closed: with no request context every role sees zero rows', async () => {
  for (const role of ['clinician', 'patient', 'system']) {
    for (const table of ['fhir.resource', 'fhir.resource_history', 'fhir.sp_token']) {
      const n = await asRole(c, { role, scopes: 'user/*.cruds system/*.cruds patient/*.cruds', patient: 'p1' }, () => count(c, `select * from ${table}`));
      assert.equal(n, 0, `${role} on ${table}`);
    }
    // A transaction-local setting ends as '' (not NULL) after commit: '' is no tenant.
    const empty = await asRole(c, { role, tenant: '', scopes: 'system/*.cruds user/*.cruds' }, () => count(c, ALL));
    assert.equal(empty, 0, role);
  }
});

test('tenant wall: reads, writes and moves across tenants are refused', async () => {
  const who = { role: 'system', tenant: 't1', scopes: 'system/*.cruds' };
  assert.equal(await asRole(c, who, () => count(c, ALL)), 6);
  assert.equal(await asRole(c, who, () => count(c, `${ALL} where tenant = 't2'`)), 0);
  assert.equal(await asRole(c, who, () => count(c, `select * from fhir.resource_history where tenant = 't2'`)), 0);
  assert.equal(await asRole(c, who, () => count(c, `select * from fhir.sp_token`)), 6);
  const insert = await asRole(c, who, () => c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, content) values ('t2', 'Patient', 'x', 1, now(), '{}')`));
  assert.match(String(insert), /row-level security/);
  const move = await asRole(c, who, () => c.query(`update fhir.resource set tenant = 't2' where id = 'o1'`));
  assert.match(String(move), /row-level security/);
  const touch = await asRole(c, who, async () => (await c.query(`update fhir.resource set version = 9 where tenant = 't2'`)).rowCount);
  assert.equal(touch, 0);
  const del = await asRole(c, who, async () => (await c.query(`delete from fhir.sp_token where tenant = 't2'`)).rowCount);
  assert.equal(del, 0);
  // Same ids in two tenants: identity is tenant-scoped, so no unique-violation oracle across tenants.
  const same = await asRole(c, { ...who, tenant: 't2' }, async () => (await c.query(
    `insert into fhir.resource (tenant, type, id, version, last_updated, content) values ('t2', 'Condition', 'c1', 1, now(), '{}') returning id`)).rowCount);
  assert.equal(same, 1);
});

test('patient role: only its own compartment, including joins that _include, chains and _has would make', async () => {
  const p1 = { role: 'patient', tenant: 't1', patient: 'p1', scopes: 'patient/*.rs' };
  const ids = await asRole(c, p1, async () => (await c.query(`select type || '/' || id as r from fhir.resource order by 1`)).rows.map((x) => x.r));
  assert.deepEqual(ids, ['Condition/c1', 'Observation/o1', 'Patient/p1']);
  assert.equal(await asRole(c, p1, () => count(c, 'select * from fhir.resource_history')), 3);
  assert.equal(await asRole(c, p1, () => count(c, 'select * from fhir.sp_token')), 3);
  // _include / chain: follow every reference from visible rows: nothing of p2 comes back.
  const inc = await asRole(c, p1, () => count(c, `select i.* from fhir.resource r join fhir.resource i
    on (r.content::jsonb -> 'subject' ->> 'reference') = i.type || '/' || i.id where i.id in ('p2', 'o2')`));
  assert.equal(inc, 0);
  // _has / _revinclude: resources pointing at p2 are invisible.
  const has = await asRole(c, p1, () => count(c, `select * from fhir.resource o where o.content::jsonb -> 'subject' ->> 'reference' = 'Patient/p2'`));
  assert.equal(has, 0);
  // The type grant narrows further.
  assert.equal(await asRole(c, { ...p1, scopes: 'patient/Observation.rs' }, () => count(c, ALL)), 1);
  // user/ scopes do not widen a patient role beyond its compartment; system/ scopes grant nothing.
  assert.equal(await asRole(c, { ...p1, scopes: 'user/*.rs' }, () => count(c, ALL)), 3);
  assert.equal(await asRole(c, { ...p1, scopes: 'system/*.rs' }, () => count(c, ALL)), 0);
  assert.equal(await asRole(c, { role: 'patient', tenant: 't1', scopes: 'patient/*.rs' }, () => count(c, ALL)), 0, 'no patient, no rows');
});

test('patient role writes stay inside its compartment', async () => {
  const p1 = { role: 'patient', tenant: 't1', patient: 'p1', scopes: 'patient/*.cruds' };
  const ins = (comp: string) => asRole(c, p1, () => c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content)
    values ('t1', 'Observation', 'new', 1, now(), $1, '{}') returning id`, [[comp]]));
  assert.match(String(await ins('Patient/p2')), /row-level security/);
  assert.equal(((await ins('Patient/p1')) as pg.QueryResult).rowCount, 1);
  const other = await asRole(c, p1, async () => (await c.query(`update fhir.resource set version = 9 where id = 'o2'`)).rowCount);
  assert.equal(other, 0);
  const move = await asRole(c, p1, () => c.query(`update fhir.resource set compartments = '{Patient/p2}' where id = 'o1'`));
  assert.match(String(move), /row-level security/);
  const readOnly = await asRole(c, { ...p1, scopes: 'patient/*.rs' }, () => c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content)
    values ('t1', 'Observation', 'new2', 1, now(), '{Patient/p1}', '{}')`));
  assert.match(String(readOnly), /row-level security/);
});

test('clinician: per-type grants from user/ scopes; patient/ scopes confine to the launch patient', async () => {
  const base = { role: 'clinician', tenant: 't1' };
  assert.equal(await asRole(c, { ...base, scopes: 'user/*.rs' }, () => count(c, ALL)), 6);
  assert.equal(await asRole(c, { ...base, scopes: 'user/Observation.rs' }, () => count(c, ALL)), 2);
  assert.equal(await asRole(c, { ...base, scopes: 'user/Observation.read' }, () => count(c, ALL)), 2, 'SMART v1 read');
  assert.equal(await asRole(c, { ...base, scopes: 'user/Observation.c' }, () => count(c, ALL)), 0, 'create-only reads nothing');
  assert.equal(await asRole(c, { ...base, scopes: 'system/*.rs' }, () => count(c, ALL)), 0, 'system/ scopes are not a clinician\'s');
  assert.equal(await asRole(c, { ...base, scopes: 'patient/*.rs', patient: 'p2' }, () => count(c, ALL)), 2);
  assert.equal(await asRole(c, { ...base, scopes: 'patient/*.rs' }, () => count(c, ALL)), 0);
  assert.equal(await asRole(c, { ...base, scopes: 'user/Observation.rs' }, () => count(c, 'select * from fhir.sp_token')), 2);
  const write = await asRole(c, { ...base, scopes: 'user/*.rs' }, () => c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, content) values ('t1', 'Patient', 'z', 1, now(), '{}')`));
  assert.match(String(write), /row-level security/);
});

test('researcher has no privilege at all on identified data; auditor and admin neither', async () => {
  for (const role of ['researcher', 'auditor', 'admin']) {
    const r = await c.query(`select count(*)::int as n from pg_tables t where schemaname = 'fhir'
      and (has_table_privilege($1, format('%I.%I', schemaname, tablename), 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER'))`, [`fhirgate_${role}`]);
    assert.equal(r.rows[0].n, 0, role);
    const usage = await c.query(`select has_schema_privilege($1, 'fhir', 'USAGE') as u`, [`fhirgate_${role}`]);
    assert.equal(usage.rows[0].u, false, role);
    const read = await asRole(c, { role, tenant: 't1', scopes: 'user/*.rs' }, () => c.query(ALL));
    assert.match(String(read), /permission denied/, role);
  }
  const deid = await c.query(`select has_table_privilege('fhirgate_researcher', 'deid.resource', 'INSERT,UPDATE,DELETE') as w,
    has_function_privilege('fhirgate_researcher', 'deid.put(text, text, integer, text[], text, text, text, text, text)', 'EXECUTE') as put,
    has_table_privilege('fhirgate_auditor', 'deid.resource', 'SELECT') as a, has_table_privilege('fhirgate_clinician', 'deid.resource', 'SELECT') as cl`);
  assert.deepEqual(deid.rows[0], { w: false, put: false, a: false, cl: false });
  const audit = await c.query(`select has_table_privilege('fhirgate_auditor', 'audit.event', 'SELECT') as a,
    bool_or(has_table_privilege(r, 'audit.event', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE')) as others
    from unnest(array['fhirgate_clinician','fhirgate_patient','fhirgate_researcher','fhirgate_admin','fhirgate_system']) r group by 1`);
  assert.deepEqual(audit.rows[0], { a: true, others: false });
});

test('researcher: de-identified rows of its tenant and scope types only; nothing without context', async () => {
  await c.query(`insert into deid.resource (tenant, type, id, version, content, key_id) values
    ('t1', 'Patient', 'ps1', 1, '{}', 'k'), ('t1', 'Observation', 'ps2', 1, '{}', 'k'), ('t2', 'Patient', 'ps3', 1, '{}', 'k')`);
  const r = { role: 'researcher', tenant: 't1' };
  assert.equal(await asRole(c, { ...r, scopes: 'user/*.rs' }, () => count(c, 'select * from deid.resource')), 2);
  assert.equal(await asRole(c, { ...r, scopes: 'user/Observation.rs' }, () => count(c, 'select * from deid.resource')), 1);
  assert.equal(await asRole(c, { ...r, scopes: 'patient/*.rs', patient: 'x' }, () => count(c, 'select * from deid.resource')), 0);
  assert.equal(await asRole(c, { role: 'researcher', scopes: 'user/*.rs' }, () => count(c, 'select * from deid.resource')), 0);
  const w = await asRole(c, { ...r, scopes: 'user/*.cruds' }, () => c.query(`update deid.resource set content = 'x'`));
  assert.match(String(w), /permission denied/);
  const put = await asRole(c, { ...r, scopes: 'user/*.cruds' }, () => c.query(`select deid.put('Patient', 'z', 1, '{}', '{}', 'k', null, null, null)`));
  assert.match(String(put), /permission denied/);
  const leak = await asRole(c, { role: 'clinician', tenant: 't1', scopes: 'user/*.cruds' }, () => c.query('select * from deid.resource'));
  assert.match(String(leak), /permission denied/, 'writers maintain the copy but cannot read pseudonyms back');
});

test('policies keep the identity index: a read by id is an index scan with settings as InitPlans', async () => {
  const plan = await asRole(c, { role: 'system', tenant: 't1', scopes: 'system/*.rs' }, async () =>
    (await c.query(`explain select content from fhir.resource where tenant = 't1' and type = 'Observation' and id = 'o1'`)).rows.map((r) => r['QUERY PLAN']).join('\n'));
  assert.match(String(plan), /Index Scan using resource_identity/);
  assert.match(String(plan), /InitPlan/);
});

test('the patient compartment policy is served by the compartments GIN index', async () => {
  const plan = await asRole(c, { role: 'patient', tenant: 't3', patient: 'q5', scopes: 'patient/*.rs' }, async () =>
    (await c.query(`explain select content from fhir.resource where type = 'Observation'`)).rows.map((r) => r['QUERY PLAN']).join('\n'));
  assert.match(String(plan), /Bitmap Index Scan on resource_compartments/);
  assert.equal(await asRole(c, { role: 'patient', tenant: 't3', patient: 'q5', scopes: 'patient/*.rs' }, () => count(c, ALL)), 40);
});

test('a pooled connection carries no context into the next transaction', async () => {
  const pool = createPool(db.url, 1);
  try {
    const first = await withTx({ pool }, { tenant: 't1', role: 'patient', patient: 'p1', scopes: 'patient/*.rs' }, async (tx) => (await tx.query(ALL)).rowCount);
    assert.equal(first, 3);
    const second = await withTx({ pool }, { tenant: 't2', role: 'system', scopes: 'system/*.rs' }, async (tx) =>
      (await tx.query<{ n: number; p: string | null }>(`select count(*)::int as n, ctx.patient() as p from fhir.resource`)).rows[0]);
    assert.deepEqual(second, { n: 2, p: null });
    const after = await pool.query(`select current_user as u, ctx.tenant() as t`);
    assert.equal(after.rows[0].t, null);
    assert.notEqual(after.rows[0].u, 'fhirgate_system');
  } finally {
    await pool.end();
  }
});
