// PATCH with JSON Patch (R4 http.html#patch; RFC 6902; RFC 5789 §2.2 error handling): every operation,
// array positions and '-', the statuses of each failure, id/resourceType/meta, the narrative rule, conditional
// patch, If-Match, Prefer, decimals, and FHIRPath Patch refused cleanly (415, not claimed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Reply } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

const JP = { 'content-type': 'application/json-patch+json' };
const XHTML = (s: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${s}</div>`;
const patient = { resourceType: 'Patient', identifier: [{ system: 'urn:jp', value: 'p' }], name: [{ family: 'A', given: ['B', 'C'] }], gender: 'female' };

async function create(extra: object = {}): Promise<string> {
  const r = await call(server.fhirBase, 'POST', 'Patient', { ...patient, ...extra });
  assert.equal(r.status, 201, r.text);
  return r.json.id as string;
}
const patch = (path: string, ops: unknown, headers: Record<string, string> = {}) => call(server.fhirBase, 'PATCH', path, ops, { ...JP, ...headers });
const version = async (id: string) => (await call(server.fhirBase, 'GET', `Patient/${id}`)).json.meta.versionId as string;

function outcome(r: Reply, status: number): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
}

test('each RFC 6902 operation, with array indexes and "-"', async () => {
  const cases: Array<[unknown[], (p: any) => void]> = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    [[{ op: 'add', path: '/name/0/given/-', value: 'D' }], (p) => assert.deepEqual(p.name[0].given, ['B', 'C', 'D'])],
    [[{ op: 'add', path: '/name/0/given/0', value: 'Z' }], (p) => assert.deepEqual(p.name[0].given, ['Z', 'B', 'C'])],
    [[{ op: 'remove', path: '/name/0/given/1' }], (p) => assert.deepEqual(p.name[0].given, ['B'])],
    [[{ op: 'replace', path: '/gender', value: 'male' }], (p) => assert.equal(p.gender, 'male')],
    [[{ op: 'move', from: '/name/0/given/1', path: '/name/0/given/0' }], (p) => assert.deepEqual(p.name[0].given, ['C', 'B'])],
    [[{ op: 'copy', from: '/name/0', path: '/name/-' }], (p) => assert.deepEqual(p.name, [patient.name[0], patient.name[0]])],
    [[{ op: 'test', path: '/name/0/given/1', value: 'C' }, { op: 'add', path: '/active', value: true }], (p) => assert.equal(p.active, true)],
  ];
  for (const [ops, check] of cases) {
    const id = await create();
    const r = await patch(`Patient/${id}`, ops);
    assert.equal(r.status, 200, `${JSON.stringify(ops)}: ${r.text}`);
    assert.equal(r.json.meta.versionId, '2');
    check(r.json);
    check((await call(server.fhirBase, 'GET', `Patient/${id}`)).json);
  }
});

test('a patch that cannot be applied is 422 and writes nothing: failing test, missing path, index out of range', async () => {
  for (const ops of [
    [{ op: 'test', path: '/gender', value: 'male' }],
    [{ op: 'remove', path: '/birthDate' }],
    [{ op: 'replace', path: '/maritalStatus/text', value: 'x' }],
    [{ op: 'add', path: '/name/0/given/7', value: 'x' }],
    [{ op: 'copy', from: '/nothing', path: '/name/-' }],
    // Applied in order, all or nothing: the first operation is not kept when the second fails.
    [{ op: 'replace', path: '/gender', value: 'male' }, { op: 'test', path: '/gender', value: 'female' }],
  ]) {
    const id = await create();
    outcome(await patch(`Patient/${id}`, ops), 422);
    assert.equal(await version(id), '1', JSON.stringify(ops));
  }
});

test('a body that is not a JSON Patch document is 400: not an array, not objects, an unknown or non-RFC op', async () => {
  const id = await create();
  for (const body of [{ op: 'add', path: '/active', value: true }, [1, 'x'], [{ op: 'delete', path: '/gender' }], [{ op: 'add', path: '/active' }],
    [{ op: 'add', path: 'active', value: true }],
    // fast-json-patch knows a `_get` of its own; RFC 6902 §4.1-4.6 defines six operations.
    [{ op: '_get', path: '/gender' }]]) {
    outcome(await patch(`Patient/${id}`, body), 400);
  }
  assert.equal(await version(id), '1');
});

test('id and resourceType cannot be patched (422); meta.versionId and lastUpdated are the server\'s', async () => {
  const id = await create();
  for (const ops of [[{ op: 'replace', path: '/id', value: 'other' }], [{ op: 'remove', path: '/id' }], [{ op: 'replace', path: '/resourceType', value: 'Person' }]]) {
    outcome(await patch(`Patient/${id}`, ops), 422);
  }
  const r = await patch(`Patient/${id}`, [{ op: 'replace', path: '/meta/versionId', value: '99' }, { op: 'replace', path: '/meta/lastUpdated', value: '2000-01-01T00:00:00Z' }]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.meta.versionId, '2');
  assert.notEqual(r.json.meta.lastUpdated, '2000-01-01T00:00:00Z');
  assert.equal(r.headers.get('etag'), 'W/"2"');
});

test('a patch whose result is not a valid resource is 422 with the validation issues, whatever the issue', async () => {
  // RFC 5789 §2.2: 422 "when the server understands the patch document ... This might include attempts to
  // modify a resource in a way that would cause the resource to become invalid". An unknown element was 400.
  const id = await create();
  const unknown = await patch(`Patient/${id}`, [{ op: 'add', path: '/foo', value: 1 }]);
  outcome(unknown, 422);
  assert.deepEqual(unknown.json.issue[0].expression, ['Patient.foo']);
  const badCode = await patch(`Patient/${id}`, [{ op: 'replace', path: '/gender', value: 'banana' }]);
  outcome(badCode, 422);
  assert.deepEqual(badCode.json.issue[0].expression, ['Patient.gender']);
  const badType = await patch(`Patient/${id}`, [{ op: 'replace', path: '/name', value: 'A' }]);
  outcome(badType, 422);
  assert.equal(await version(id), '1');
});

test('a conditional reference written by a patch is refused as a PUT refuses it (it was stored unresolved)', async () => {
  const id = await create();
  outcome(await patch(`Patient/${id}`, [{ op: 'add', path: '/managingOrganization', value: { reference: 'Organization?identifier=urn:x|1' } }]), 422);
  assert.equal(await version(id), '1');
});

test('narrative: a generated one the patch leaves stale is removed; a human one must be patched along; text or meta alone keep it', async () => {
  // http.html#patch: "The server SHALL ensure that the narrative in a resource is not clinically unsafe after the PATCH".
  const gen = await create({ text: { status: 'generated', div: XHTML('A, female') } });
  const changed = await patch(`Patient/${gen}`, [{ op: 'replace', path: '/gender', value: 'male' }]);
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.json.text, undefined);
  assert.equal((await call(server.fhirBase, 'GET', `Patient/${gen}`)).json.text, undefined);

  const human = await create({ text: { status: 'additional', div: XHTML('A, female, prefers to be called Bea') } });
  const refused = await patch(`Patient/${human}`, [{ op: 'replace', path: '/gender', value: 'male' }]);
  outcome(refused, 422);
  assert.deepEqual(refused.json.issue[0].expression, ['Patient.text']);
  assert.equal(await version(human), '1');
  const both = await patch(`Patient/${human}`, [{ op: 'replace', path: '/gender', value: 'male' }, { op: 'replace', path: '/text/div', value: XHTML('A, male') }]);
  assert.equal(both.status, 200, both.text);
  assert.equal(both.json.text.div, XHTML('A, male'));

  const tagged = await create({ text: { status: 'generated', div: XHTML('A') } });
  const meta = await patch(`Patient/${tagged}`, [{ op: 'add', path: '/meta/tag', value: [{ system: 'urn:t', code: 'x' }] }, { op: 'test', path: '/gender', value: 'female' }]);
  assert.equal(meta.status, 200, meta.text);
  assert.equal(meta.json.text.div, XHTML('A'));
});

test('an empty patch is a valid document: applied as an update, nothing changed', async () => {
  const id = await create();
  const r = await patch(`Patient/${id}`, []);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.name, patient.name);
});

test('If-Match: a stale version is 412, the current one applies; missing 404, deleted 410', async () => {
  const id = await create();
  outcome(await patch(`Patient/${id}`, [{ op: 'add', path: '/active', value: true }], { 'if-match': 'W/"9"' }), 412);
  assert.equal((await patch(`Patient/${id}`, [{ op: 'add', path: '/active', value: true }], { 'if-match': 'W/"1"' })).status, 200);
  outcome(await patch('Patient/jp-none', [{ op: 'add', path: '/active', value: true }]), 404);
  await call(server.fhirBase, 'DELETE', `Patient/${id}`);
  outcome(await patch(`Patient/${id}`, [{ op: 'add', path: '/active', value: true }]), 410);
});

test('conditional patch: one match patched, none 404, several 412 (http.html#patch "Conditional patch")', async () => {
  await create({ identifier: [{ system: 'urn:jp-c', value: 'one' }] });
  await create({ identifier: [{ system: 'urn:jp-c', value: 'two' }] });
  await create({ identifier: [{ system: 'urn:jp-c', value: 'two' }] });
  const one = await patch('Patient?identifier=urn:jp-c|one', [{ op: 'add', path: '/active', value: true }]);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.active, true);
  outcome(await patch('Patient?identifier=urn:jp-c|zero', [{ op: 'add', path: '/active', value: true }]), 404);
  outcome(await patch('Patient?identifier=urn:jp-c|two', [{ op: 'add', path: '/active', value: true }]), 412);
});

test('Prefer: return=minimal has no body, return=OperationOutcome an outcome; both carry the new ETag', async () => {
  const id = await create();
  const min = await patch(`Patient/${id}`, [{ op: 'add', path: '/active', value: true }], { prefer: 'return=minimal' });
  assert.equal(min.status, 200);
  assert.equal(min.text, '');
  assert.equal(min.headers.get('etag'), 'W/"2"');
  const oo = await patch(`Patient/${id}`, [{ op: 'add', path: '/active', value: false }], { prefer: 'return=OperationOutcome' });
  assert.equal(oo.json.resourceType, 'OperationOutcome');
  assert.equal(oo.headers.get('etag'), 'W/"3"');
});

test('decimals keep their precision through a patch, written and shifted', async () => {
  const o = await call(server.fhirBase, 'POST', 'Observation', '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50},"component":[{"code":{"text":"a"},"valueQuantity":{"value":2.000}}]}');
  const r = await patch(`Observation/${o.json.id}`, '[{"op":"add","path":"/component/0","value":{"code":{"text":"b"},"valueQuantity":{"value":3.10}}},{"op":"replace","path":"/valueQuantity/value","value":4.500}]');
  assert.equal(r.status, 200, r.text);
  const read = (await call(server.fhirBase, 'GET', `Observation/${o.json.id}`)).text;
  assert.match(read, /"valueQuantity":\{"value":4\.500\}/);
  assert.match(read, /"component":\[\{"code":\{"text":"b"\},"valueQuantity":\{"value":3\.10\}\},\{"code":\{"text":"a"\},"valueQuantity":\{"value":2\.000\}\}\]/);
});

test('FHIRPath Patch (a Parameters body with a FHIR content type) is 415 with Accept-Patch, and not claimed', async () => {
  const id = await create();
  const fhirpath = { resourceType: 'Parameters', parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.gender' }, { name: 'value', valueCode: 'male' }] }] };
  const r = await call(server.fhirBase, 'PATCH', `Patient/${id}`, fhirpath, { 'content-type': 'application/fhir+json' });
  outcome(r, 415);
  assert.equal(r.json.issue[0].code, 'not-supported');
  assert.equal(r.headers.get('accept-patch'), 'application/json-patch+json');
  assert.equal(await version(id), '1');
  const md = await call(server.fhirBase, 'GET', 'metadata');
  assert.deepEqual(md.json.patchFormat, ['application/json-patch+json']);
  // The same in a transaction entry, where FHIRPath Patch is the R4 form (a Binary carries JSON Patch).
  const tx = await call(server.fhirBase, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ resource: fhirpath, request: { method: 'PATCH', url: `Patient/${id}` } }] });
  assert.equal(tx.status, 200, tx.text);
  assert.match(tx.json.entry[0].response.status, /^415/);
});

test('a large patch (20,000 operations) is applied in one version', async () => {
  const id = await create();
  const ops = Array.from({ length: 20_000 }, (_, i) => ({ op: 'add', path: '/name/0/given/-', value: `g${i}` }));
  const r = await patch(`Patient/${id}`, ops, { prefer: 'return=minimal' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('etag'), 'W/"2"');
  const read = await call(server.fhirBase, 'GET', `Patient/${id}`);
  assert.equal(read.json.name[0].given.length, 20_002);
});
