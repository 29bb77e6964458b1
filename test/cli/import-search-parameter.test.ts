// `fhirgate import` applies the REST write's SearchParameter rules (store/search-params-custom.ts
// assertSearchParameterFits, as src/fhir/resource-write.ts does): one code per type, no built-in shadowed,
// no url shared, a FHIRPath expression that compiles. A SearchParameter that breaks one is reported with its
// file and line or entry like any invalid resource; the rest of the import is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useServerAndDir } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { run } from '../../src/cli/import.js';

const fx = useServerAndDir('fhirgate-import-sp-');
const deps = () => ({ db: fx.server.db, config: fx.server.config, tenant: 'default' });
type Problem = { file: string; line?: number; entry?: number; message: string };

const sp = (id: string, code: string, url = `http://example.org/sp/${id}`, expression = 'Patient.gender') =>
  ({ resourceType: 'SearchParameter', id, url, name: id.replace(/-/g, '_'), status: 'active', description: 'test', code, base: ['Patient'], type: 'token', expression });
const write = (name: string, text: string) => {
  const path = join(fx.dir, name);
  writeFileSync(path, text);
  return path;
};
const status = async (path: string) => (await call(fx.server.fhirBase, 'GET', path)).status;

test('NDJSON: each SearchParameter that does not fit is refused with its line; the rest of the chunk is stored', async () => {
  const path = write('sp.ndjson', [
    sp('nd-shadow', 'gender'), // a built-in code of Patient
    sp('nd-badexpr', 'ndbadexpr', undefined, 'Patient.gender.(('), // not FHIRPath
    { resourceType: 'Patient', id: 'nd-sp-patient' },
    sp('nd-first', 'ndcode'),
    sp('nd-same-code', 'ndcode'), // the code of nd-first, stored just above in the same batch
    sp('nd-same-url', 'ndother', 'http://example.org/sp/nd-first'), // nd-first's url
    { resourceType: 'Patient', id: 'nd-sp-patient-2' },
  ].map((x) => JSON.stringify(x)).join('\n'));
  for (const workers of ['0', '1']) {
    const r = await run(['--workers', workers, path], { ...deps(), tenant: `sp-nd-${workers}` });
    const problems = r.problems as Problem[];
    assert.deepEqual(problems.map((p) => [p.file, p.line]), [[path, 1], [path, 2], [path, 5], [path, 6]], JSON.stringify(problems));
    assert.match(problems[0].message, /built-in search parameter of Patient/);
    assert.match(problems[1].message, /not valid FHIRPath/);
    assert.match(problems[2].message, /code 'ndcode' is also the code of SearchParameter\/nd-first/);
    assert.match(problems[3].message, /url http:\/\/example.org\/sp\/nd-first is also the url/);
    assert.deepEqual([r.created, r.rejected], [3, 4]);
  }
});

test('a SearchParameter that conflicts with one stored through REST is refused; re-importing a stored one is unchanged', async () => {
  assert.equal((await call(fx.server.fhirBase, 'PUT', 'SearchParameter/rest-sp', sp('rest-sp', 'restcode'))).status, 201);
  const path = write('conflict.ndjson', [sp('imp-sp', 'restcode'), sp('rest-sp', 'restcode')].map((x) => JSON.stringify(x)).join('\n'));
  const r = await run(['--workers', '0', path], deps());
  const problems = r.problems as Problem[];
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0].line, 1);
  assert.match(problems[0].message, /SearchParameter\/rest-sp/);
  assert.deepEqual([r.created, r.unchanged, r.rejected], [0, 1, 1]);
  assert.equal(await status('SearchParameter/imp-sp'), 404);
});

test('a transaction Bundle with a SearchParameter that does not fit is rejected whole, naming the entry; a collection loses only that entry', async () => {
  const entries = [
    { resource: { resourceType: 'Patient', id: 'tx-sp-p' }, request: { method: 'PUT', url: 'Patient/tx-sp-p' } },
    { resource: sp('tx-shadow', 'birthdate'), request: { method: 'PUT', url: 'SearchParameter/tx-shadow' } },
  ];
  const tx = write('tx.json', JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }));
  const coll = write('coll.json', JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [
    { resource: sp('coll-a', 'collcode') }, { resource: sp('coll-b', 'collcode') }, { resource: { resourceType: 'Patient', id: 'coll-sp-p' } },
  ] }));
  const after = write('after.ndjson', JSON.stringify({ resourceType: 'Patient', id: 'after-sp' }));
  const r = await run(['--keep-ids', '--workers', '0', tx, coll, after], deps());
  const problems = r.problems as Problem[];
  assert.equal(problems.length, 2, JSON.stringify(problems));
  assert.deepEqual([problems[0].file, problems[0].entry], [tx, 1]);
  assert.match(problems[0].message, /^transaction Bundle rejected \(2 entries, none stored\): not stored: code 'birthdate'/);
  assert.deepEqual([problems[1].file, problems[1].entry], [coll, 1]);
  assert.equal(await status('Patient/tx-sp-p'), 404, 'nothing of the transaction is stored');
  assert.equal(await status('SearchParameter/coll-a'), 200);
  assert.equal(await status('SearchParameter/coll-b'), 404);
  assert.equal(await status('Patient/coll-sp-p'), 200);
  assert.equal(await status('Patient/after-sp'), 200);
  assert.deepEqual([r.created, r.rejected], [3, 3]);
});
