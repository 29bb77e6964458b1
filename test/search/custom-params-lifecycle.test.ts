// $reindex replaces the tenant's set of custom SearchParameters: one retired or deleted since the last
// $reindex stops being searchable and its index rows in the reindexed type are removed; conflicting ones
// stored without the write-time check (older data, direct loads) are all set aside, not one picked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';
import { withTx, type Tx } from '../../src/store/session.js';
import { reindexInTx } from '../../src/fhir/operations/reindex.js';
import { updateResource, deleteResource } from '../../src/fhir/resource-write.js';
import { keyText, paramKey } from '../../src/search/hash.js';
import { loadConfig } from '../../src/config.js';
import type { FhirRequest } from '../../src/fhir/types.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let s: SearchDb;
const config = loadConfig({ PUBLIC_URL: 'http://test.local', AUTH: 'off' });
const run = <T>(fn: (tx: Tx) => Promise<T>) => withTx(s.db, s.ctx, fn);
const reindex = async (type: string): Promise<Json[]> => {
  const req: FhirRequest = { method: 'POST', segments: [type, '$reindex'], params: [], headers: {}, ctx: { tenant: 'default', role: 'system', scopes: ['system/*.cruds'] } };
  const res = await run((tx) => reindexInTx(req, tx, { db: s.db, config }));
  return (res.body as Json).parameter;
};
const ids = (b: Json) => (b.entry ?? []).filter((e: Json) => e.search.mode === 'match').map((e: Json) => e.resource.id).sort();
const ignored = (b: Json) => (b.entry ?? []).some((e: Json) => e.search.mode === 'outcome');
const rows = async (key: string) =>
  Number((await s.pool.query('select count(*) from fhir.sp_string where p = $1::int8', [keyText(paramKey(key))])).rows[0].count);
const sp = (id: string, code: string, over: Json = {}): Resource => ({
  resourceType: 'SearchParameter', id, url: `http://example.org/sp/${id}`, name: code, status: 'active', description: 'x',
  code, base: ['Patient'], type: 'string', expression: 'Patient.name.family', ...over,
} as Resource);

before(async () => {
  s = await startSearchDb();
  await s.load([
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Smith', given: ['Ann'] }] },
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Jones', given: ['Bob'] }] },
  ] as unknown as Resource[]);
});
after(async () => { await s?.stop(); });

test('a custom parameter retired and reindexed stops matching and loses its index rows', async () => {
  await s.load([sp('fam', 'famx')]);
  await reindex('Patient');
  assert.deepEqual(ids(await search(s, 'Patient?famx=smi')), ['p1']);
  assert.ok(await rows('Patient.famx') > 0);
  const current = await run((tx) => tx.query<{ content: string }>("select content from fhir.resource where type = 'SearchParameter' and id = 'fam'"));
  const retired = { ...JSON.parse(current.rows[0].content), status: 'retired' };
  await run((tx) => updateResource(tx, 'SearchParameter', 'fam', retired, new Date().toISOString()));
  const out = await reindex('Patient');
  assert.ok(out.some((p) => p.name === 'deactivated' && p.valueString === 'http://example.org/sp/fam'), JSON.stringify(out));
  assert.ok(out.some((p) => p.name === 'skipped' && /SearchParameter\/fam .*retired/.test(p.valueString)));
  const after1 = await search(s, 'Patient?famx=smi');
  assert.ok(ignored(after1), 'an unknown parameter now: reported, not applied');
  await assert.rejects(search(s, 'Patient?famx=smi', { prefer: 'handling=strict' }), /famx/);
  assert.equal(await rows('Patient.famx'), 0);
});

test('a deleted custom parameter is deactivated by the next $reindex', async () => {
  await s.load([sp('giv', 'givx', { expression: 'Patient.name.given' })]);
  await reindex('Patient');
  assert.deepEqual(ids(await search(s, 'Patient?givx=bo')), ['p2']);
  await run((tx) => deleteResource(tx, 'SearchParameter', 'giv', new Date().toISOString()));
  await reindex('Patient');
  assert.ok(ignored(await search(s, 'Patient?givx=bo')));
  assert.equal(await rows('Patient.givx'), 0);
});

test('conflicting SearchParameters stored without the write-time check are all set aside by $reindex', async () => {
  // s.load writes the rows directly, as older data or a bulk load would have.
  await s.load([sp('dup1', 'dupx'), sp('dup2', 'dupx', { expression: 'Patient.name.given' }), sp('sh', 'name')]);
  const out = await reindex('Patient');
  const skipped = out.filter((p) => p.name === 'skipped').map((p) => p.valueString as string);
  assert.ok(skipped.some((x) => /SearchParameter\/dup1 .*code 'dupx' is also the code of SearchParameter\/dup2/.test(x)), JSON.stringify(skipped));
  assert.ok(skipped.some((x) => /SearchParameter\/dup2 .*conflicts with SearchParameter\/dup1/.test(x)));
  assert.ok(skipped.some((x) => /SearchParameter\/sh .*'name' is already a built-in search parameter of Patient/.test(x)));
  assert.ok(!out.some((p) => p.name === 'active' && /dupx|name/.test(p.valueString)));
  assert.ok(ignored(await search(s, 'Patient?dupx=smi')));
  // The built-in parameter is untouched.
  assert.deepEqual(ids(await search(s, 'Patient?name=smi')), ['p1']);
});

test('a stored definition whose expression does not compile is skipped and does not break writes', async () => {
  await s.load([sp('bad', 'badx', { expression: 'Patient.name.(((' })]);
  const out = await reindex('Patient');
  assert.ok(out.some((p) => p.name === 'skipped' && /SearchParameter\/bad .*not valid FHIRPath/.test(p.valueString)), JSON.stringify(out));
  // Activated, it made every later Patient write fail (500) when the index was extracted.
  await run((tx) => updateResource(tx, 'Patient', 'p3', { resourceType: 'Patient', id: 'p3', name: [{ family: 'Smithers' }] } as Resource, new Date().toISOString()));
  assert.deepEqual(ids(await search(s, 'Patient?name=smithers')), ['p3']);
});

test('an activation recorded before these rules is checked again when a process loads it', async () => {
  // A tenant whose fhir.search_param_custom holds a definition that does not compile (activated by an
  // older version); this process has not loaded that tenant yet.
  const definition = { url: 'http://example.org/sp/old', code: 'oldx', type: 'string', base: ['Patient'], expression: 'Patient.name.(((' };
  await s.pool.query('insert into fhir.search_param_custom (tenant, url, code, definition) values ($1, $2, $3, $4)',
    ['legacy', definition.url, definition.code, JSON.stringify(definition)]);
  await withTx(s.db, { ...s.ctx, tenant: 'legacy' }, (tx) =>
    updateResource(tx, 'Patient', 'l1', { resourceType: 'Patient', id: 'l1', name: [{ family: 'Lee' }] } as Resource, new Date().toISOString()));
  assert.deepEqual(ids(await search(s, 'Patient?name=lee', {}, 'legacy')), ['l1']);
});
