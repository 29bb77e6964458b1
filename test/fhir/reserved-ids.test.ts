// Ids reserved for the server's own OperationDefinitions (OperationDefinition/fhirgate-…,
// src/fhir/operations/reserved-ids.ts) cannot be written by any path: a conditional update whose body names
// one (http.html#cond-update "Update as Create"), a transaction or batch entry, `fhirgate import`. REST
// answers 405 as a plain PUT to that URL does; import reports a problem with the file and line and goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useServerAndDir } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { run } from '../../src/cli/import.js';

const fx = useServerAndDir('fhirgate-reserved-');
const od = (id?: string) => ({ resourceType: 'OperationDefinition', ...(id ? { id } : {}), url: `http://example.org/od/${id ?? 'x'}`, name: 'Mine', status: 'draft', kind: 'operation', code: 'mine', system: true, type: false, instance: false });

async function storedReserved(): Promise<number> {
  const r = await fx.server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'OperationDefinition' and id like 'fhirgate-%'`);
  return r.rows[0].n;
}

async function stillTheServers() {
  const r = await call(fx.server.fhirBase, 'GET', 'OperationDefinition/fhirgate-reindex');
  assert.equal(r.status, 200);
  assert.equal(r.json.code, 'reindex');
}

test('a conditional update with no match whose body id is reserved is 405 with Allow, and stores nothing', async () => {
  for (const id of ['fhirgate-reindex', 'fhirgate-not-yet-served']) {
    const r = await call(fx.server.fhirBase, 'PUT', `OperationDefinition?url=${encodeURIComponent(`http://example.org/od/${id}`)}`, od(id));
    assert.equal(r.status, 405, r.text);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.match(r.json.issue[0].diagnostics, /reserved/);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
  }
  // A plain PUT to a reserved id the server does not serve (yet) is refused alike.
  assert.equal((await call(fx.server.fhirBase, 'PUT', 'OperationDefinition/fhirgate-later', od('fhirgate-later'))).status, 405);
  assert.equal(await storedReserved(), 0);
  await stillTheServers();
  // Other ids are written as before.
  assert.equal((await call(fx.server.fhirBase, 'PUT', 'OperationDefinition/mine-1', od('mine-1'))).status, 201);
});

test('a transaction entry at a reserved id fails the transaction (405); a batch entry fails alone', async () => {
  const tx = await call(fx.server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: { resourceType: 'Patient', id: 'res-tx-1' }, request: { method: 'PUT', url: 'Patient/res-tx-1' } },
    { resource: od('fhirgate-reindex'), request: { method: 'PUT', url: `OperationDefinition?url=${encodeURIComponent('http://example.org/od/none')}` } },
  ] });
  assert.equal(tx.status, 405, tx.text);
  assert.equal(tx.json.resourceType, 'OperationOutcome');
  assert.equal((await call(fx.server.fhirBase, 'GET', 'Patient/res-tx-1')).status, 404, 'nothing of the transaction is written');
  const tx2 = await call(fx.server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: od('fhirgate-later'), request: { method: 'PUT', url: 'OperationDefinition/fhirgate-later' } },
  ] });
  assert.equal(tx2.status, 405, tx2.text);
  const batch = await call(fx.server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [
    { resource: od('fhirgate-reindex'), request: { method: 'PUT', url: `OperationDefinition?url=${encodeURIComponent('http://example.org/od/none')}` } },
    { resource: { resourceType: 'Patient', id: 'res-b-1' }, request: { method: 'PUT', url: 'Patient/res-b-1' } },
  ] });
  assert.equal(batch.status, 200, batch.text);
  assert.match(batch.json.entry[0].response.status, /^405/);
  assert.match(batch.json.entry[1].response.status, /^201/);
  assert.equal(await storedReserved(), 0);
  await stillTheServers();
});

test('fhirgate import reports a reserved id as a problem with its file and line, and imports the rest', async () => {
  const path = join(fx.dir, 'defs.ndjson');
  writeFileSync(path, [od('imp-ok-1'), od('fhirgate-reindex'), od('imp-ok-2')].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const bundlePath = join(fx.dir, 'defs-tx.json');
  writeFileSync(bundlePath, JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [
    { resource: od('fhirgate-later'), request: { method: 'PUT', url: 'OperationDefinition/fhirgate-later' } },
    { resource: od('imp-ok-3'), request: { method: 'PUT', url: 'OperationDefinition/imp-ok-3' } },
  ] }));
  const r = await run(['--workers', '0', path, bundlePath], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  const problems = r.problems as Array<{ file: string; line?: number; entry?: number; message: string }>;
  assert.equal(problems.length, 2, JSON.stringify(problems));
  const line = problems.find((p) => p.file.endsWith('defs.ndjson'));
  assert.equal(line?.line, 2);
  assert.match(line!.message, /OperationDefinition\/fhirgate-reindex is reserved/);
  const entry = problems.find((p) => p.file.endsWith('defs-tx.json'));
  assert.equal(entry?.entry, 0);
  for (const id of ['imp-ok-1', 'imp-ok-2', 'imp-ok-3']) assert.equal((await call(fx.server.fhirBase, 'GET', `OperationDefinition/${id}`)).status, 200, id);
  assert.equal(await storedReserved(), 0);
  await stillTheServers();
});
