// End-to-end search over a handful of resources: one query per parameter type and feature, asserting ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';

let s: SearchDb;
const ids = (b: any, mode = 'match') => (b.entry ?? []).filter((e: any) => e.search?.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();

before(async () => {
  s = await startSearchDb();
  const R: Resource[] = [
    { resourceType: 'Organization', id: 'org1', name: 'Acme Clinic' },
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Müller', given: ['Anna'] }], gender: 'female', birthDate: '1980-05-17', managingOrganization: { reference: 'Organization/org1' } },
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Miller', given: ['Bob'] }], gender: 'male', birthDate: '1975', identifier: [{ system: 'urn:mrn', value: 'X1' }] },
    { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, subject: { reference: 'Patient/p1' },
      effectiveDateTime: '2020-03-01T10:00:00Z', valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mmHg' } },
    { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, subject: { reference: 'Patient/p2' },
      effectiveDateTime: '2021-03-01', valueQuantity: { value: 140.5, system: 'http://unitsofmeasure.org', code: 'mm[Hg]', unit: 'mmHg' } },
    { resourceType: 'Observation', id: 'o3', status: 'preliminary', code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }], text: 'Body weight' }, subject: { reference: 'Patient/p1' },
      effectivePeriod: { start: '2019-01-01' }, valueQuantity: { value: 70, unit: 'kg' } },
  ] as unknown as Resource[];
  await s.load(R);
});
after(async () => { await s?.stop(); });

test('string: starts-with, case- and accent-insensitive; :exact; :contains', async () => {
  assert.deepEqual(ids(await search(s, 'Patient?name=mul')), ['Patient/p1']);
  assert.deepEqual(ids(await search(s, 'Patient?family=MI')), ['Patient/p2']);
  assert.deepEqual(ids(await search(s, 'Patient?family:exact=Müller')), ['Patient/p1']);
  assert.deepEqual(ids(await search(s, 'Patient?family:exact=muller')), []);
  assert.deepEqual(ids(await search(s, 'Patient?name:contains=ille')), ['Patient/p2']);
});

test('token forms, :not, :text', async () => {
  assert.deepEqual(ids(await search(s, 'Observation?code=8480-6')), ['Observation/o1', 'Observation/o2']);
  assert.deepEqual(ids(await search(s, 'Observation?code=http://loinc.org|29463-7')), ['Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?code=http://loinc.org|')), ['Observation/o1', 'Observation/o2', 'Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?status:not=final')), ['Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?code:text=body')), ['Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Patient?identifier=urn:mrn|X1')), ['Patient/p2']);
});

test('date, quantity, reference, chain, _has, include', async () => {
  assert.deepEqual(ids(await search(s, 'Observation?date=2020')), ['Observation/o1']);
  assert.deepEqual(ids(await search(s, 'Observation?date=ge2021-01-01')), ['Observation/o2', 'Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Patient?birthdate=lt1980')), ['Patient/p2']);
  assert.deepEqual(ids(await search(s, 'Observation?value-quantity=gt130')), ['Observation/o2']);
  assert.deepEqual(ids(await search(s, 'Observation?value-quantity=70||kg')), ['Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?subject=Patient/p1')), ['Observation/o1', 'Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?patient=p2')), ['Observation/o2']);
  assert.deepEqual(ids(await search(s, 'Observation?subject:Patient.name=anna')), ['Observation/o1', 'Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?patient.organization.name=acme')), ['Observation/o1', 'Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Patient?_has:Observation:patient:code=29463-7')), ['Patient/p1']);
  const b = await search(s, 'Observation?code=8480-6&_include=Observation:patient');
  assert.deepEqual(ids(b, 'include'), ['Patient/p1', 'Patient/p2']);
  const rb = await search(s, 'Patient?_id=p1&_revinclude=Observation:subject');
  assert.deepEqual(ids(rb, 'include'), ['Observation/o1', 'Observation/o3']);
  assert.deepEqual(ids(await search(s, 'Observation?code-value-quantity=http://loinc.org|8480-6$gt130')), ['Observation/o2']);
  assert.deepEqual(ids(await search(s, 'Patient/p1/Observation?code=8480-6')), ['Observation/o1']);
});

test('sort, count, paging, total, missing, _filter', async () => {
  const b = await search(s, 'Observation?_sort=-date&_count=2');
  assert.deepEqual(b.entry.map((e: any) => e.resource.id), ['o2', 'o1']);
  assert.ok(b.link.some((l: any) => l.relation === 'next'));
  assert.equal((await search(s, 'Observation?_summary=count')).total, 3);
  assert.equal((await search(s, 'Observation?code=8480-6&_summary=count')).total, 2);
  assert.deepEqual(ids(await search(s, 'Patient?gender:missing=true')), []);
  assert.deepEqual(ids(await search(s, 'Patient?identifier:missing=true')), ['Patient/p1']);
  assert.deepEqual(ids(await search(s, 'Patient?_filter=' + encodeURIComponent('family eq "miller" or birthdate gt 1979'))), ['Patient/p1', 'Patient/p2']);
});
