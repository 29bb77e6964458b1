// The parameters of history (R4 http.html#history): `_since` is an instant and includes versions "created at
// or after" it; `_at` is a date(Time) read with the date prefixes of search.html#prefix; `_list` and unknown
// parameters are ignored (and left out of the self link) unless `Prefer: handling=strict` (search.html#errors);
// `_summary`/`_elements` (http.html#parameters) shape the entries, `_summary=count` is "Search only".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, assertOutcome } from '../helpers/http.js';

let server: TestServer;
const stamps: string[] = [];
before(async () => {
  server = await startTestServer();
  for (let v = 1; v <= 3; v++) {
    const r = await call(server.fhirBase, 'PUT', 'Patient/hp-1', { resourceType: 'Patient', id: 'hp-1', active: v % 2 === 1, gender: 'other' });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    stamps.push(r.json.meta.lastUpdated);
    await new Promise((res) => setTimeout(res, 20));
  }
});
after(async () => server?.stop());

const get = (path: string, headers: Record<string, string> = {}) => call(server.fhirBase, 'GET', path, undefined, headers);
const versions = async (query: string) => {
  const r = await get(`Patient/hp-1/_history?${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId);
};

test('_since includes the version written at that very instant ("created at or after")', async () => {
  assert.deepEqual(await versions(`_since=${encodeURIComponent(stamps[1])}`), ['3', '2']);
  const r = await get(`Patient/hp-1/_history?_since=${encodeURIComponent(stamps[2])}`);
  assert.equal(r.json.total, 1);
});

test('_since is an instant: a search prefix makes it malformed, not ignored', async () => {
  assertOutcome(await get(`Patient/hp-1/_history?_since=gt${encodeURIComponent(stamps[0])}`), 400, /_since/);
  assertOutcome(await get('Patient/hp-1/_history?_since=lt2020-01-01T00:00:00Z'), 400, /_since/);
});

test('_at with a prefix: ge/gt open after the period, le/lt before it (search.html#prefix)', async () => {
  const at = (p: string) => versions(`_at=${p}${encodeURIComponent(stamps[1])}`);
  assert.deepEqual(await at(''), ['2']);
  assert.deepEqual(await at('eq'), ['2']);
  // v1 was current until the instant v2 was written, so not during that millisecond.
  assert.deepEqual(await at('ge'), ['3', '2']);
  assert.deepEqual(await at('gt'), ['3', '2']);
  assert.deepEqual(await at('le'), ['2', '1']);
  assert.deepEqual(await at('lt'), ['1']);
  // A day: every version was current during it (the writes take ~100 ms: skipped on a run across midnight UTC).
  const day = stamps[0].slice(0, 10);
  if (stamps.every((s) => s.startsWith(day))) {
    assert.deepEqual(await versions(`_at=ge${day}`), ['3', '2', '1']);
    assert.deepEqual(await versions(`_at=le${day}`), ['3', '2', '1']);
    assert.deepEqual(await versions(`_at=gt${day}`), ['3'], 'only the current version is current after that day');
    assert.deepEqual(await versions(`_at=lt${day}`), []);
  }
  assertOutcome(await get(`Patient/hp-1/_history?_at=sa${encodeURIComponent(stamps[1])}`), 400, /_at/);
});

test('_list and unknown parameters: 400 under handling=strict, else ignored and absent from the self link', async () => {
  const strict = { prefer: 'handling=strict' };
  assertOutcome(await get('Patient/hp-1/_history?_list=List/x', strict), 400, /_list/);
  assertOutcome(await get('Patient/_history?foo=bar', strict), 400, /foo/);
  assertOutcome(await get('_history?_count=1&_sort=x', strict), 400, /_sort/);
  const lenient = await get('Patient/_history?_list=List/x&foo=bar&_count=5000&_since=2000-01-01T00:00:00Z');
  assert.equal(lenient.status, 200, lenient.text);
  const self = new URL(lenient.json.link.find((l: { relation: string }) => l.relation === 'self').url);
  assert.deepEqual([...self.searchParams.keys()].sort(), ['_count', '_since']);
  assert.equal(self.searchParams.get('_count'), '1000', 'the capped page size, as applied');
  assert.equal(lenient.json.total, 3);
});

test('_summary and _elements shape the entries; _summary=count is refused as on a read', async () => {
  assertOutcome(await get('Patient/hp-1/_history?_summary=count'), 400, /_summary/);
  assertOutcome(await get('Patient/hp-1/_history?_summary=nonsense'), 400, /_summary/);
  const el = await get('Patient/hp-1/_history?_elements=gender');
  assert.equal(el.status, 200, el.text);
  for (const e of el.json.entry) {
    assert.equal(e.resource.gender, 'other');
    assert.equal(e.resource.active, undefined, '_elements=gender leaves active out');
    assert.ok(e.resource.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'), 'marked SUBSETTED');
    assert.ok(e.request && e.response);
  }
  const text = await get('Patient/hp-1/_history?_summary=text');
  assert.equal(text.json.entry[0].resource.gender, undefined);
  assert.ok(text.json.entry[0].resource.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
});
