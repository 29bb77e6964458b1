// Batch and transaction Bundles that a careless or hostile client sends (R4 http.html#transaction, #trules,
// bundle.html bdl-7): a malformed envelope is refused before any entry runs, a transaction PUT checks the
// body's id as a plain update does, overlapping identities fail, non-reference links are replaced, and
// bodies no resource could be (unpaired surrogates, absurd nesting) are a 400, never a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Reply } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

function assertOutcome(r: Reply, status: number, pattern?: RegExp) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
  if (pattern) assert.match(r.text, pattern);
}

async function countTagged(tag: string): Promise<number> {
  const r = await server.db.pool.query(`select count(*)::int as n from fhir.resource where not deleted and content::jsonb @> $1::jsonb`,
    [JSON.stringify({ meta: { tag: [{ system: 'urn:edge', code: tag }] } })]);
  return r.rows[0].n;
}

const tagged = (tag: string, extra: object = {}) => ({ resourceType: 'Patient', meta: { tag: [{ system: 'urn:edge', code: tag }] }, ...extra });

test('a malformed batch envelope is a 400 before any entry is stored', async () => {
  const good = { resource: tagged('env'), request: { method: 'POST', url: 'Patient' } };
  const bad: unknown[] = [
    null,
    { resource: tagged('env'), request: { method: 'POST', url: 42 } },
    { resource: tagged('env'), request: { method: 5, url: 'Patient' } },
    { resource: tagged('env'), request: { method: 'POST', url: 'Patient', ifNoneExist: 5 } },
    { resource: tagged('env'), request: { method: 'PUT', url: 'Patient/x', ifMatch: 5 } },
    { resource: 'Patient', request: { method: 'POST', url: 'Patient' } },
    { resource: tagged('env'), request: 'POST Patient' },
  ];
  for (const type of ['batch', 'transaction']) {
    for (const entry of bad) {
      const r = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type, entry: [good, entry] });
      assertOutcome(r, 400, /Bundle\.entry\[1\]/);
    }
    assertOutcome(await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type, entry: {} }), 400, /Bundle\.entry/);
  }
  assert.equal(await countTagged('env'), 0);
});

test('a repeated fullUrl is refused (bdl-7)', async () => {
  const e = { fullUrl: 'urn:uuid:cccccccc-0000-4000-8000-000000000001', resource: tagged('dup'), request: { method: 'POST', url: 'Patient' } };
  for (const type of ['batch', 'transaction']) assertOutcome(await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type, entry: [e, e] }), 400, /bdl-7/);
  assert.equal(await countTagged('dup'), 0);
});

test('an unpaired surrogate or a body nested past 256 levels is a 400, in a resource, a patch or a batch entry', async () => {
  const lone = '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}';
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', lone), 400, /surrogate/);
  assertOutcome(await call(server.fhirBase, 'POST', '', `{"resourceType":"Bundle","type":"batch","entry":[{"resource":${JSON.stringify(tagged('sur'))},"request":{"method":"POST","url":"Patient"}},{"resource":${lone},"request":{"method":"POST","url":"Patient"}}]}`), 400, /surrogate/);
  const created = await call(server.fhirBase, 'POST', 'Patient', tagged('sur-patch'));
  assert.equal(created.status, 201);
  const patch = await call(server.fhirBase, 'PATCH', `Patient/${created.json.id}`, '[{"op":"add","path":"/name","value":[{"family":"\\udfff"}]}]', { 'content-type': 'application/json-patch+json' });
  assertOutcome(patch, 400, /surrogate/);
  // A surrogate pair written as escapes is a real character and is kept.
  const pair = await call(server.fhirBase, 'POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"\\ud83d\\ude00"}]}');
  assert.equal(pair.status, 201, pair.text);
  assert.equal(pair.json.name[0].family, '\u{1F600}');

  const nest = (depth: number) => {
    let x = '{"url":"http://y","valueString":"z"}';
    for (let i = 0; i < depth; i++) x = `{"url":"http://x","extension":[${x}]}`;
    return `{"resourceType":"Patient","extension":[${x}]}`;
  };
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', nest(200)), 400, /nested more than 256/);
  assertOutcome(await call(server.fhirBase, 'POST', 'Patient', nest(3000)), 400, /nested more than 256/);
  assert.equal((await call(server.fhirBase, 'POST', 'Patient', nest(20))).status, 201);
  assert.equal(await countTagged('sur'), 0);
});

test('a transaction PUT checks the body id as a plain update does (http.html#update)', async () => {
  const put = (resource: object, url: string) => call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource, request: { method: 'PUT', url } }] });
  assertOutcome(await put(tagged('tput', { id: 'tput-1' }), 'Patient/tput-2'), 400, /does not match/);
  assertOutcome(await put(tagged('tput'), 'Patient/tput-3'), 400, /no id/);
  assert.equal(await countTagged('tput'), 0);
  assert.equal((await put(tagged('tput', { id: 'tput-4', identifier: [{ system: 'urn:edge', value: 'tput-4' }] }), 'Patient/tput-4')).status, 200);
  // Conditional: the body may omit its id, but may not name another resource than the match.
  assertOutcome(await put(tagged('tput', { id: 'zzz' }), 'Patient?identifier=urn:edge|tput-4'), 400, /differs from the matched/);
  const ok = await put(tagged('tput', { identifier: [{ system: 'urn:edge', value: 'tput-4' }], active: true }), 'Patient?identifier=urn:edge|tput-4');
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/tput-4')).json.active, true);
});

test('a transaction whose DELETE or PATCH overlaps a PUT of the same resource fails (http.html#trules)', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/ovl-1', tagged('ovl', { id: 'ovl-1' }))).status, 201);
  const r = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: tagged('ovl', { id: 'ovl-1', active: true }), request: { method: 'PUT', url: 'Patient/ovl-1' } },
    { request: { method: 'DELETE', url: 'Patient/ovl-1' } },
  ] });
  assertOutcome(r, 400, /more than once/);
  const cond = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: tagged('ovl', { id: 'ovl-1', active: true }), request: { method: 'PUT', url: 'Patient/ovl-1' } },
    { request: { method: 'DELETE', url: 'Patient?_id=ovl-1' } },
  ] });
  assertOutcome(cond, 400, /more than once/);
  const read = await call(server.fhirBase, 'GET', 'Patient/ovl-1');
  assert.equal(read.status, 200);
  assert.equal(read.json.active, undefined);
});

test('urn:uuid links in uri elements and in narrative links are replaced too (http.html#trules)', async () => {
  const target = 'urn:uuid:bbbbbbbb-1111-4111-8111-111111111111';
  const r = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { fullUrl: 'urn:uuid:aaaaaaaa-1111-4111-8111-111111111111', request: { method: 'POST', url: 'Patient' }, resource: tagged('links', {
      photo: [{ url: target }],
      text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${target}">x</a><img src="${target}"/><a href="urn:uuid:other">y</a></div>` },
    }) },
    { fullUrl: target, request: { method: 'POST', url: 'Patient' }, resource: tagged('links') },
  ] });
  assert.equal(r.status, 200, r.text);
  const created = r.json.entry[1].response.location.replace(/\/_history\/.*$/, '');
  const first = (await call(server.fhirBase, 'GET', r.json.entry[0].response.location.replace(/\/_history\/.*$/, ''))).json;
  assert.equal(first.photo[0].url, created);
  assert.match(first.text.div, new RegExp(`<a href="${created}">x</a><img src="${created}"/>`));
  assert.match(first.text.div, /href="urn:uuid:other"/);
});

test('If-None-Match: * makes a PUT create-only (RFC 9110 §13.1.2): 412 when the resource exists', async () => {
  const first = await call(server.fhirBase, 'PUT', 'Patient/inm-1', tagged('inm', { id: 'inm-1' }), { 'if-none-match': '*' });
  assert.equal(first.status, 201, first.text);
  assertOutcome(await call(server.fhirBase, 'PUT', 'Patient/inm-1', tagged('inm', { id: 'inm-1', active: true }), { 'if-none-match': '*' }), 412);
  const tx = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: tagged('inm', { id: 'inm-1', active: true }), request: { method: 'PUT', url: 'Patient/inm-1', ifNoneMatch: '*' } },
  ] });
  assertOutcome(tx, 412);
  assert.equal((await call(server.fhirBase, 'GET', 'Patient/inm-1')).json.meta.versionId, '1');
});

test('outside a transaction a conditional reference is refused, and a batch entry may not refer to another entry', async () => {
  const obs = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'cond-ref' }, subject: { reference: subject } });
  const plain = await call(server.fhirBase, 'POST', 'Observation', obs('Patient?identifier=urn:edge|1'));
  assert.equal(plain.status, 400, plain.text);
  assert.match(plain.text, /conditional/);
  const r = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [
    { fullUrl: 'urn:uuid:dddddddd-0000-4000-8000-000000000001', resource: tagged('batch-dep'), request: { method: 'POST', url: 'Patient' } },
    { resource: obs('urn:uuid:dddddddd-0000-4000-8000-000000000001'), request: { method: 'POST', url: 'Observation' } },
    { resource: obs('Patient?identifier=urn:edge|1'), request: { method: 'POST', url: 'Observation' } },
  ] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.entry.map((e: { response: { status: string } }) => e.response.status.split(' ')[0]), ['201', '400', '400']);
  assert.match(JSON.stringify(r.json.entry[1].response.outcome), /another entry of the batch/);
  const stored = await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Observation' and not deleted and content::jsonb #>> '{code,text}' = 'cond-ref'`);
  assert.equal(stored.rows[0].n, 0);
});
