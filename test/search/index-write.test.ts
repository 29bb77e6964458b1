// writeIndex / deleteIndex against PostgreSQL: rows land in the typed tables with the keys the query
// side computes (JS hash halves recombined in SQL), replace on rewrite, and vanish on delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { withTx } from '../../src/store/session.js';
import { extractIndex } from '../../src/search/extract.js';
import { writeIndex, deleteIndex } from '../../src/store/search-index.js';
import { keyText, paramKey } from '../../src/search/hash.js';
import { tokenSystemCode } from '../../src/search/keys.js';

let s: SearchDb;
before(async () => { s = await startSearchDb(); });
after(async () => { await s?.stop(); });

const obs = (id: string, code: string) => ({
  resourceType: 'Observation' as const, id, status: 'final' as const,
  code: { coding: [{ system: 'http://loinc.org', code, display: 'Body Weight' }] },
  subject: { reference: 'Patient/p1' }, effectiveDateTime: '2020-02-03', valueQuantity: { value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
});

test('index rows are written with keys equal to the query-side bigint keys', async () => {
  await s.load([obs('o1', '29463-7')]);
  const rows = await withTx(s.db, s.ctx, (tx) => tx.query<{ h: string }>('select h::text from fhir.sp_token t join fhir.resource r using (rid) where r.id = $1', ['o1']));
  const want = keyText(tokenSystemCode('Observation.code', 'http://loinc.org', '29463-7'));
  assert.ok(rows.rows.some((r) => r.h === want), 'system|code key present');
  const refs = await withTx(s.db, s.ctx, (tx) => tx.query<{ ttype: string; tid: string; p: string }>('select ttype, tid, p::text from fhir.sp_reference x join fhir.resource r using (rid) where r.id = $1', ['o1']));
  assert.ok(refs.rows.some((r) => r.ttype === 'Patient' && r.tid === 'p1' && r.p === keyText(paramKey('Observation.subject'))));
  const dates = await withTx(s.db, s.ctx, (tx) => tx.query<{ lo: string; hi: string }>('select lo::text, hi::text from fhir.sp_date d join fhir.resource r using (rid) where r.id = $1', ['o1']));
  assert.ok(dates.rows.some((d) => Number(d.lo) === Date.UTC(2020, 1, 3) && Number(d.hi) === Date.UTC(2020, 1, 4)));
});

test('writeIndex replaces a resource\'s rows; deleteIndex removes them', async () => {
  await s.load([obs('o2', '1111-1')]);
  const rid = (await withTx(s.db, s.ctx, (tx) => tx.query<{ rid: string }>("select rid::text from fhir.resource where id = 'o2'"))).rows[0].rid;
  const count = async (h: string) => Number((await withTx(s.db, s.ctx, (tx) => tx.query<{ n: string }>('select count(*) n from fhir.sp_token where rid = $1 and h = $2', [rid, h]))).rows[0].n);
  const old = keyText(tokenSystemCode('Observation.code', 'http://loinc.org', '1111-1'));
  const neu = keyText(tokenSystemCode('Observation.code', 'http://loinc.org', '2222-2'));
  assert.equal(await count(old), 1);
  await withTx(s.db, s.ctx, (tx) => writeIndex(tx, [{ rid, tenant: 'default', type: 'Observation', index: extractIndex(obs('o2', '2222-2')) }]));
  assert.equal(await count(old), 0);
  assert.equal(await count(neu), 1);
  await withTx(s.db, s.ctx, (tx) => deleteIndex(tx, [rid]));
  const left = await withTx(s.db, s.ctx, (tx) => tx.query<{ n: string }>(
    `select (select count(*) from fhir.sp_token where rid = $1) + (select count(*) from fhir.sp_reference where rid = $1)
      + (select count(*) from fhir.sp_date where rid = $1) + (select count(*) from fhir.sp_number where rid = $1) n`, [rid]));
  assert.equal(Number(left.rows[0].n), 0);
});

test('values with quotes, backslashes and SQL text are stored as data', async () => {
  const name = `O'Brien \\ "x" %_ ); drop table fhir.resource; --`;
  await s.load([{ resourceType: 'Patient', id: 'q1', name: [{ family: name }] } as Resource]);
  const r = await withTx(s.db, s.ctx, (tx) => tx.query<{ x: string }>("select x from fhir.sp_string s join fhir.resource r using (rid) where r.id = 'q1' and x is not null"));
  assert.ok(r.rows.some((row) => row.x === name));
});
