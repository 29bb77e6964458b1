// Cross-tenant and cross-patient fuzzing of the API (issue: "fuzz the API with cross-tenant and
// cross-patient requests (ids, chains, includes, history, conditional operations, transactions): zero
// leaks"). Victim resources carry a unique marker; hundreds of seeded-random attacker requests must
// never return a marker, and every victim must be unchanged afterwards. Chains and includes are proved
// at the SQL level (rls-roles.test.ts) until the search engine serves them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { startRoleServer, call, ownerClient } from './helpers.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
let server: Server;
let c: pg.Client;

const sys = (tenant: string) => ({ tenant, role: 'system' as const, scopes: ['system/*.cruds'], clientId: `loader-${tenant}` });
interface Victim { tenant: string; type: string; id: string; marker: string }
const victims: Victim[] = [];
const attackers: Array<{ name: string; ctx: object; own: { tenant: string; patient: string } }> = [];

async function put(tenant: string, type: string, id: string, body: object, marker: string, victim: boolean) {
  const r = await call(server, sys(tenant), 'PUT', `${type}/${id}`, { resourceType: type, id, ...body });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  if (victim) victims.push({ tenant, type, id, marker });
}

before(async () => {
  server = await startRoleServer();
  c = await ownerClient(server.adminUrl);
  // Two tenants using the same ids; in tenant A two patients.
  for (const tenant of ['ta', 'tb']) {
    for (const p of ['shared-1', 'shared-2']) {
      const victimOfA = tenant === 'tb' || p === 'shared-2';
      const m = `MARK-${tenant}-${p}`;
      await put(tenant, 'Patient', p, { name: [{ family: m }] }, m, victimOfA);
      await put(tenant, 'Observation', `obs-${p}`, { status: 'final', code: { text: `${m}-obs` }, subject: { reference: `Patient/${p}` } }, `${m}-obs`, victimOfA);
      await put(tenant, 'Condition', `cond-${p}`, { subject: { reference: `Patient/${p}` }, code: { text: `${m}-cond` } }, `${m}-cond`, victimOfA);
    }
  }
  attackers.push(
    { name: 'patient shared-1 of ta', ctx: { tenant: 'ta', role: 'patient', scopes: ['patient/*.cruds'], patient: 'shared-1', fhirUser: 'Patient/shared-1', clientId: 'portal' }, own: { tenant: 'ta', patient: 'shared-1' } },
    { name: 'clinician of ta in patient context shared-1', ctx: { tenant: 'ta', role: 'clinician', scopes: ['patient/*.cruds'], patient: 'shared-1', userId: 'dr', clientId: 'app' }, own: { tenant: 'ta', patient: 'shared-1' } },
    // A backend with full rights in its own (third) tenant: every id it names resolves there, never in ta or tb.
    { name: 'backend of tc', ctx: { tenant: 'tc', role: 'system', scopes: ['system/*.cruds'], clientId: 'svc' }, own: { tenant: 'tc', patient: '*' } },
  );
});
after(async () => {
  await c?.end();
  await server?.stop();
});

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Attack = (v: Victim) => [string, string, unknown?, Record<string, string>?];
const ATTACKS: Attack[] = [
  (v) => ['GET', `${v.type}/${v.id}`],
  (v) => ['GET', `${v.type}/${v.id}/_history/1`],
  (v) => ['GET', `${v.type}/${v.id}/_history`],
  (v) => ['GET', `${v.type}/_history`],
  (v) => ['GET', `_history?_count=100`],
  (v) => ['GET', `${v.type}/${v.id}?_summary=true`],
  (v) => ['GET', `${v.type}/${v.id}?_elements=code,name`],
  (v) => ['PUT', `${v.type}?_id=${v.id}`, { resourceType: v.type, status: 'final', code: { text: 'overwritten' }, subject: { reference: 'Patient/shared-1' } }],
  (v) => ['DELETE', `${v.type}?_id=${v.id}`],
  (v) => ['PATCH', `${v.type}?_id=${v.id}`, [{ op: 'replace', path: '/id', value: v.id }]],
  (v) => ['PATCH', `${v.type}/${v.id}`, [{ op: 'add', path: '/language', value: 'en' }]],
  (v) => ['POST', v.type, { resourceType: v.type, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/shared-1' } }, { 'if-none-exist': `_id=${v.id}` }],
  (v) => ['PUT', `${v.type}/${v.id}`, { resourceType: v.type, id: v.id, status: 'final', code: { text: 'overwritten' }, subject: { reference: 'Patient/shared-1' } }],
  (v) => ['DELETE', `${v.type}/${v.id}`],
  (v) => ['POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { request: { method: 'GET', url: `${v.type}/${v.id}` } },
    { resource: { resourceType: 'Observation', status: 'final', code: { text: 'via-tx' }, subject: { reference: `Patient/${v.id}` } }, request: { method: 'POST', url: 'Observation' } },
  ] }],
  (v) => ['POST', '', { resourceType: 'Bundle', type: 'batch', entry: [
    { request: { method: 'GET', url: `${v.type}/${v.id}` } }, { request: { method: 'GET', url: `${v.type}/${v.id}/_history` } },
    { request: { method: 'DELETE', url: `${v.type}/${v.id}` } },
  ] }],
  (v) => ['POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'planted' }, subject: { reference: `Patient/${v.id}` } }],
];

test('the same id in two tenants: each tenant sees only its own', async () => {
  const a = await call(server, sys('ta'), 'GET', 'Patient/shared-1');
  const b = await call(server, sys('tb'), 'GET', 'Patient/shared-1');
  assert.equal(a.json.name[0].family, 'MARK-ta-shared-1');
  assert.equal(b.json.name[0].family, 'MARK-tb-shared-1');
  const hist = await call(server, sys('ta'), 'GET', '_history?_count=1000');
  assert.ok(!hist.text.includes('MARK-tb'));
});

test('hundreds of random cross-tenant and cross-patient requests leak nothing and change nothing', async () => {
  const random = rng(20240531);
  const before = await c.query(`select tenant, type, id from fhir.resource order by 1, 2, 3`);
  let requests = 0;
  for (let i = 0; i < 300; i++) {
    const a = attackers[Math.floor(random() * attackers.length)];
    const targets = victims.filter((v) => v.tenant !== a.own.tenant || (a.own.patient !== '*' && !v.marker.includes(a.own.patient)));
    const v = targets[Math.floor(random() * targets.length)];
    const [method, path, body, headers] = ATTACKS[Math.floor(random() * ATTACKS.length)](v);
    const r = await call(server, a.ctx, method, path, body, headers);
    requests++;
    for (const other of targets) {
      assert.ok(!r.text.includes(other.marker), `${a.name}: ${method} ${path} → ${r.status} leaked ${other.marker}`);
    }
    assert.ok(r.status < 500, `${a.name}: ${method} ${path} → ${r.status} ${r.text.slice(0, 200)}`);
  }
  assert.equal(requests, 300);
  // Victims are untouched: same versions, not deleted, content unchanged.
  for (const v of victims) {
    const row = await c.query(`select version, deleted, content from fhir.resource where tenant = $1 and type = $2 and id = $3`, [v.tenant, v.type, v.id]);
    assert.equal(row.rows[0].version, 1, `${v.tenant} ${v.type}/${v.id}`);
    assert.equal(row.rows[0].deleted, false);
    assert.ok(row.rows[0].content.includes(v.marker));
  }
  // Nothing was planted into another patient's compartment or another tenant.
  const planted = await c.query(`select tenant, compartments from fhir.resource where content like '%planted%' or content like '%via-tx%' or content like '%overwritten%'`);
  for (const p of planted.rows) {
    if (p.tenant === 'ta') assert.deepEqual(p.compartments.filter((x: string) => x !== 'Patient/shared-1'), [], JSON.stringify(p));
    else assert.equal(p.tenant, 'tc');
  }
  const still = await c.query(`select count(*)::int as n from fhir.resource where tenant in ('ta', 'tb')`);
  assert.ok(still.rows[0].n >= before.rows.filter((r) => r.tenant !== 'tc').length);
});

