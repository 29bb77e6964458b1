// A date's range is its own year (R4 search.html#date: "2000 is equivalent to an interval of [2000-01-01T00:00,
// 2000-12-31T23:59]"), years 0001–0099 too: JavaScript's Date.UTC reads them as 1900–1999, which indexed a
// birthDate 0019-05-03 as 1919-05-03 and searched birthdate=0050 as 1950.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';
import { dateRange } from '../../src/search/dates.js';

let s: SearchDb;
before(async () => {
  s = await startSearchDb();
  await s.load([
    { resourceType: 'Patient', id: 'y19', birthDate: '0019-05-03' } as Resource,
    { resourceType: 'Patient', id: 'y1919', birthDate: '1919-05-03' } as Resource,
    { resourceType: 'Patient', id: 'y50', birthDate: '0050' } as Resource,
    { resourceType: 'Patient', id: 'y1950', birthDate: '1950' } as Resource,
  ]);
});
after(async () => { await s?.stop(); });

const ids = async (q: string): Promise<string[]> => ((await search(s, q)).entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();

test('years 0001–0099 are those years, not 1901–1999', () => {
  const iso = (t: string) => { const r = dateRange(t)!; return [new Date(r.lo).toISOString(), new Date(r.hi).toISOString()]; };
  assert.deepEqual(iso('0050'), ['0050-01-01T00:00:00.000Z', '0051-01-01T00:00:00.000Z']);
  assert.deepEqual(iso('0019-05-03'), ['0019-05-03T00:00:00.000Z', '0019-05-04T00:00:00.000Z']);
  assert.deepEqual(iso('0099-12-31T23:30-01:00'), ['0100-01-01T00:30:00.000Z', '0100-01-01T00:31:00.000Z']);
  assert.deepEqual(iso('0004-02-29'), ['0004-02-29T00:00:00.000Z', '0004-03-01T00:00:00.000Z']); // a leap year
  assert.equal(dateRange('0003-02-29'), undefined);
  assert.deepEqual(iso('1950'), ['1950-01-01T00:00:00.000Z', '1951-01-01T00:00:00.000Z']);
});

test('stored and searched early years meet only themselves', async () => {
  assert.deepEqual(await ids('Patient?birthdate=1919'), ['y1919']);
  assert.deepEqual(await ids('Patient?birthdate=0019-05-03'), ['y19']);
  assert.deepEqual(await ids('Patient?birthdate=1950'), ['y1950']);
  assert.deepEqual(await ids('Patient?birthdate=0050'), ['y50']);
  assert.deepEqual(await ids('Patient?birthdate=lt1000'), ['y19', 'y50']);
});
