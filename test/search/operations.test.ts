// $everything (paged compartment + referenced resources) and $reindex (a custom SearchParameter becomes
// searchable after reindexing, without a restart or schema change; new writes index it too).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search, BASE } from './helpers/run.js';
import { withTx } from '../../src/store/session.js';
import { patientEverythingInTx } from '../../src/fhir/operations/everything.js';
import { reindexInTx } from '../../src/fhir/operations/reindex.js';
import { loadConfig } from '../../src/config.js';
import type { FhirRequest } from '../../src/fhir/types.js';

let s: SearchDb;
const config = loadConfig({ PUBLIC_URL: 'http://test.local', AUTH: 'off' });
const req = (segments: string[], params: Array<[string, string]> = []): FhirRequest => ({
  method: 'GET', segments, params, headers: {}, ctx: { tenant: 'default', role: 'system', scopes: ['system/*.cruds'] },
});
const run = <T>(fn: (tx: any) => Promise<T>) => withTx(s.db, s.ctx, fn);

before(async () => {
  s = await startSearchDb();
  const R = [
    { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Who' }] },
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Smith' }], generalPractitioner: [{ reference: 'Practitioner/dr1' }] },
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Jones' }] },
    ...Array.from({ length: 7 }, (_, i) => ({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' },
      subject: { reference: i < 5 ? 'Patient/p1' : 'Patient/p2' }, performer: [{ reference: 'Practitioner/dr1' }] })),
  ] as unknown as Resource[];
  await s.load(R);
});
after(async () => { await s?.stop(); });

test('$everything pages through the compartment exactly once and includes referenced resources once', async () => {
  const seen: string[] = [];
  const included: string[] = [];
  let params: Array<[string, string]> = [['_count', '2']];
  for (let i = 0; i < 10; i++) {
    const res = await run((tx) => patientEverythingInTx(req(['Patient', 'p1', '$everything'], params), tx, { db: s.db, config }));
    const b = JSON.parse(res.raw!);
    for (const e of b.entry ?? []) (e.search.mode === 'match' ? seen : included).push(`${e.resource.resourceType}/${e.resource.id}`);
    const next = b.link.find((l: any) => l.relation === 'next');
    if (!next) break;
    params = [...new URL(next.url).searchParams.entries()];
  }
  assert.deepEqual(seen.sort(), ['Observation/o0', 'Observation/o1', 'Observation/o2', 'Observation/o3', 'Observation/o4', 'Patient/p1']);
  // Referred to by the Patient and by every Observation, returned once (after the compartment).
  assert.deepEqual(included, ['Practitioner/dr1']);
});

test('a custom SearchParameter is searchable after $reindex', async () => {
  await s.load([{ resourceType: 'SearchParameter', id: 'sp1', url: 'http://example.org/sp/family-x', name: 'familyx', status: 'active',
    description: 'x', code: 'familyx', base: ['Patient'], type: 'string', expression: 'Patient.name.family' } as Resource]);
  const before1 = await search(s, 'Patient?familyx=smi');
  assert.ok(before1.entry.some((e: any) => e.search.mode === 'outcome'), 'unknown before reindex: reported, not applied');
  const res = await run((tx) => reindexInTx(req(['Patient', '$reindex']), tx, { db: s.db, config }));
  assert.equal((res.body as any).parameter[0].valueInteger, 2);
  const after1 = await search(s, 'Patient?familyx=smi');
  assert.deepEqual(after1.entry.map((e: any) => e.resource.id), ['p1']);
  await s.load([{ resourceType: 'Patient', id: 'p3', name: [{ family: 'Smithers' }] } as Resource]);
  const after2 = await search(s, 'Patient?familyx=smi');
  assert.deepEqual(after2.entry.map((e: any) => e.resource.id).sort(), ['p1', 'p3']);
  assert.ok(BASE);
});
