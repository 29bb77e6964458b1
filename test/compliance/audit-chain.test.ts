// The audit store is append-only in the database and tamper-evident (issue "Audit"; patterns §3.3):
// request roles append only through audit.append(); UPDATE, DELETE and TRUNCATE are refused even for
// the owner; a superuser who bypasses triggers (session_replication_role = replica) is caught by
// `audit verify`, which names the edited, removed or reordered event. Each case uses its own tenant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool } from '../../src/store/pool.js';
import { withTx, type DbRole } from '../../src/store/session.js';
import { appendAudit } from '../../src/store/audit.js';
import { buildAuditRows } from '../../src/audit/balp.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { loadSigner, loadTrustedKeys } from '../../src/audit/signing.js';
import { writeCheckpoint } from '../../src/audit/checkpoint.js';
import { archiveBefore, archiveDir } from '../../src/audit/archive.js';
import { run as verifyCli } from '../../src/cli/audit-verify.js';
import type { Config } from '../../src/config.js';
import { asRole, useMigratedDatabase } from './helpers.js';

const db = useMigratedDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-audit-'));

function rows(n: number, recorded?: string) {
  return Array.from({ length: n }, (_, i) => buildAuditRows({
    actor: { tenant: 'x', role: 'clinician', userId: `u${i}`, clientId: 'app', address: '127.0.0.1' },
    recorded: recorded ?? new Date().toISOString(), subtype: 'read', action: 'R', outcome: 0,
    resource: `Observation/o${i}`, patients: [`Patient/p${i % 3}`], server: { observer: 'fhirgate' },
  })[0]);
}

async function append(tenant: string, n: number, role: DbRole = 'clinician', recorded?: string) {
  await withTx({ pool: db.pool }, { tenant, role }, async (tx) => appendAudit(tx, rows(n, recorded)));
}

const verify = (tenant: string) => verifyAudit({ pool: db.pool }, tenant, { dataDir, trusted: loadTrustedKeys(dataDir) });

/** As a superuser that bypasses triggers: the attack audit verify must reveal. */
async function tamper(sql: string, values: unknown[] = []) {
  await db.c.query('begin');
  await db.c.query('set local session_replication_role = replica');
  await db.c.query(sql, values);
  await db.c.query('commit');
}

async function eventAt(tenant: string, offset: number): Promise<{ id: string; stripe: number; pos: string }> {
  const r = await db.c.query('select id, stripe, pos from audit.event where tenant = $1 order by stripe, pos offset $2 limit 1', [tenant, offset]);
  return r.rows[0];
}

test('every request role appends through audit.append; the chain verifies', async () => {
  for (const role of ['clinician', 'patient', 'researcher', 'auditor', 'admin', 'system'] as DbRole[]) await append('ok', 2, role);
  const r = await verify('ok');
  assert.equal(r.events, 12);
  assert.equal(r.ok, true);
});

test('UPDATE, DELETE, TRUNCATE and direct INSERT are refused: request roles and the owner', async () => {
  await append('ro', 3);
  for (const role of ['clinician', 'patient', 'researcher', 'auditor', 'admin', 'system']) {
    for (const sql of [`update audit.event set outcome = 4`, `delete from audit.event`, `truncate audit.event`,
      `insert into audit.event select * from audit.event limit 1`, `update audit.chain_head set pos = 0`, `delete from audit.checkpoint`,
      `select audit.append_chained('[]'::jsonb)`, `delete from audit.patient_link`, `update audit.patient_link set patient = ''`,
      `insert into audit.patient_link values ('ro', 'Patient/x', now(), 'x')`]) {
      const e = await asRole(db.c, { role, tenant: 'ro' }, () => db.c.query(sql));
      assert.match(String(e), /permission denied/, `${role}: ${sql}`);
    }
  }
  for (const sql of ['update audit.event set outcome = 4', 'delete from audit.event', 'truncate audit.event', 'truncate audit.chain_head',
    'delete from audit.chain_head', 'update audit.chain_head set pos = 0', 'truncate audit.checkpoint',
    'delete from audit.patient_link', `update audit.patient_link set patient = ''`, 'truncate audit.patient_link']) {
    await assert.rejects(db.c.query(sql), /append-only|only moves forward/, `owner: ${sql}`);
  }
  const e = await asRole(db.c, { role: 'clinician' }, () => db.c.query(`select audit.append('[{"id":"a"}]'::jsonb)`));
  assert.match(String(e), /no tenant/);
  // The row form refuses what the jsonb form refuses: no tenant, a missing field, a line break in a field.
  const rows = (id: string, agent: string, content: string | null) =>
    db.c.query(`select audit.append_rows(array[$1], array[now()], array['rest'], array['read'], array['R'], array[0::smallint], array[$2], array[''], array[''], array[$3])`, [id, agent, content]);
  assert.match(String(await asRole(db.c, { role: 'clinician' }, () => rows('x1', 'a', '{}'))), /no tenant/);
  assert.match(String(await asRole(db.c, { role: 'clinician', tenant: 'ro' }, () => rows('x2', 'a', null))), /malformed/);
  assert.match(String(await asRole(db.c, { role: 'clinician', tenant: 'ro' }, () => rows('x3', 'a\nb', '{}'))), /malformed/);
  assert.equal((await verify('ro')).events, 3);
});

test('concurrent appends use several chains and every chain stays contiguous', async () => {
  await Promise.all(Array.from({ length: 40 }, () => append('busy', 3)));
  const r = await verify('busy');
  assert.equal(r.events, 120);
  const stripes = await db.c.query(`select count(distinct stripe)::int as n from audit.event where tenant = 'busy'`);
  assert.ok(stripes.rows[0].n > 1, 'appends were spread over stripes');
});

test('hashing does not depend on the session time zone', async () => {
  const tz = createPool(db.url.replace(/\/([^/?]+)$/, '/$1?options=-c%20timezone%3DAmerica%2FNew_York'), 2);
  try {
    await withTx({ pool: tz }, { tenant: 'tz', role: 'system' }, async (tx) => appendAudit(tx, rows(3)));
    await append('tz', 2);
    const tokyo = createPool(db.url.replace(/\/([^/?]+)$/, '/$1?options=-c%20timezone%3DAsia%2FTokyo%20-c%20datestyle%3DGerman'), 2);
    try {
      assert.equal((await verifyAudit({ pool: tokyo }, 'tz', { dataDir, trusted: loadTrustedKeys(dataDir) })).events, 5);
    } finally {
      await tokyo.end();
    }
  } finally {
    await tz.end();
  }
});

test('verification while appends run sees one consistent snapshot', async () => {
  await append('live', 20);
  const [v] = await Promise.all([verify('live'), ...Array.from({ length: 30 }, () => append('live', 2))]);
  assert.ok(v.events >= 20);
  assert.equal((await verify('live')).events, 80);
});

test('events hashed in the 032 line format (before migration 033) still verify; tampering them does not', async () => {
  await withTx({ pool: db.pool }, { tenant: 'legacy', role: 'system' }, async (tx) => appendAudit(tx, rows(1)));
  const old = `sha256(prev_hash || convert_to(concat_ws(E'\\n', tenant, stripe::text, pos::text, id,
    to_char(recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), type, subtype, action, outcome::text, agent, patient, entity, content), 'UTF8'))`;
  await tamper(`update audit.event set hash = ${old} where tenant = 'legacy'`);
  await tamper(`update audit.chain_head h set hash = e.hash from audit.event e where h.tenant = 'legacy' and e.tenant = 'legacy' and e.stripe = h.stripe and e.pos = h.pos`);
  assert.equal((await verify('legacy')).events, 1);
  await tamper(`update audit.event set outcome = 8 where tenant = 'legacy'`);
  await assert.rejects(verify('legacy'), /edited/);
});

test('an edited event is named', async () => {
  await append('edit', 6);
  const victim = await eventAt('edit', 2);
  await tamper(`update audit.event set content = replace(content, '"action":"R"', '"action":"D"') where tenant = 'edit' and id = $1`, [victim.id]);
  await assert.rejects(verify('edit'), (e: Error) => e.message.includes(`AuditEvent/${victim.id}`) && /edited/.test(e.message));
});

test('an edit that also recomputes that event\'s hash is still caught at the next link', async () => {
  await withTx({ pool: db.pool }, { tenant: 'rehash', role: 'system' }, async (tx) => appendAudit(tx, rows(3)));
  const r = await db.c.query(`select stripe, min(pos)::int as p from audit.event where tenant = 'rehash' group by stripe having count(*) >= 2 limit 1`);
  const { stripe, p } = r.rows[0];
  const victim = await db.c.query(`select id from audit.event where tenant = 'rehash' and stripe = $1 and pos = $2`, [stripe, p]);
  await tamper(`update audit.event set agent = 'someone-else',
    hash = sha256(prev_hash || convert_to(audit.hash_line(tenant, stripe, pos, id, recorded, type, subtype, action, outcome, 'someone-else', patient, entity, content), 'UTF8'))
    where tenant = 'rehash' and stripe = $1 and pos = $2`, [stripe, p]);
  await assert.rejects(verify('rehash'), (e: Error) => e.message.includes(`AuditEvent/${victim.rows[0].id}`));
});

test('a removed event is named (gap), a removed tail is caught by the head', async () => {
  await withTx({ pool: db.pool }, { tenant: 'gap', role: 'system' }, async (tx) => appendAudit(tx, rows(5)));
  const mid = await eventAt('gap', 2);
  await tamper(`delete from audit.event where tenant = 'gap' and stripe = $1 and pos = $2`, [mid.stripe, mid.pos]);
  await assert.rejects(verify('gap'), (e: Error) => /removed/.test(e.message) && e.message.includes(`position`));

  await withTx({ pool: db.pool }, { tenant: 'tail', role: 'system' }, async (tx) => appendAudit(tx, rows(5)));
  const last = await eventAt('tail', 4);
  await tamper(`delete from audit.event where tenant = 'tail' and stripe = $1 and pos = $2`, [last.stripe, last.pos]);
  await assert.rejects(verify('tail'), /removed/);
});

test('the patient index is checked: a removed, moved or forged patient link is caught', async () => {
  // One access touching three patients: one chained row, three links (migrations/042).
  const [row] = buildAuditRows({
    actor: { tenant: 'links', role: 'clinician', userId: 'u', clientId: 'app' }, recorded: new Date().toISOString(), subtype: 'search-type',
    action: 'E', outcome: 0, query: { raw: 'GET Observation', description: 'Observation' }, patients: ['Patient/a', 'Patient/b', 'Patient/c'], server: { observer: 'fhirgate' },
  });
  await withTx({ pool: db.pool }, { tenant: 'links', role: 'clinician' }, async (tx) => appendAudit(tx, [row, ...rows(2)]));
  const links = await db.c.query(`select patient from audit.patient_link where tenant = 'links' and id = $1 order by patient`, [row.id]);
  assert.deepEqual(links.rows.map((l) => l.patient), ['Patient/a', 'Patient/b', 'Patient/c']);
  assert.equal((await verify('links')).events, 3);

  await tamper(`delete from audit.patient_link where tenant = 'links' and patient = 'Patient/b'`);
  await assert.rejects(verify('links'), /patient_link holds 4 patient links where the events list 5/);
  await tamper(`insert into audit.patient_link values ('links', 'Patient/z', $1, $2)`, [row.recorded, row.id]);
  await assert.rejects(verify('links'), /1 patient links .* name no event listing that patient/);
  await tamper(`update audit.patient_link set patient = 'Patient/b' where tenant = 'links' and patient = 'Patient/z'`);
  assert.equal((await verify('links')).events, 3, 'restored');
  await tamper(`update audit.patient_link set recorded = recorded - interval '1 day' where tenant = 'links' and patient = 'Patient/a' and id = $1`, [row.id]);
  await assert.rejects(verify('links'), /name no event listing that patient/);
});

test('reordered events are detected', async () => {
  await withTx({ pool: db.pool }, { tenant: 'order', role: 'system' }, async (tx) => appendAudit(tx, rows(4)));
  const a = await eventAt('order', 1);
  const b = await eventAt('order', 2);
  await tamper(`update audit.event set pos = -1 where tenant = 'order' and stripe = $1 and pos = $2`, [a.stripe, a.pos]);
  await tamper(`update audit.event set pos = $2 where tenant = 'order' and stripe = $1 and pos = $3`, [b.stripe, a.pos, b.pos]);
  await tamper(`update audit.event set pos = $2 where tenant = 'order' and stripe = $1 and pos = -1`, [a.stripe, b.pos]);
  await assert.rejects(verify('order'), (e: Error) => /reordered/.test(e.message) && e.message.startsWith(`AuditEvent/${b.id}`) && e.message.includes(a.id));
});

test('a truncated tail with a rewound head is caught by the signed checkpoint (table and file)', async () => {
  await withTx({ pool: db.pool }, { tenant: 'cp', role: 'system' }, async (tx) => appendAudit(tx, rows(4)));
  await writeCheckpoint({ pool: db.pool }, 'cp', loadSigner(dataDir), dataDir);
  assert.equal((await verify('cp')).checkpoints, 1);
  const last = await eventAt('cp', 3);
  const prev = await db.c.query(`select pos, hash from audit.event where tenant = 'cp' and stripe = $1 and pos = $2::bigint - 1`, [last.stripe, last.pos]);
  await tamper(`delete from audit.event where tenant = 'cp' and stripe = $1 and pos = $2`, [last.stripe, last.pos]);
  await tamper(`update audit.chain_head set pos = $2, hash = $3 where tenant = 'cp' and stripe = $1`, [last.stripe, prev.rows[0].pos, prev.rows[0].hash]);
  await assert.rejects(verify('cp'), /checkpoint.*removed/);
  // Deleting the checkpoint row too leaves the copy in the data directory.
  await tamper(`delete from audit.checkpoint where tenant = 'cp'`);
  await assert.rejects(verify('cp'), /missing from audit.checkpoint/);
});

test('retention: old events are archived, verified and removed; the chain verifies across the boundary', async () => {
  await append('arch', 6, 'system', '2010-05-01T00:00:00.000Z');
  await append('arch', 2);
  const signer = loadSigner(dataDir);
  const r = await archiveBefore({ pool: db.pool }, 'arch', '2015-01-01T00:00:00.000Z', { dataDir, signer });
  assert.equal(r.archived, 6);
  const hot = await db.c.query(`select count(*)::int as n from audit.event where tenant = 'arch'`);
  assert.equal(hot.rows[0].n, 2);
  await append('arch', 3);
  const v = await verify('arch');
  assert.equal(v.events, 5);
  assert.equal(v.archivedEvents, 6);
  assert.ok(v.anchors >= 1);
  // Deleting events that are not archived stays refused, even for the owner with the archive flag set.
  await db.c.query('begin');
  await db.c.query(`select set_config('fhirgate.audit_archiving', 'on', true)`);
  await assert.rejects(db.c.query(`delete from audit.event where tenant = 'arch'`), /not archived/);
  await db.c.query('rollback');
  // A changed archive file no longer matches its signed anchor.
  const file = join(archiveDir(dataDir, 'arch'), r.files[0].split('/').pop()!);
  writeFileSync(file, readFileSync(file, 'utf8').replace('"R"', '"D"'));
  await assert.rejects(verify('arch'), /archive file .* was changed|edited/);
});

test('fhirgate audit verify prints {"events":N,"ok":true} or fails naming the broken event', async () => {
  await append('cli', 3);
  const deps = { db: { pool: db.pool }, config: { dataDir } as Config, tenant: 'cli' };
  const out = await verifyCli([], deps);
  assert.equal(out.events, 3);
  assert.equal(out.ok, true);
  const victim = await eventAt('cli', 0);
  await tamper(`update audit.event set outcome = 12 where tenant = 'cli' and id = $1`, [victim.id]);
  await assert.rejects(verifyCli([], deps), (e: Error) => e.message.includes(`AuditEvent/${victim.id}`));
});
