// Researchers search through "the normal read and search API" (CONTRACT.md "Roles": de-identified data only),
// so each search feature must work on the de-identified copy as it does on the identified data: the same
// resources, as pseudonyms (R4 search.html). Chains, _has, _include/_revinclude (:iterate), _sort, paging,
// counts and _elements, checked against the same search run by a backend service on the identified side,
// with the documented differences: values the copy generalised (dates to the year) and resources it never
// holds (deleted, Provenance) or the token does not grant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setUp, tearDown, research, found, as, identifiedAsPseudonyms, links, cursorOf, assertNothingIdentified, pseudo, RESEARCHER, type Fixture,
} from './research-fixture.js';
import { call, SYSTEM } from './helpers.js';

let f: Fixture;
before(async () => { f = await setUp(); });
after(async () => { await tearDown(f); });

const id = (name: string) => pseudo(f.types[name], f.ids[name]);

test('chains and _has find on the copy what they find on identified data, by the values the copy keeps', async () => {
  // search.html#chaining: the chained parameter is evaluated on the referenced resource (here: its copy).
  for (const q of ['Observation?patient.gender=female', 'Observation?subject:Patient.birthdate=1961', 'Observation?encounter.patient.gender=female',
    'Patient?_has:Observation:patient:code=4548-4', 'Patient?_has:Observation:patient:date=2019']) {
    const want = await identifiedAsPseudonyms(f, q);
    assert.ok(want.length > 0, q);
    assert.deepEqual(found(await research(f, q)), want, q);
  }
  assert.deepEqual(found(await research(f, 'Observation?subject:Patient.birthdate=1961')), as(f, 'A1', 'A2', 'X'));
  // The copy keeps the year of a date (Safe Harbor (C)): the full identified date matches nothing, through a chain or _has.
  for (const q of ['Observation?subject:Patient.birthdate=1961-04-05', 'Observation?patient.birthdate=eq1961-04-05',
    'Patient?_has:Observation:patient:date=2019-05-06', `Observation?patient._id=${f.ids.A}`, `Patient?_has:Observation:patient:_id=${f.ids.A1}`,
    'Observation?patient.name=Secretname']) {
    assert.deepEqual(found(await research(f, q)), [], q);
  }
  assert.deepEqual(found(await research(f, `Patient?_has:Observation:patient:_id=${id('A1')}`)), as(f, 'A'));
});

test('_include, _revinclude and :iterate; deleted, never-copied and ungranted targets are left out', async () => {
  // search.html#include: the same included resources as on identified data.
  for (const q of [`Observation?_id=${'$A1'}&_include=*`, `Observation?_id=${'$A1'}&_include=Observation:encounter&_include:iterate=Encounter:subject`,
    `Practitioner?_id=${'$Pr'}&_revinclude=Patient:general-practitioner&_revinclude:iterate=Observation:subject`,
    `Encounter?_id=${'$E'}&_revinclude=Observation:encounter&_include:iterate=Observation:performer`, `Observation?_id=${'$D1'}&_include=Observation:patient`]) {
    const deidQ = q.replace(/\$(\w+)/, (_, n: string) => id(n));
    const want = await identifiedAsPseudonyms(f, q.replace(/\$(\w+)/, (_, n: string) => f.ids[n]), 'include');
    if (!q.includes('D1')) assert.ok(want.length > 0, q);
    const r = await research(f, deidQ);
    assert.deepEqual(found(r, 'include'), want, q);
    for (const e of r.json.entry) assert.equal(e.fullUrl, `${f.server.fhirBase}/${e.resource.resourceType}/${e.resource.id}`);
  }
  assert.deepEqual(found(await research(f, `Observation?_id=${id('A1')}&_include=*`), 'include'), as(f, 'A', 'E', 'Pr'));
  // The deleted patient's copy is gone; Provenance is never copied: nothing to include, on either side of the reference.
  assert.deepEqual(found(await research(f, `Observation?_id=${id('D1')}&_include=Observation:patient`), 'include'), []);
  assert.deepEqual(found(await research(f, `Observation?_id=${id('X')}&_include=Observation:derived-from`)), as(f, 'X'));
  assert.deepEqual(found(await research(f, `Observation?_id=${id('X')}&_include=Observation:derived-from`), 'include'), []);
  assert.deepEqual(found(await research(f, `Observation?_id=${id('A1')}&_revinclude=Provenance:target`), 'include'), []);
  // Scopes grant types; an included resource of another type is left out, also in an :iterate round.
  const obsEnc = { ...RESEARCHER, scopes: ['user/Observation.rs', 'user/Encounter.rs'] };
  const it = await research(f, `Observation?_id=${id('A1')}&_include=Observation:encounter&_include:iterate=Encounter:subject`, obsEnc);
  assert.deepEqual(found(it, 'include'), as(f, 'E'));
  const rev = await research(f, `Encounter?_id=${id('E')}&_revinclude=Observation:encounter`, { ...RESEARCHER, scopes: ['user/Encounter.rs'] });
  assert.deepEqual([found(rev), found(rev, 'include')], [as(f, 'E'), []]);
});

test('_sort by date, _lastUpdated and string; paging links stay in the researcher\'s view with de-identified cursors', async () => {
  const base = f.server.fhirBase;
  const walk = async (q: string, check: (cursor: ReturnType<typeof cursorOf>, last: string) => Promise<void>) => {
    const order: string[] = [];
    let r = await research(f, q);
    for (let pages = 0; pages < 10; pages++) {
      const ids = (r.json.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`);
      order.push(...ids);
      const next = links(r).next;
      if (!next) break;
      assert.ok(next.startsWith(`${base}/${q.split('?')[0]}?`), next);
      await check(cursorOf(next), ids[ids.length - 1].split('/')[1]);
      r = await research(f, next.slice(base.length + 1));
    }
    return order;
  };
  const deidRid = async (pid: string) => (await f.c.query('select rid::text as rid from deid.resource where id = $1', [pid])).rows[0].rid as string;
  // http.html#paging: the cursor carries the de-identified row's key: its deid rid and the copy's year.
  const byDate = await walk('Observation?_sort=-date&_count=2', async ([, values, rid], last) => {
    assert.equal(rid, await deidRid(last));
    for (const v of values) assert.match(new Date(Number(v)).toISOString(), /-01-01T00:00:00\.000Z$/, 'only the year of the date');
  });
  assert.deepEqual([...byDate].sort(), as(f, 'A1', 'A2', 'B1', 'D1', 'X'));
  assert.equal(byDate[0], as(f, 'A2')[0], '2020 first');
  assert.equal(byDate[4], as(f, 'D1')[0], '2018 last');
  const byUpdated = await walk('Observation?_sort=_lastUpdated&_count=2', async ([, values, rid], last) => {
    assert.equal(rid, await deidRid(last));
    assert.match(String(values[0]), /^\d{4}-01-01 00:00:00\+00$/, 'lastUpdated to the year');
  });
  assert.deepEqual([...byUpdated].sort(), as(f, 'A1', 'A2', 'B1', 'D1', 'X'));
  assert.equal(new Set(byUpdated).size, 5);
  // By a string the copy keeps (the state of an address) and one it removed (names: every value missing).
  const state = await research(f, 'Patient?_sort=address-state');
  assert.deepEqual(state.json.entry.map((e: { resource: { id: string } }) => `Patient/${e.resource.id}`), [...as(f, 'B'), ...as(f, 'A')], 'CA before MA');
  assert.deepEqual(found(await research(f, 'Patient?_sort=-family')), as(f, 'A', 'B'));
  // Back from the second page: the first page again.
  const first = await research(f, 'Observation?_sort=-date&_count=2');
  const second = await research(f, links(first).next.slice(base.length + 1));
  const back = await research(f, links(second).previous.slice(base.length + 1));
  assert.deepEqual(found(back), found(first));
});

test('_summary=count, _total=accurate, _count and _elements over the copy', async () => {
  // search.html#summary, #total, #count, #elements.
  for (const q of ['Observation?_summary=count', 'Observation?patient.gender=female&_summary=count', 'Patient?_has:Observation:patient:code=4548-4&_summary=count']) {
    const want = (await identifiedAsPseudonyms(f, q.replace('&_summary=count', '').replace('?_summary=count', ''))).length;
    const r = await research(f, q);
    assert.equal(r.json.total, want, q);
    assert.equal(r.json.entry, undefined);
  }
  const acc = await research(f, 'Observation?code=4548-4&_total=accurate&_count=1');
  assert.equal(acc.json.total, 4);
  assert.equal(acc.json.entry.length, 1);
  assert.ok(links(acc).next);
  assert.equal((await research(f, 'Observation?_count=0')).json.total, 5);
  const el = await research(f, `Observation?_id=${id('A1')}&_elements=code`);
  const res = el.json.entry[0].resource;
  // The same elements as the identified resource's _elements=code (with the mandatory status).
  const ident = await call(f.server, SYSTEM, 'GET', `Observation?_id=${f.ids.A1}&_elements=code`);
  assert.deepEqual(Object.keys(res).sort(), Object.keys(ident.json.entry[0].resource).sort());
  assert.equal(res.subject, undefined);
  assert.ok(res.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
});

test('no researcher reply held an identified value or id', () => {
  assert.ok(f.seen.length > 30);
  assertNothingIdentified(f);
});
