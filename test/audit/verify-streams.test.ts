// `audit verify` splits the stripes over several connections (src/audit/verify.ts): every stored event
// is checked whatever the number of streams, also one on a stripe no chain head names (planted by a
// superuser), and a break found in one stream ends the verification without leaving a connection in
// the middle of a COPY (the pool serves the next verification).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withTx } from '../../src/store/session.js';
import { appendAudit } from '../../src/store/audit.js';
import { buildAuditRows } from '../../src/audit/balp.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { loadTrustedKeys } from '../../src/audit/signing.js';
import { useMigratedDatabase } from '../compliance/helpers.js';

const db = useMigratedDatabase();
const dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-audit-streams-'));

function rows(n: number) {
  return Array.from({ length: n }, (_, i) => buildAuditRows({
    actor: { tenant: 'x', role: 'clinician', userId: `u${i}`, clientId: 'app', address: '127.0.0.1' },
    recorded: new Date().toISOString(), subtype: 'read', action: 'R', outcome: 0,
    resource: `Observation/o${i}`, patients: [`Patient/p${i % 3}`], server: { observer: 'fhirgate' }, query: { raw: 'é✓'.repeat(i), description: 'q' },
  })[0]);
}

/** Appends from several connections at once, so the events spread over several stripes. */
async function spread(tenant: string, batches: number, size: number): Promise<void> {
  await Promise.all(Array.from({ length: batches }, () => withTx({ pool: db.pool }, { tenant, role: 'clinician' }, async (tx) => appendAudit(tx, rows(size)))));
}

const verify = (tenant: string, streams?: number) => verifyAudit({ pool: db.pool }, tenant, { dataDir, trusted: loadTrustedKeys(dataDir), streams });

test('every event is checked with 1, 2, 3 or 8 streams', async () => {
  await spread('many', 24, 25);
  const stripes = await db.c.query(`select count(distinct stripe)::int as n from audit.event where tenant = 'many'`);
  assert.ok(stripes.rows[0].n > 2, 'spread over several stripes');
  for (const streams of [1, 2, 3, 8]) {
    const r = await verify('many', streams);
    assert.equal(r.events, 600, `streams ${streams}`);
    assert.ok(r.stripes >= stripes.rows[0].n);
  }
});

test('an event on a stripe without a chain head is verified too, and refused', async () => {
  await spread('planted', 4, 3);
  // A well-formed one-event chain (hashed as audit.append would) on stripe 100, which has no head (append uses stripes 0–63).
  await db.c.query(`insert into audit.event select tenant, 100, 1, id || '-copy', recorded, type, subtype, action, outcome, agent, patient, entity, content,
      decode(repeat('00', 32), 'hex'), sha256(decode(repeat('00', 32), 'hex') || convert_to(audit.hash_line(tenant, 100::smallint, 1, id || '-copy', recorded,
        type, subtype, action, outcome, agent, patient, entity, content), 'UTF8'))
    from audit.event where tenant = 'planted' and pos = 1 limit 1`);
  for (const streams of [1, 4]) await assert.rejects(verify('planted', streams), /stripe 100: events exist but the chain head is missing/);
});

test('a break in one stream ends the verification; the pool serves the next one', async () => {
  await spread('broken', 8, 200);
  await spread('fine', 2, 5);
  const victim = await db.c.query(`select id, stripe, pos from audit.event where tenant = 'broken' order by stripe desc, pos limit 1 offset 3`);
  await db.c.query('begin');
  await db.c.query('set local session_replication_role = replica');
  await db.c.query(`update audit.event set agent = 'someone-else' where tenant = 'broken' and id = $1`, [victim.rows[0].id]);
  await db.c.query('commit');
  await assert.rejects(verify('broken', 4), (e: Error) => e.message.includes(`AuditEvent/${victim.rows[0].id}`) && /edited/.test(e.message));
  assert.equal((await verify('fine', 8)).events, 10);
  const idle = await db.c.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`);
  assert.equal(idle.rows[0].n, 0, 'no transaction left open');
});
