// Every error a client can cause is the right status with an OperationOutcome, never a 500 or a stack
// trace, and nothing is written (R4 http.html "Status codes"; CONTRACT.md "FHIR API").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Reply } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ env: { MAX_BODY_BYTES: String(64 * 1024) } });
});
after(async () => server?.stop());

function assertOutcome(r: Reply, status: number) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
  assert.ok(r.json.issue.length >= 1);
  assert.doesNotMatch(r.text, /at .*\.ts:\d+|node:internal|Error:/);
}

async function countPatients(): Promise<number> {
  const r = await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Patient'`);
  return r.rows[0].n;
}

test('malformed JSON is 400 and writes nothing', async () => {
  const before = await countPatients();
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient",'), 400);
  assert.equal(await countPatients(), before);
});

test('a body that is not a resource, or of the wrong type, is 400', async () => {
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '[1,2]'), 400);
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), 400);
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '"text"'), 400);
});

test('control characters: refused in the URL and in body strings, tab, CR and LF allowed (R4 datatypes.html#string)', async () => {
  const before = await countPatients();
  for (const path of ['Patient?name=a%00b', 'Patient?_id=a%00b', 'Patient?_content=a%00', 'Patient?_filter=name%20eq%20%22a%00%22',
    'Patient/a%00b', 'Observation?subject=Patient/a%00', 'Patient?name=a%01', 'Patient?na%00me=x']) {
    assertOutcome(await call(server.fhirBase, 'GET', path), 400);
  }
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}'), 400);
  const r = await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"a\\u0001b"}]}');
  assertOutcome(r, 400);
  assert.match(r.text, /\$\.name\[0\]\.family/);
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient/_search', 'name=a%00', { 'content-type': 'application/x-www-form-urlencoded' }), 400);
  assert.equal(await countPatients(), before, 'nothing written');
  // Allowed: tab, CR and LF, and the six characters \u0000 written as text (an escaped backslash).
  assert.equal((await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"a\\tb\\nc"}]}')).status, 201);
  const text = await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"a\\\\u0000b"}]}');
  assert.equal(text.status, 201);
  assert.equal(text.json.name[0].family, 'a\\u0000b');
});

test('a URL over the header limit is 431 with an OperationOutcome, and the server keeps serving', async () => {
  const r = await call(server.fhirBase, 'GET', `Patient?name=${'x'.repeat(20_000)}`);
  assertOutcome(r, 431);
  assert.match(r.json.issue[0].diagnostics, /_search/);
  assert.equal((await call(server.fhirBase, 'GET', 'metadata')).status, 200);
});

test('a body over the limit is 413 and the server keeps serving', async () => {
  const big = { resourceType: 'Patient', name: [{ family: 'x'.repeat(100 * 1024) }] };
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', big), 413);
  assert.equal((await call(server.fhirBase, 'GET', 'metadata')).status === 500, false);
  assert.equal((await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' })).status, 201);
});

test('unsupported media types: XML body is 415, XML answer is 406', async () => {
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', '<Patient xmlns="http://hl7.org/fhir"/>', { 'content-type': 'application/fhir+xml' }), 415);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/x', undefined, { accept: 'application/fhir+xml' }), 406);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/x?_format=xml'), 406);
  const ok = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' }, { 'content-type': 'application/json', accept: 'application/json' });
  assert.equal(ok.status, 201);
  assert.match(ok.headers.get('content-type')!, /^application\/json/);
});

test('unknown resource types and ids', async () => {
  assertOutcome(await call(server.fhirBase, 'GET', 'Nonsense/1'), 404);
  assertOutcome(await call(server.fhirBase, 'POST', 'Project', { resourceType: 'Project' }), 404);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/does-not-exist'), 404);
  assertOutcome(await call(server.fhirBase, 'PUT', 'Patient/bad%20id', { resourceType: 'Patient', id: 'bad id' }), 400);
  assertOutcome(await call(server.fhirBase, 'GET', 'Patient/x/_history/abc'), 400);
});

test('methods a URL does not support are 405', async () => {
  assertOutcome(await call(server.fhirBase, 'DELETE', 'Patient/x/_history/1'), 405);
  assertOutcome(await call(server.fhirBase, 'PATCH', 'Patient/x/_history'), 405);
});

test('bad JSON Patch documents are 400 or 422, never 500', async () => {
  const c = await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient', gender: 'male' });
  const id = c.json.id;
  const h = { 'content-type': 'application/json-patch+json' };
  assertOutcome(await call(server.fhirBase, 'PATCH', `Patient/${id}`, { op: 'replace' }, h), 400);
  assertOutcome(await call(server.fhirBase, 'PATCH', `Patient/${id}`, [{ op: 'explode', path: '/x' }], h), 400);
  assertOutcome(await call(server.fhirBase, 'PATCH', `Patient/${id}`, [{ op: 'remove', path: '/nothing/here' }], h), 422);
  assertOutcome(await call(server.fhirBase, 'PATCH', 'Patient/unknown-id', [{ op: 'remove', path: '/gender' }], h), 404);
});

test('bad If-Match and _count values are 400', async () => {
  assertOutcome(await call(server.fhirBase, 'PUT', 'Patient/p1', { resourceType: 'Patient', id: 'p1' }, { 'if-match': 'banana' }), 400);
  assertOutcome(await call(server.fhirBase, 'GET', '_history?_count=-4'), 400);
  assertOutcome(await call(server.fhirBase, 'GET', '_history?_since=yesterday'), 400);
  assertOutcome(await call(server.fhirBase, 'GET', '_history?_since=0000-01-01'), 400);
  // A day the calendar does not have is refused, not rolled over into March.
  for (const v of ['2021-02-30', '2021-02-29T10:00:00Z', '2021-04-31', '2021-01-01T24:00:00Z']) assertOutcome(await call(server.fhirBase, 'GET', `_history?_since=${v}`), 400);
  const p = (await call(server.fhirBase, 'POST', 'Patient', { resourceType: 'Patient' })).json.id;
  for (const q of ['_since=0000', '_since=0000-01-01T00:00:00Z', '_since=Tuesday', '_cursor=99999999999999999999']) {
    assertOutcome(await call(server.fhirBase, 'GET', `Patient/${p}/$everything?${q}`), 400);
  }
  assert.equal((await call(server.fhirBase, 'GET', `Patient/${p}/$everything?_since=2000-01-01`)).status, 200);
  // Instants past year 9999 are no error: nothing was updated after them, everything before.
  const late = await call(server.fhirBase, 'GET', 'Patient?_lastUpdated=gt9999-12-31&_total=accurate');
  assert.equal(late.status, 200, late.text);
  assert.equal(late.json.total, 0);
  const early = await call(server.fhirBase, 'GET', 'Patient?_lastUpdated=le9999-12-31T23:59:59.999999999Z&_total=accurate');
  assert.equal(early.status, 200, early.text);
  assert.equal(early.json.total, (await call(server.fhirBase, 'GET', 'Patient?_total=accurate&_summary=count')).json.total);
  // A paging cursor edited by hand: the client's error, not the database's.
  const forged = (c: unknown) => Buffer.from(JSON.stringify(c)).toString('base64url');
  for (const c of [{ t: 'yesterday', r: '1', v: 1 }, { t: '2026-01-01T00:00:00.000Z', r: 'x', v: 1 }, { t: '2026-01-01T00:00:00.000Z', r: '1', v: 'a' }, [1], 'no',
    { t: '2021-02-30T00:00:00.000Z', r: '1', v: 1 }, { t: '2026-01-01T00:00:00.000Z', r: '99999999999999999999', v: 1 }]) {
    assertOutcome(await call(server.fhirBase, 'GET', `_history?_cursor=${forged(c)}`), 400);
  }
  assertOutcome(await call(server.fhirBase, 'GET', '_history?_cursor=%%%'), 400);
});

test('a Bundle posted to the base must be a batch or transaction', async () => {
  assertOutcome(await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'collection' }), 400);
  assertOutcome(await call(server.fhirBase, 'POST', '', { resourceType: 'Patient' }), 400);
});
