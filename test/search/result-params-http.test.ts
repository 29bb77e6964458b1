// Result parameters at their edges (R4 search.html): a modifier _text/_content does not implement is a 400
// like any other, an estimated total is never below what the page proves, an empty _list is ignored and
// reported like any empty parameter, and the self link shows the _count actually applied.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
const TAG = 'urn:result-params|t';
before(async () => {
  server = await startTestServer();
  for (let i = 0; i < 5; i++) {
    const r = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient', meta: { tag: [{ system: 'urn:result-params', code: 't' }] }, name: [{ family: `Rp${i}` }] });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => server?.stop());

test('_text and _content refuse modifiers they do not implement', async () => {
  for (const q of ['Patient?_content:exact=rp0', 'Patient?_text:contains=rp', 'Patient?_content:missing=true']) {
    const r = await call(server.fhirBase, 'GET', q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.match(r.text, /modifier/);
  }
});

test('_total=estimate is at least the rows shown plus one when a next page exists', async () => {
  const r = await call(server.fhirBase, 'GET', `Patient?_tag=${TAG}&_total=estimate&_count=2`);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.link.some((l: { relation: string }) => l.relation === 'next'));
  assert.ok(r.json.total >= 3, `total ${r.json.total}`);
});

test('an empty _list is ignored and reported, not a search for the list ""', async () => {
  const r = await call(server.fhirBase, 'GET', `Patient?_tag=${TAG}&_list=`);
  assert.equal(r.status, 200, r.text);
  const matches = r.json.entry.filter((e: { search: { mode: string } }) => e.search.mode === 'match');
  assert.equal(matches.length, 5);
  assert.ok(r.json.entry.some((e: { search: { mode: string }; resource: { resourceType: string } }) => e.search.mode === 'outcome' && e.resource.resourceType === 'OperationOutcome'));
  assert.equal((await call(server.fhirBase, 'GET', `Patient?_tag=${TAG}&_list=`, undefined, { prefer: 'handling=strict' })).status, 400);
});

test('the self link carries the _count applied, capped at 1000', async () => {
  const r = await call(server.fhirBase, 'GET', `Patient?_tag=${TAG}&_count=5000`);
  assert.equal(r.status, 200, r.text);
  const self = r.json.link.find((l: { relation: string }) => l.relation === 'self').url as string;
  assert.match(self, /_count=1000(&|$)/);
});

test('_filter ne on a string: some value differs (search_filter.html), unlike :not', async () => {
  const put = (id: string, families: string[]) => call(server.fhirBase, 'PUT', `Patient/${id}`, { resourceType: 'Patient', id, meta: { tag: [{ system: 'urn:result-params', code: 'ne' }] }, name: families.map((family) => ({ family })) });
  assert.equal((await put('ne-1', ['Morissette', 'Kling'])).status, 201);
  assert.equal((await put('ne-2', ['Morissette'])).status, 201);
  assert.equal((await put('ne-3', ['Kling'])).status, 201);
  const ids = async (q: string) => ((await call(server.fhirBase, 'GET', `Patient?_tag=urn:result-params|ne&${q}`)).json.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
  assert.deepEqual(await ids(`_filter=${encodeURIComponent('family ne "morissette"')}`), ['ne-1', 'ne-3']);
  assert.deepEqual(await ids(`_filter=${encodeURIComponent('not (family eq "morissette")')}`), ['ne-3']);
});
