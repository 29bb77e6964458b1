// The derived index rows of src/store/search-index.ts (R4 search.html#contained, #text, #content): contained
// resources' rows with their position, fhir.sp_contained and fhir.sp_text are written by every write path
// (REST, and the importer's bulk path through writeCustomIndex), replaced on rewrite, removed on delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useServerAndDir } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { run } from '../../src/cli/import.js';

const fx = useServerAndDir('fhirgate-derived-');

const sql = async (text: string, values: unknown[] = []) => (await fx.server.db.pool.query(text, values)).rows;
const ridOf = async (type: string, id: string) => (await sql('select rid::text from fhir.resource where type = $1 and id = $2', [type, id]))[0].rid as string;
const request = (id: string, code: string, words: string) => ({
  resourceType: 'MedicationRequest', id, status: 'active', intent: 'order', subject: { reference: 'Patient/p1' },
  text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${words}</div>` },
  contained: [{ resourceType: 'Medication', id: 'm', code: { coding: [{ system: 'urn:meds', code }] } }], medicationReference: { reference: '#m' },
});
const ids = async (path: string) => {
  const r = await call(fx.server.fhirBase, 'GET', path);
  assert.equal(r.status, 200, r.text);
  return (r.json.entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id).sort();
};
const counts = async (rid: string) => (await sql(`select (select count(*) from fhir.sp_contained where rid = $1)::int as contained,
  (select count(*) from fhir.sp_token where rid = $1 and cx is not null)::int as tokens, (select count(*) from fhir.sp_text where rid = $1)::int as text`, [rid]))[0];

test('the REST path: one sp_text row per resource, contained rows at their position, all replaced and removed', async () => {
  assert.equal((await call(fx.server.fhirBase, 'PUT', 'MedicationRequest/r1', request('r1', 'aspirin', 'take with food'))).status, 201);
  const rid = await ridOf('MedicationRequest', 'r1');
  const first = await counts(rid);
  assert.equal(first.contained, 1);
  assert.equal(first.text, 1);
  assert.ok(first.tokens > 0);
  assert.deepEqual((await sql('select cx, ctype, cid, type from fhir.sp_contained where rid = $1', [rid])).map((r) => [r.cx, r.ctype, r.cid, r.type]),
    [[0, 'Medication', 'm', 'MedicationRequest']]);
  await call(fx.server.fhirBase, 'PUT', 'MedicationRequest/r1', request('r1', 'ibuprofen', 'take after meals'));
  assert.deepEqual(await counts(rid), first, 'rewritten, not duplicated');
  assert.deepEqual(await ids('Medication?code=aspirin&_contained=true'), []);
  assert.deepEqual(await ids('Medication?code=ibuprofen&_contained=true'), ['r1']);
  assert.deepEqual(await ids('MedicationRequest?_text=food'), []);
  assert.deepEqual(await ids('MedicationRequest?_text=meals'), ['r1']);
  await call(fx.server.fhirBase, 'DELETE', 'MedicationRequest/r1');
  assert.deepEqual(await counts(rid), { contained: 0, tokens: 0, text: 0 });
});

test('the importer: new and replaced resources get their contained rows and text documents', async () => {
  const path = join(fx.dir, 'one.ndjson');
  writeFileSync(path, `${JSON.stringify(request('i1', 'paracetamol', 'imported narrative'))}\n`);
  const r1 = await run(['--workers', '1', path], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  assert.equal(r1.resources, 1);
  assert.deepEqual(await ids('Medication?code=paracetamol&_contained=true'), ['i1']);
  assert.deepEqual(await ids('MedicationRequest?_text=imported'), ['i1']);
  const rid = await ridOf('MedicationRequest', 'i1');
  const before1 = await counts(rid);
  // The same id again, changed: the importer's replace path.
  writeFileSync(path, `${JSON.stringify(request('i1', 'naproxen', 'replaced narrative'))}\n`);
  await run(['--workers', '1', path], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  assert.deepEqual(await counts(rid), before1);
  assert.deepEqual(await ids('Medication?code=paracetamol&_contained=true'), []);
  assert.deepEqual(await ids('Medication?code=naproxen&_contained=true'), ['i1']);
  assert.deepEqual(await ids('MedicationRequest?_text=imported'), []);
  assert.deepEqual(await ids('MedicationRequest?_text=replaced'), ['i1']);
});
