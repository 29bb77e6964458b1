// Decimals keep the precision the client wrote (R4 datatypes.html#decimal: "0.010 is regarded as different
// to 0.01, and the original precision should be preserved"; json.html) through every write path — create,
// update, PATCH, transaction, `fhirgate import` — and come back so on read, _elements, search, the
// Prefer: return=representation answer and in the de-identified copy. Assertions are on the response TEXT: a JSON parser would lose it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useServerAndDir } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { run } from '../../src/cli/import.js';

const fx = useServerAndDir('fhirgate-decimals-');

/** An Observation as text: value 1.50 and a component's 0.010, which JSON.stringify cannot write. */
const observation = (id?: string, status = 'final') => `{"resourceType":"Observation",${id ? `"id":"${id}",` : ''}"status":"${status}",` +
  '"code":{"text":"glucose"},"valueQuantity":{"value":1.50,"unit":"mmol/L"},' +
  '"component":[{"code":{"text":"part"},"valueQuantity":{"value":0.010,"unit":"mg"}},{"code":{"text":"big"},"valueQuantity":{"value":12345678901234567.890}}]}';

function assertPrecise(text: string, where: string): void {
  assert.match(text, /"valueQuantity":\{"value":1\.50,/, `${where}: 1.50 kept`);
  assert.match(text, /"value":0\.010,/, `${where}: 0.010 kept`);
  assert.match(text, /"value":12345678901234567\.890\}/, `${where}: 20 significant digits kept`);
}

const stored = async (type: string, id: string): Promise<string> =>
  (await fx.server.db.pool.query('select content from fhir.resource where type = $1 and id = $2', [type, id])).rows[0].content as string;

test('create answers (return=representation) and stores the decimals as sent; read returns them', async () => {
  const created = await call(fx.server.fhirBase, 'POST', 'Observation', observation(), { prefer: 'return=representation' });
  assert.equal(created.status, 201, created.text);
  assertPrecise(created.text, 'create response');
  const id = created.json.id as string;
  assertPrecise(await stored('Observation', id), 'stored text');
  const read = await call(fx.server.fhirBase, 'GET', `Observation/${id}`);
  assert.equal(read.status, 200);
  assertPrecise(read.text, 'read');
  // The de-identified copy, written in the same transaction, keeps them too.
  const copies = (await fx.server.db.pool.query(`select content from deid.resource where type = 'Observation'`)).rows as Array<{ content: string }>;
  assert.ok(copies.some((c) => /"value":1\.50,/.test(c.content) && /"value":0\.010,/.test(c.content)), copies[0]?.content);
  // Search indexes the value: 1.50 is found as the number 1.5.
  const found = await call(fx.server.fhirBase, 'GET', `Observation?value-quantity=1.5&_id=${id}`);
  assert.equal(found.json.total, 1, found.text);
  assertPrecise(found.text, 'search');
});

test('update and PATCH of another element keep the decimals; a patched decimal keeps the patch’s spelling', async () => {
  const put = await call(fx.server.fhirBase, 'PUT', 'Observation/dec-put', observation('dec-put', 'preliminary'));
  assert.equal(put.status, 201, put.text);
  const updated = await call(fx.server.fhirBase, 'PUT', 'Observation/dec-put', observation('dec-put', 'amended'));
  assert.equal(updated.status, 200, updated.text);
  assertPrecise(updated.text, 'update response');
  const patched = await call(fx.server.fhirBase, 'PATCH', 'Observation/dec-put', '[{"op":"replace","path":"/status","value":"final"}]', { 'content-type': 'application/json-patch+json' });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.status, 'final');
  assertPrecise(patched.text, 'patch response');
  assertPrecise((await call(fx.server.fhirBase, 'GET', 'Observation/dec-put')).text, 'read after patch');
  const second = await call(fx.server.fhirBase, 'PATCH', 'Observation/dec-put', '[{"op":"replace","path":"/component/0/valueQuantity/value","value":0.0200}]', { 'content-type': 'application/json-patch+json' });
  assert.equal(second.status, 200, second.text);
  assert.match(second.text, /"value":0\.0200,/);
  assert.match(second.text, /"valueQuantity":\{"value":1\.50,/);
});

test('a transaction Bundle keeps its entries’ decimals, including a PUT and a PATCH entry', async () => {
  const patchDoc = Buffer.from('[{"op":"add","path":"/valueQuantity/comparator","value":"<"},{"op":"replace","path":"/component/0/valueQuantity/value","value":0.0300}]').toString('base64');
  await call(fx.server.fhirBase, 'PUT', 'Observation/dec-tx-patch', observation('dec-tx-patch'));
  const bundle = `{"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:9d6f3b2e-0000-4000-8000-000000000001","resource":${observation()},"request":{"method":"POST","url":"Observation"}},
    {"resource":${observation('dec-tx-put')},"request":{"method":"PUT","url":"Observation/dec-tx-put"}},
    {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"${patchDoc}"},"request":{"method":"PATCH","url":"Observation/dec-tx-patch"}}]}`;
  const r = await call(fx.server.fhirBase, 'POST', '', bundle);
  assert.equal(r.status, 200, r.text);
  const posted = (r.json.entry[0].response.location as string).split('/')[1];
  assertPrecise((await call(fx.server.fhirBase, 'GET', `Observation/${posted}`)).text, 'transaction POST');
  assertPrecise((await call(fx.server.fhirBase, 'GET', 'Observation/dec-tx-put')).text, 'transaction PUT');
  const patched = await call(fx.server.fhirBase, 'GET', 'Observation/dec-tx-patch');
  assert.equal(patched.json.valueQuantity.comparator, '<');
  assert.match(patched.text, /"valueQuantity":\{"value":1\.50,/);
  assert.match(patched.text, /"value":0\.0300,/, 'the Binary patch document keeps its own spelling');
});

test('_elements and _summary re-serialise the stored resource with its decimals', async () => {
  await call(fx.server.fhirBase, 'PUT', 'Observation/dec-el', observation('dec-el'));
  const el = await call(fx.server.fhirBase, 'GET', 'Observation/dec-el?_elements=valueQuantity');
  assert.equal(el.status, 200);
  assert.match(el.text, /"valueQuantity":\{"value":1\.50,/);
  assert.equal(el.json.component, undefined);
  assert.ok(el.json.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
  assertPrecise((await call(fx.server.fhirBase, 'GET', 'Observation/dec-el?_summary=data')).text, '_summary=data');
  const searched = await call(fx.server.fhirBase, 'GET', 'Observation?_id=dec-el&_elements=valueQuantity');
  assert.match(searched.text, /"valueQuantity":\{"value":1\.50,/);
});

test('fhirgate import keeps the decimals of NDJSON lines, inline and in worker threads; a re-import with another precision is a new version', async () => {
  const path = join(fx.dir, 'decimals.ndjson');
  writeFileSync(path, `${observation('dec-imp-1')}\n${observation('dec-imp-2')}\n`);
  const r = await run(['--workers', '0', path], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  assert.equal(r.created, 2, JSON.stringify(r));
  assertPrecise((await call(fx.server.fhirBase, 'GET', 'Observation/dec-imp-1')).text, 'import');
  const w = join(fx.dir, 'decimals-w.ndjson');
  writeFileSync(w, `${observation('dec-imp-3')}\n`);
  await run(['--workers', '1', w], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  assertPrecise(await stored('Observation', 'dec-imp-3'), 'import in a worker');
  // 1.5 instead of 1.50 is another value as FHIR counts them: the import stores version 2.
  writeFileSync(path, `${observation('dec-imp-1').replace('1.50', '1.5')}\n`);
  const again = await run(['--workers', '0', path], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  assert.equal(again.updated, 1, JSON.stringify(again));
  const v2 = await call(fx.server.fhirBase, 'GET', 'Observation/dec-imp-1');
  assert.equal(v2.json.meta.versionId, '2');
  assert.match(v2.text, /"valueQuantity":\{"value":1\.5,/);
  assert.match(v2.text, /"value":0\.010,/);
});
