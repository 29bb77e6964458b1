// Values longer than the index holds (keys.ts MAX_STRING, 256 characters): the index row keeps the whole
// original and normalised texts beside the cut prefix, so :contains, :exact, ends-with and starts-with with a
// long value are decided on the whole text (R4 search.html#string), not on the first 256 characters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
const prefix = 'Patient reports intermittent chest discomfort '.repeat(7); // 322 characters
const long = (id: string, ending: string) => ({ resourceType: 'Observation', id, status: 'final', code: { text: 'note' },
  meta: { tag: [{ system: 'urn:long', code: 't' }] }, valueString: `${prefix}${ending}` });

before(async () => {
  server = await startTestServer();
  for (const r of [long('long-1', 'RADIATING TO LEFT ARM'), long('long-2', 'no radiation'), long('long-3', 'Éclair')]) {
    assert.equal((await call(server.fhirBase, 'PUT', `Observation/${r.id}`, r)).status, 201);
  }
  const url = `http://example.org/fhir/ValueSet/${'segment/'.repeat(40)}`;
  for (const [id, u] of [['vs-1', `${url}a`], ['vs-2', `${url}b`]]) {
    const r = await call(server.fhirBase, 'PUT', `ValueSet/${id}`, { resourceType: 'ValueSet', id, status: 'active', url: u });
    assert.equal(r.status, 201, r.text);
  }
});
after(async () => server?.stop());

const ids = async (q: string) => {
  const r = await call(server.fhirBase, 'GET', q);
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return (r.json.entry ?? []).map((e: { resource: { id: string } }) => e.resource.id).sort();
};
const obs = (q: string) => ids(`Observation?_tag=urn:long|t&${q}`);

test(':contains finds text past the 256th character', async () => {
  assert.deepEqual(await obs('value-string:contains=radiating'), ['long-1']);
  assert.deepEqual(await obs('value-string:contains=eclair'), ['long-3']);
});

test('_filter ew and eq look at the whole value', async () => {
  assert.deepEqual(await obs(`_filter=${encodeURIComponent('value-string ew "left arm"')}`), ['long-1']);
  assert.deepEqual(await obs(`_filter=${encodeURIComponent(`value-string eq "${prefix.toUpperCase()}no radiation"`)}`), ['long-2']);
  assert.deepEqual(await obs(`_filter=${encodeURIComponent(`value-string eq "${prefix.slice(0, 256)}"`)}`), []);
});

test(':exact and a long starts-with value tell apart values sharing their first 256 characters', async () => {
  assert.deepEqual(await obs(`value-string:exact=${encodeURIComponent(`${prefix}RADIATING TO LEFT ARM`)}`), ['long-1']);
  assert.deepEqual(await obs(`value-string:exact=${encodeURIComponent(`${prefix}radiating to left arm`)}`), []);
  assert.deepEqual(await obs(`value-string=${encodeURIComponent(`${prefix}no`)}`), ['long-2']);
  assert.deepEqual(await obs(`value-string=${encodeURIComponent(`${prefix}ECL`)}`), ['long-3']);
  assert.deepEqual(await obs(`value-string=${encodeURIComponent('patient reports')}`), ['long-1', 'long-2', 'long-3']);
});

test('a uri longer than 256 characters matches exactly', async () => {
  const url = `http://example.org/fhir/ValueSet/${'segment/'.repeat(40)}`;
  assert.deepEqual(await ids(`ValueSet?url=${encodeURIComponent(`${url}a`)}`), ['vs-1']);
  assert.deepEqual(await ids(`ValueSet?url=${encodeURIComponent(url.slice(0, 256))}`), []);
});
