// _at (R4 http.html#history): the versions "current at some point during the time period specified in the
// date time value", a period as wide as the value's precision (search.html "date"): a day, a month, or an
// instant's millisecond.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
const stamps: string[] = [];
before(async () => {
  server = await startTestServer();
  for (let v = 1; v <= 3; v++) {
    const r = await call(server.fhirBase, 'PUT', 'Basic/hist-at', { resourceType: 'Basic', id: 'hist-at', code: { text: `v${v}` } });
    assert.ok(r.status === 201 || r.status === 200, r.text);
    stamps.push(r.json.meta.lastUpdated);
    await new Promise((res) => setTimeout(res, 20));
  }
});
after(async () => server?.stop());

const versions = async (at: string) => {
  const r = await call(server.fhirBase, 'GET', `Basic/hist-at/_history?_at=${encodeURIComponent(at)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId);
};

test('a day, a month or a year covers every version current during it', async () => {
  const day = stamps[0].slice(0, 10);
  // The three writes take ~100 ms: on the rare run that crosses midnight UTC, the later day holds fewer.
  const sameDay = stamps.every((s) => s.slice(0, 10) === day);
  if (sameDay) assert.deepEqual(await versions(day), ['3', '2', '1']);
  if (stamps.every((s) => s.slice(0, 7) === day.slice(0, 7))) assert.deepEqual(await versions(stamps[0].slice(0, 7)), ['3', '2', '1']);
  assert.deepEqual(await versions(String(Number(day.slice(0, 4)) - 1)), []);
});

test('an instant selects the one version current then', async () => {
  const between = new Date((Date.parse(stamps[0]) + Date.parse(stamps[1])) / 2).toISOString();
  assert.deepEqual(await versions(between), ['1']);
  assert.deepEqual(await versions(stamps[2]), ['3']);
});

test('a malformed or impossible _at is 400', async () => {
  for (const at of ['2026-13', '2026-02-30', 'yesterday', '0000']) {
    assert.equal((await call(server.fhirBase, 'GET', `Basic/hist-at/_history?_at=${at}`)).status, 400, at);
  }
});
