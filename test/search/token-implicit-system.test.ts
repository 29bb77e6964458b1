// A token search with a system on a `code` element uses the element's implicit system (R4 search.html#token, data
// type `code`: URI "(implicit)", "the system is defined in the value set"): `gender=<administrative-gender>|female`
// finds the female patients, where it used to find nothing because a code element is stored without a system.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';

let s: SearchDb;
const GENDER = 'http://hl7.org/fhir/administrative-gender';
before(async () => {
  s = await startSearchDb();
  await s.load([
    { resourceType: 'Patient', id: 'f', gender: 'female' } as Resource,
    { resourceType: 'Patient', id: 'm', gender: 'male' } as Resource,
    { resourceType: 'Patient', id: 'none' } as Resource,
    { resourceType: 'Observation', id: 'final', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: 'final' }] } } as Resource,
    { resourceType: 'Observation', id: 'prelim', status: 'preliminary', code: { coding: [{ code: 'final' }] } } as Resource,
  ]);
});
after(async () => { await s?.stop(); });

const ids = async (q: string): Promise<string[]> => ((await search(s, q)).entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();

test('[system]|[code] on a code element matches the code when the bound value set has it in that system', async () => {
  assert.deepEqual(await ids(`Patient?gender=${GENDER}|female`), ['f']);
  assert.deepEqual(await ids(`Patient?gender=${GENDER}|female,${GENDER}|male`), ['f', 'm']);
  assert.deepEqual(await ids('Observation?status=http://hl7.org/fhir/observation-status|final'), ['final']);
  assert.deepEqual(await ids(`Patient?_filter=${encodeURIComponent(`gender eq ${GENDER}|male`)}`), ['m']);
  assert.equal((await search(s, `Patient?gender=${GENDER}|female&_summary=count`)).total, 1);
  // The forms without a system are as before.
  assert.deepEqual(await ids('Patient?gender=female'), ['f']);
  assert.deepEqual(await ids('Patient?gender=|female'), ['f']);
});

test('[system]| matches any code of that system; another system matches nothing', async () => {
  assert.deepEqual(await ids(`Patient?gender=${GENDER}|`), ['f', 'm']);
  assert.deepEqual(await ids('Patient?gender=http://example.org/genders|female'), []);
  assert.deepEqual(await ids('Patient?gender=http://example.org/genders|'), []);
});

test(':not takes the implicit system the same way (the patient without a gender included)', async () => {
  assert.deepEqual(await ids(`Patient?gender:not=${GENDER}|female`), ['m', 'none']);
});

test('a Coding keeps its own system: only a code element takes one from its binding', async () => {
  // Observation.code is a CodeableConcept: the Coding without a system does not answer a system-qualified search.
  assert.deepEqual(await ids('Observation?code=http://loinc.org|final'), ['final']);
  assert.deepEqual(await ids('Observation?code=http://hl7.org/fhir/observation-status|final'), []);
});
