// The bulk write paths store exactly what the REST path stores (src/store/bulk-write.ts, import workers in
// src/fhir/import/prepare.ts, transaction Bundles in src/fhir/resource-write.ts): the same content, the same
// rows in every search index table, and the same de-identified copy with the same de-identified index rows,
// whatever the path. Ids differ per path, so they are replaced by placeholders before comparing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useServerAndDir } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { run } from '../../src/cli/import.js';
import { deidSettings } from '../../src/deid/settings.js';
import { pseudonymsFor } from '../../src/deid/pseudonym.js';

const fx = useServerAndDir('fhirgate-import-eq-');

const sql = async (text: string, values: unknown[] = []) => (await fx.server.db.pool.query(text, values)).rows;

const patient = (id: string) => ({
  resourceType: 'Patient', id, meta: { tag: [{ system: 'urn:t', code: 'x' }] }, name: [{ family: 'Équal', given: ['Row "quoted"\\'] }],
  birthDate: '1971-02-03', gender: 'female', address: [{ line: ['1 Main St'], city: 'Boston', postalCode: '02115', country: 'US' }],
  identifier: [{ system: 'urn:mrn', value: `mrn-{a,b}` }], telecom: [{ system: 'phone', value: '555\t0100' }],
});
const observation = (id: string, pat: string) => ({
  resourceType: 'Observation', id, status: 'final', subject: { reference: `Patient/${pat}` }, effectiveDateTime: '2020-05-06T07:08:09Z',
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }], text: 'Blood pressure' },
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120.5, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ],
});

const TABLES: Record<string, string> = {
  sp_token: `t.p || ' ' || t.h || ' ' || coalesce(t.c, '∅')`,
  sp_string: `t.p || ' ' || t.v || ' ' || coalesce(t.x, '∅')`,
  sp_reference: `t.p || ' ' || t.ttype || ' ' || t.tid`,
  sp_date: `t.p || ' ' || t.lo || ' ' || t.hi`,
  sp_number: `t.p || ' ' || t.lo || ' ' || t.hi || ' ' || coalesce(t.system, '∅') || coalesce(t.code, '∅') || coalesce(t.unit, '∅')`,
  sp_composite: `t.p || ' ' || t.h || ' ' || coalesce(t.lo::text, '∅') || ' ' || coalesce(t.hi::text, '∅') || coalesce(t.code, '∅')`,
};

/** Every index row of a resource (identified schema by id, or deid schema by pseudonym), ids replaced. */
async function indexRows(schema: 'fhir' | 'deid', type: string, id: string, names: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (const [table, expr] of Object.entries(TABLES)) {
    const rows = await sql(`select ${expr} as k, t.type from ${schema}.${table} t join ${schema}.resource r on r.rid = t.rid
      where r.type = $1 and r.id = $2 order by 1`, [type, id]);
    for (const r of rows) out.push(`${table} ${r.type} ${replaceAll(r.k, names)}`);
  }
  return out;
}

const replaceAll = (s: string, names: Record<string, string>) => Object.entries(names).reduce((acc, [from, to]) => acc.split(from).join(to), s);

test('import (worker) and transaction Bundle store what REST stores: content, index rows, de-identified copy and its index rows', async () => {
  const norm = (c: string, names: Record<string, string>) => replaceAll(c, names).replace(/"lastUpdated":"[^"]+"/g, '"lastUpdated":"T"');
  // REST: one PUT each.
  assert.equal((await call(fx.server.fhirBase, 'PUT', 'Patient/eq-rest-p', patient('eq-rest-p'))).status, 201);
  assert.equal((await call(fx.server.fhirBase, 'PUT', 'Observation/eq-rest-o', observation('eq-rest-o', 'eq-rest-p'))).status, 201);
  // Import through a worker thread (NDJSON keeps ids).
  const nd = join(fx.dir, 'eq.ndjson');
  writeFileSync(nd, [patient('eq-imp-p'), observation('eq-imp-o', 'eq-imp-p')].map((x) => JSON.stringify(x)).join('\n') + '\n');
  const r = await run(['--workers', '1', nd], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  assert.equal(r.created, 2, JSON.stringify(r));
  // A transaction Bundle: POSTs whose ids the fx.server assigns, the Observation referring to the Patient's fullUrl.
  const tx = await call(fx.server.fhirBase, 'POST', '', {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { fullUrl: 'urn:uuid:0b6e2c9a-0000-4000-8000-000000000001', resource: patient('x'), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: 'urn:uuid:0b6e2c9a-0000-4000-8000-000000000002', resource: observation('y', 'x'), request: { method: 'POST', url: 'Observation' } },
    ].map((e, i) => (i === 1 ? { ...e, resource: { ...e.resource, subject: { reference: 'urn:uuid:0b6e2c9a-0000-4000-8000-000000000001' } } } : e)),
  });
  assert.equal(tx.status, 200, JSON.stringify(tx.json));
  const [txPat, txObs] = (tx.json.entry as Array<{ response: { location: string } }>).map((e) => e.response.location.split('/')[1]);

  const paths = [['eq-rest-p', 'eq-rest-o'], ['eq-imp-p', 'eq-imp-o'], [txPat, txObs]];
  const seen: Array<{ content: string[]; index: string[]; deid: string[]; deidIndex: string[] }> = [];
  for (const [pat, obs] of paths) {
    const names: Record<string, string> = { [pat]: 'PAT', [obs]: 'OBS' };
    const rows = await sql(`select type, content from fhir.resource where (type, id) in (('Patient', $1), ('Observation', $2)) order by type`, [pat, obs]);
    assert.equal(rows.length, 2);
    const index = [...await indexRows('fhir', 'Patient', pat, names), ...await indexRows('fhir', 'Observation', obs, names)];
    // The copies, by the keyed-hash pseudonyms of the identified ids (src/deid/pseudonym.ts).
    const s = deidSettings();
    const ps = pseudonymsFor(s.key, s.keyId, 'default');
    const [patPseudo, obsPseudo] = [ps.id('Patient', pat), ps.id('Observation', obs)];
    const [patCopy] = await sql(`select content from deid.resource where type = 'Patient' and id = $1`, [patPseudo]);
    const [obsCopy] = await sql(`select content, compartments from deid.resource where type = 'Observation' and id = $1`, [obsPseudo]);
    assert.ok(patCopy && obsCopy, `${pat} and ${obs} have de-identified copies`);
    assert.deepEqual(obsCopy.compartments, [`Patient/${patPseudo}`]);
    const dn: Record<string, string> = { [patPseudo]: 'PSEUDO-PAT', [obsPseudo]: 'PSEUDO-OBS' };
    seen.push({
      content: rows.map((x) => norm(x.content, names)),
      index,
      deid: [norm(patCopy.content, dn), norm(obsCopy.content, dn)],
      deidIndex: [...await indexRows('deid', 'Patient', patPseudo, dn), ...await indexRows('deid', 'Observation', obsPseudo, dn)],
    });
  }
  assert.ok(seen[0].index.length > 20 && seen[0].deidIndex.length > 5, 'the resources have rows in several index tables');
  for (const k of [1, 2]) {
    assert.deepEqual(seen[k].content, seen[0].content, `content, path ${k}`);
    assert.deepEqual(seen[k].index, seen[0].index, `index rows, path ${k}`);
    assert.deepEqual(seen[k].deid, seen[0].deid, `de-identified copy, path ${k}`);
    assert.deepEqual(seen[k].deidIndex, seen[0].deidIndex, `de-identified index rows, path ${k}`);
  }
});
