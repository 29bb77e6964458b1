// Group commit (src/store/group-tx.ts): concurrent reading requests share one transaction, yet each
// statement runs under its own request's context (row-level security sees each caller), every member's
// AuditEvent commits with the group, and a member whose statement fails gets its own error while the
// others are answered, their events recorded once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMigratedDatabase } from '../compliance/helpers.js';
import { withGroupTx } from '../../src/store/group-tx.js';
import { appendAudit, type AuditRowIn } from '../../src/store/audit.js';
import type { Db, DbContext, Tx } from '../../src/store/session.js';

const m = useMigratedDatabase();
const TENANT = 'gt';

function event(id: string, patient: string): AuditRowIn {
  return { id, recorded: new Date().toISOString(), type: 'rest', subtype: 'read', action: 'R', outcome: 0, agent: 'test', patient, entity: patient, content: JSON.stringify({ resourceType: 'AuditEvent', id }) };
}

async function seed(): Promise<void> {
  const exists = await m.c.query(`select 1 from fhir.resource where tenant = $1 limit 1`, [TENANT]);
  if (exists.rowCount) return;
  for (const p of ['p1', 'p2', 'p3']) {
    for (const type of ['Patient', 'Observation']) {
      const id = type === 'Patient' ? p : `o-${p}`;
      await m.c.query(`insert into fhir.resource (tenant, type, id, version, last_updated, compartments, content) values ($1, $2, $3, 1, now(), $4, $5)`,
        [TENANT, type, id, [`Patient/${p}`], JSON.stringify({ resourceType: type, id })]);
    }
  }
}

const patientCtx = (p: string): DbContext => ({ tenant: TENANT, role: 'patient', patient: p, scopes: 'patient/*.rs', actor: p });

/** One member's work: what it sees of Observations, and which transaction it ran in. */
async function readOwn(tx: Tx, auditId: string): Promise<{ ids: string[]; txStart: string; pid: number }> {
  const r = await tx.queryPrepared<{ id: string }>('gt_obs', `select id from fhir.resource where tenant = $1 and type = 'Observation' order by id`, [TENANT]);
  const w = await tx.query<{ t: string; pid: number }>('select now()::text as t, pg_backend_pid() as pid');
  await appendAudit(tx, [event(auditId, `Patient/${tx.ctx.patient}`)]);
  return { ids: r.rows.map((x) => x.id), txStart: w.rows[0].t, pid: w.rows[0].pid };
}

async function eventsWithIds(prefix: string): Promise<string[]> {
  const r = await m.c.query(`select id from audit.event where tenant = $1 and id like $2 order by id`, [TENANT, `${prefix}%`]);
  return r.rows.map((x) => x.id as string);
}

test('members share a transaction, each sees only its own compartment, and every AuditEvent commits', async () => {
  await seed();
  const db: Db = { pool: m.pool, groupSlots: 1 };
  // Runs of equal contexts (sent once per run: group-tx.ts keys them) between changes of patient.
  const who = ['p1', 'p1', 'p2', 'p3', 'p3', 'p1', 'p2', 'p2'];
  const results = await Promise.all(who.map((p, i) => withGroupTx(db, patientCtx(p), 'read', (tx) => readOwn(tx, `share-${i}`))));
  results.forEach((r, i) => assert.deepEqual(r.ids, [`o-${who[i]}`], `member ${i} (${who[i]}) sees only its own Observation`));
  // With one slot the first request runs alone and the ones that arrived meanwhile share the next transaction.
  const byTx = new Map<string, number>();
  for (const r of results) byTx.set(`${r.pid} ${r.txStart}`, (byTx.get(`${r.pid} ${r.txStart}`) ?? 0) + 1);
  assert.ok(Math.max(...byTx.values()) >= 2, `some members shared a transaction: ${JSON.stringify([...byTx])}`);
  assert.deepEqual(await eventsWithIds('share-'), who.map((_, i) => `share-${i}`).sort());
});

test('a failing member gets its own error; the others are answered and audited exactly once', async () => {
  await seed();
  const db: Db = { pool: m.pool, groupSlots: 1 };
  const runs = new Map<number, number>();
  const work = (i: number) => async (tx: Tx) => {
    runs.set(i, (runs.get(i) ?? 0) + 1);
    if (i === 3) await tx.query('select 1 / 0');
    return readOwn(tx, `fail-${i}`);
  };
  // A first request takes the slot; the next six form one group behind it, member 3 among them.
  const settled = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map((i) => withGroupTx(db, patientCtx(['p1', 'p2', 'p3'][i % 3]), 'read', work(i))));
  const failed = settled[3];
  assert.equal(failed.status, 'rejected');
  assert.match(String((failed as PromiseRejectedResult).reason?.message), /division by zero/);
  settled.forEach((s, i) => {
    if (i !== 3) assert.equal(s.status, 'fulfilled', `member ${i}`);
  });
  assert.ok([...runs.values()].some((n) => n > 1), 'the failure aborted a shared transaction, so its members ran again alone');
  assert.deepEqual(await eventsWithIds('fail-'), [0, 1, 2, 4, 5, 6].map((i) => `fail-${i}`));
});

test('a COMMIT that fails (an append refused) answers nobody from that transaction: each runs again alone', async () => {
  await seed();
  const db: Db = { pool: m.pool, groupSlots: 1 };
  const settled = await Promise.allSettled([0, 1, 2, 3].map((i) =>
    withGroupTx(db, patientCtx('p1'), 'read', async (tx) => {
      const r = await readOwn(tx, `commit-${i}`);
      // Member 2 defers a step that fails at COMMIT time, as a refused append would.
      if (i === 2) tx.beforeCommit({ text: 'select 1 / 0' });
      return r;
    }),
  ));
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(await eventsWithIds('commit-'), ['commit-0', 'commit-1', 'commit-3']);
});

test('slots are per kind: two search groups read at once while reads wait for their one slot', async () => {
  await seed();
  // No early release of a slot (groupSlowMs): on a loaded machine a group's first reads on a new
  // connection can take longer than SLOW_MS, and the next read group would then start beside it.
  const db: Db = { pool: m.pool, groupSlots: 1, kindSlots: { search: 2 }, groupSlowMs: 60_000 };
  // Per kind, the connections (groups) with a member reading right now, and the most seen at once.
  const reading = { read: new Map<number, number>(), search: new Map<number, number>() };
  const most = { read: 0, search: 0 };
  const run = (kind: 'read' | 'search', i: number) => withGroupTx(db, patientCtx('p1'), kind, async (tx) => {
    const pid = (await tx.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    const now = reading[kind];
    now.set(pid, (now.get(pid) ?? 0) + 1);
    most[kind] = Math.max(most[kind], now.size);
    await tx.query('select pg_sleep(0.01)');
    if (now.get(pid) === 1) now.delete(pid);
    else now.set(pid, now.get(pid)! - 1);
    return readOwn(tx, `kind-${kind}-${i}`);
  });
  await Promise.all([0, 1, 2, 3].flatMap((i) => [run('search', i), run('read', i)]));
  assert.equal(most.search, 2, 'two search groups at once');
  assert.equal(most.read, 1, 'one read group at a time');
  assert.equal((await eventsWithIds('kind-')).length, 8);
});

test('with no slots every request runs in a transaction of its own', async () => {
  await seed();
  const db: Db = { pool: m.pool, groupSlots: 0 };
  const results = await Promise.all(['p1', 'p2', 'p3'].map((p, i) => withGroupTx(db, patientCtx(p), 'read', (tx) => readOwn(tx, `solo-${i}`))));
  assert.equal(new Set(results.map((r) => `${r.pid} ${r.txStart}`)).size, 3);
  assert.deepEqual(await eventsWithIds('solo-'), ['solo-0', 'solo-1', 'solo-2']);
});

test('a group still reading after a few milliseconds gives up its slot: a slow statement holds back no one else', async () => {
  await seed();
  const db: Db = { pool: m.pool, groupSlots: 1 };
  const order: string[] = [];
  const t0 = performance.now();
  const slow = withGroupTx(db, patientCtx('p1'), 'search', async (tx) => {
    await tx.query('select pg_sleep(0.5)');
    return readOwn(tx, 'slow-0');
  }).then(() => order.push('slow'));
  await new Promise((r) => setTimeout(r, 50));
  // The slow group holds the only slot; this one starts after it, in a group of its own.
  const quick = withGroupTx(db, patientCtx('p2'), 'search', (tx) => readOwn(tx, 'slow-1')).then((r) => {
    order.push('quick');
    return { r, ms: performance.now() - t0 };
  });
  const [, q] = await Promise.all([slow, quick]);
  assert.deepEqual(order, ['quick', 'slow'], 'the quick request did not wait for the slow one');
  assert.ok(q.ms < 400, `answered after ${Math.round(q.ms)} ms`);
  assert.deepEqual(q.r.ids, ['o-p2']);
  assert.deepEqual(await eventsWithIds('slow-'), ['slow-0', 'slow-1']);
});
