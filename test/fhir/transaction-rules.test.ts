// Transaction and batch rules beyond transaction.test.ts and bundle-edges.test.ts (R4 http.html#transaction,
// #trules, #transaction-response; bundle.html "Resolving references in Bundles"): entries are routed as the
// same request over HTTP would be, a conditional update needs criteria, identities may not overlap whatever
// the entries' order, a stored Bundle keeps its own references, relative references resolve against a
// RESTful fullUrl, and a client's mistake is a 4xx with an OperationOutcome, never a 500 or a partial write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, assertOutcome, postBundle, versionAt, type Reply } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const post = (type: 'transaction' | 'batch', entry: unknown[], headers: Record<string, string> = {}) => postBundle(server.fhirBase, type, entry, headers);
const version = (path: string) => versionAt(server.fhirBase, path);

test('a PUT or POST entry is routed as over HTTP: _history, extra segments, AuditEvent and unknown types are refused', async () => {
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/route-1', { resourceType: 'Patient', id: 'route-1' })).status, 201);
  const put = (url: string, resource: object) => post('transaction', [{ resource, request: { method: 'PUT', url } }]);
  // Over HTTP, PUT on a version is "405 Method Not Allowed" and an unknown path is a 404 (http.html#update).
  assertOutcome(await put('Patient/route-1/_history/1', { resourceType: 'Patient', id: 'route-1', active: true }), 405, /entry 0/);
  assertOutcome(await put('Patient/route-1/extra', { resourceType: 'Patient', id: 'route-1', active: true }), 404, /entry 0/);
  assert.equal(await version('Patient/route-1'), '1');
  // The audit trail is the server's alone: no entry writes an AuditEvent, as no PUT or POST does.
  const event = { resourceType: 'AuditEvent', id: 'ae-1', type: { code: 'x' }, recorded: '2020-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } };
  assertOutcome(await put('AuditEvent/ae-1', event), 405, /AuditEvents are recorded by the server/);
  assertOutcome(await post('transaction', [{ resource: event, request: { method: 'POST', url: 'AuditEvent' } }]), 405, /AuditEvents are recorded by the server/);
  assertOutcome(await post('transaction', [{ resource: { resourceType: 'Nonsense' }, request: { method: 'POST', url: 'Nonsense' } }]), 404, /Nonsense/);
});

test('a conditional PUT entry without criteria is a 400, as over HTTP, and updates nothing', async () => {
  // One Device only: criteria-less matching would pick it and overwrite it.
  assert.equal((await call(server.fhirBase, 'PUT', 'Device/only-1', { resourceType: 'Device', id: 'only-1', status: 'active' })).status, 201);
  for (const url of ['Device', 'Device?', 'Device?_format=json']) {
    assertOutcome(await post('transaction', [{ resource: { resourceType: 'Device', status: 'inactive' }, request: { method: 'PUT', url } }]), 400, /criteria/);
  }
  assert.equal(await version('Device/only-1'), '1');
  assert.equal((await call(server.fhirBase, 'GET', 'Device')).json.total, 1);
});

test('criteria that filter nothing (_count, _sort, empty values) are a 400, not a match of every resource', async () => {
  // "Only filtering parameters are allowed; none of the parameters that control the return of resources are
  // relevant" (http.html#trules); left to the search they would match every Medication, here the only one.
  assert.equal((await call(server.fhirBase, 'PUT', 'Medication/only-2', { resourceType: 'Medication', id: 'only-2', status: 'active' })).status, 201);
  const body = { resourceType: 'Medication', status: 'inactive' };
  const cases: unknown[] = [
    { resource: body, request: { method: 'PUT', url: 'Medication?_count=1' } },
    { resource: body, request: { method: 'PUT', url: 'Medication?code=' } },
    { resource: body, request: { method: 'POST', url: 'Medication', ifNoneExist: '_format=json' } },
    { resource: body, request: { method: 'POST', url: 'Medication', ifNoneExist: '_sort=_id' } },
    { request: { method: 'DELETE', url: 'Medication?_count=1' } },
    { resource: { resourceType: 'MedicationStatement', status: 'active', subject: { reference: 'Patient/x' }, medicationReference: { reference: 'Medication?_count=5' } }, request: { method: 'POST', url: 'MedicationStatement' } },
  ];
  for (const entry of cases) assertOutcome(await post('transaction', [entry]), 400, /entry 0/);
  assert.equal(await version('Medication/only-2'), '1');
  assert.equal((await call(server.fhirBase, 'GET', 'Medication')).json.total, 1);
});

test('a request.url that is not valid percent-encoding is a 400, in a transaction and in a batch entry', async () => {
  assertOutcome(await post('transaction', [{ request: { method: 'GET', url: 'Patient/%zz' } }]), 400, /request\.url/);
  const b = await post('batch', [{ request: { method: 'GET', url: 'Patient/%E0%A4%A' } }, { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }]);
  assert.equal(b.status, 200, b.text);
  assert.equal(b.json.entry[0].response.status, '400 Bad Request');
  assert.equal(b.json.entry[0].response.outcome.resourceType, 'OperationOutcome');
  assert.match(b.json.entry[1].response.status, /^201/);
});

test('a conditional create matching a resource the transaction also writes fails, whatever the order (http.html#trules)', async () => {
  const ident = [{ system: 'urn:rules', value: 'ovl' }];
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/ovl-c', { resourceType: 'Patient', id: 'ovl-c', identifier: ident })).status, 201);
  const create = { resource: { resourceType: 'Patient', identifier: ident }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:rules|ovl' } };
  const update = { resource: { resourceType: 'Patient', id: 'ovl-c', identifier: ident, active: true }, request: { method: 'PUT', url: 'Patient/ovl-c' } };
  assertOutcome(await post('transaction', [create, update]), 400, /more than once/);
  assertOutcome(await post('transaction', [update, create]), 400, /more than once/);
  assert.equal(await version('Patient/ovl-c'), '1');
  // Two conditional creates naming the same resource write nothing and may share it.
  const twice = await post('transaction', [create, { ...create, fullUrl: 'urn:uuid:7d0c1f7e-0000-4000-8000-000000000001' }]);
  assert.equal(twice.status, 200, twice.text);
});

test('a conditional create that matches answers as over HTTP: Location with its version, Prefer honoured, type checked', async () => {
  const ident = [{ system: 'urn:rules', value: 'match' }];
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/match-1', { resourceType: 'Patient', id: 'match-1', identifier: ident })).status, 201);
  const entry = { resource: { resourceType: 'Patient', identifier: ident }, request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:rules|match' } };
  const minimal = await post('transaction', [entry], { prefer: 'return=minimal' });
  assert.equal(minimal.status, 200, minimal.text);
  assert.equal(minimal.json.entry[0].response.status, '200 OK');
  assert.equal(minimal.json.entry[0].response.location, 'Patient/match-1/_history/1');
  assert.equal(minimal.json.entry[0].response.etag, 'W/"1"');
  assert.equal(minimal.json.entry[0].resource, undefined);
  const oo = await post('transaction', [entry], { prefer: 'return=OperationOutcome' });
  assert.equal(oo.json.entry[0].response.outcome?.resourceType, 'OperationOutcome', oo.text);
  // The body must be of the URL's type even when nothing is created.
  assertOutcome(await post('transaction', [{ ...entry, resource: { resourceType: 'Observation' } }]), 400, /type/);
});

test('a Bundle stored by a transaction keeps its own entries\' references', async () => {
  const author = 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1';
  const document = {
    resourceType: 'Bundle', type: 'document', identifier: { system: 'urn:rules', value: 'doc-1' }, timestamp: '2020-01-01T00:00:00Z',
    entry: [
      { fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', resource: { resourceType: 'Composition', status: 'final', type: { text: 'note' }, date: '2020-01-01', title: 't', author: [{ reference: author }], subject: { reference: 'Patient?identifier=urn:rules|nobody' } } },
      { fullUrl: author, resource: { resourceType: 'Practitioner' } },
    ],
  };
  const r = await post('transaction', [{ resource: document, request: { method: 'POST', url: 'Bundle' } }]);
  assert.equal(r.status, 200, r.text);
  const stored = (await call(server.fhirBase, 'GET', r.json.entry[0].response.location.replace(/\/_history\/.*$/, ''))).json;
  assert.equal(stored.entry[0].resource.author[0].reference, author);
  assert.equal(stored.entry[0].resource.subject.reference, 'Patient?identifier=urn:rules|nobody');
});

test('a relative reference resolves against the entry\'s RESTful fullUrl (bundle.html "Resolving references in Bundles")', async () => {
  const r = await post('transaction', [
    { fullUrl: 'http://other.example/fhir/Patient/src-1', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
    { fullUrl: 'http://other.example/fhir/Observation/src-2', resource: { resourceType: 'Observation', status: 'final', code: { text: 'rel' }, subject: { reference: 'Patient/src-1' } }, request: { method: 'POST', url: 'Observation' } },
  ]);
  assert.equal(r.status, 200, r.text);
  const patient = r.json.entry[0].response.location.replace(/\/_history\/.*$/, '');
  const obs = (await call(server.fhirBase, 'GET', r.json.entry[1].response.location.replace(/\/_history\/.*$/, ''))).json;
  assert.equal(obs.subject.reference, patient);
});

test('an empty transaction or batch answers a Bundle with no empty entry array (json.html: arrays are never empty)', async () => {
  for (const type of ['transaction', 'batch'] as const) {
    const r = await post(type, []);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.type, `${type}-response`);
    assert.equal('entry' in r.json, false, r.text);
  }
});

test('a failed conditional reference names its entry', async () => {
  const r = await post('transaction', [
    { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
    { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:rules|nobody' } }, request: { method: 'POST', url: 'Observation' } },
  ]);
  assertOutcome(r, 412, /entry 1/);
});

test('entry.response.status carries the reason phrase, a batch entry\'s unexpected failure included', async () => {
  const { statusLine } = await import('../../src/fhir/bundle-request.js');
  assert.equal(statusLine(500), '500 Internal Server Error');
  assert.equal(statusLine(201), '201 Created');
  assert.equal(statusLine(299), '299');
});
