// What a researcher gets at the edges of the de-identified view (CONTRACT.md "Roles": de-identified data
// only, never an identified row): compartments and _id by pseudonym; identified ids, another tenant's
// pseudonyms and deleted resources are unknown (404 / nothing found); _lastUpdated at the year precision the
// copy keeps; granular scopes apply to reads of the copy as to its searches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setUp, tearDown, research, found, as, identifiedAsPseudonyms, assertNothingIdentified, pseudo, RESEARCHER, type Fixture } from './research-fixture.js';

let f: Fixture;
before(async () => { f = await setUp(); });
after(async () => { await tearDown(f); });

const id = (name: string) => pseudo(f.types[name], f.ids[name]);
const ALL_OBS = ['A1', 'A2', 'B1', 'D1', 'X'];

test('compartment and _id searches by pseudonym; identified ids, other tenants\' pseudonyms and deleted resources are unknown', async () => {
  // search.html#compartments ("Patient/[id]/[type]"): the same members as on identified data.
  for (const [p, c] of [['A', 'Observation'], ['A', '*'], ['D', 'Observation']]) {
    const want = await identifiedAsPseudonyms(f, `Patient/${f.ids[p]}/${c}`);
    assert.deepEqual(found(await research(f, `Patient/${id(p)}/${c}`)), want.filter((t) => !t.startsWith('Provenance/')), `${p}/${c}`);
  }
  assert.deepEqual(found(await research(f, `Patient/${id('A')}/Observation?code=4548-4`)), as(f, 'A1', 'A2'));
  assert.deepEqual(found(await research(f, `Patient?_id=${id('A')}`)), as(f, 'A'));
  assert.deepEqual(found(await research(f, `Observation?_id=${id('A1')},${id('B1')}`)), as(f, 'A1', 'B1'));
  const otherTenant = pseudo('Patient', f.ids.O, 'other');
  for (const q of [`Patient/${f.ids.A}/Observation`, `Patient?_id=${f.ids.A}`, `Patient?_id=${otherTenant}`, `Patient/${otherTenant}/Observation`,
    `Patient?_id=${id('D')}`, `Observation?patient=${otherTenant}`]) {
    assert.deepEqual(found(await research(f, q)), [], q);
  }
  // http.html#read: an id the researcher's view does not hold is a 404, never the identified resource.
  for (const path of [`Patient/${f.ids.A}`, `Observation/${f.ids.A1}`, `Patient/${otherTenant}`, `Patient/${pseudo('Patient', f.ids.O)}`, `Patient/${id('D')}`,
    `Provenance/${id('Prov')}`, `Observation/${f.ids.A1}/_history/1`]) {
    const r = await research(f, path);
    assert.equal(r.status, 404, `${path}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  }
  // Another tenant's researcher finds nothing of this tenant's copy, and this one nothing of the other's.
  assert.equal((await research(f, `Patient/${id('A')}`, { ...RESEARCHER, tenant: 'other' })).status, 404);
  assert.deepEqual(found(await research(f, 'Patient?birthdate=1961', { ...RESEARCHER, tenant: 'other' })), [`Patient/${otherTenant}`]);
  assert.deepEqual(found(await research(f, 'Patient?birthdate=1961')), as(f, 'A'));
  // $everything is refused on the copy (deid-read.ts; the existing deid-search test pins it).
  assert.equal((await research(f, `Patient/${id('A')}/$everything`)).status, 403);
});

test('_lastUpdated on the copy is the year it keeps, compared as a range', async () => {
  // search.html#date: a date parameter compares the range of the search value with the range of the target
  // value; the copy keeps the year of lastUpdated (migrations/040), so the target is that whole year.
  const y = Number((await f.c.query(`select extract(year from last_updated at time zone 'UTC')::int as y from deid.resource where id = $1`, [id('A1')])).rows[0].y);
  const obs = (...names: string[]) => as(f, ...names);
  const all = obs(...ALL_OBS);
  const cases: Array<[string, string[]]> = [
    [`${y}`, all], [`${y}-06`, []], [`ne${y}`, []],
    [`gt${y}-01-01`, all], [`ge${y}-06-15`, all], [`gt${y}`, []], [`ge${y + 1}-01-01`, []],
    [`lt${y}-01-02`, all], [`lt${y}-01-01`, []], [`le${y}-12-31`, all], [`le${y - 1}-12-31`, []],
    [`sa${y - 1}`, all], [`sa${y}-01-01`, []], [`eb${y + 1}`, all], [`eb${y}-12-31`, []],
    [`ap${y}-06-15`, all],
  ];
  for (const [v, want] of cases) assert.deepEqual(found(await research(f, `Observation?_lastUpdated=${v}`)), want, `_lastUpdated=${v}`);
  // What the identified side finds by a time since yesterday, the researcher finds too (at year precision).
  const since = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  for (const p of ['ge', 'gt']) {
    const q = `Observation?_lastUpdated=${p}${since}`;
    assert.deepEqual(found(await research(f, q)), await identifiedAsPseudonyms(f, q), q);
  }
  for (const v of ['gt9999-12-31', 'ap0001', 'eb0001-01-01', 'ap9999']) assert.equal((await research(f, `Observation?_lastUpdated=${v}`)).status, 200, v);
  assert.equal((await research(f, `Observation?_lastUpdated=ge${y}-06-15&_summary=count`)).json.total, 5);
});

test('a granular scope narrows a researcher\'s reads of the copy as it narrows their searches', async () => {
  // SMART App Launch 2.2 scopes (granular: `user/Observation.rs?code=…`): the search gets the constraint, a
  // read of a resource outside it is refused and one inside it is served, by pseudonym.
  const lab = { ...RESEARCHER, scopes: [`user/Observation.rs?code=http://loinc.org|4548-4`] };
  assert.deepEqual(found(await research(f, 'Observation?_count=50', lab)), as(f, 'A1', 'A2', 'B1', 'D1'));
  const inside = await research(f, `Observation/${id('A1')}`, lab);
  assert.equal(inside.status, 200, inside.text);
  assert.equal(inside.json.id, id('A1'));
  assert.equal(inside.json.effectiveDateTime, '2019');
  assert.equal((await research(f, `Observation/${id('A1')}/_history/1`, lab)).status, 200);
  assert.equal((await research(f, `Observation/${id('X')}`, lab)).status, 403, 'outside the granted code');
  assert.equal((await research(f, `Observation/${f.ids.A1}`, lab)).status, 404, 'an identified id is unknown');
});

test('no researcher reply held an identified value or id', () => {
  assert.ok(f.seen.length > 30);
  assertNothingIdentified(f);
});
