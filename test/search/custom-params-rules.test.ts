// Custom SearchParameters are refused when written if $reindex could not use them (R4 searchparameter.html):
// a code already naming another current parameter of a shared base type (custom or built-in), a url shared
// with another current one, an expression that is not FHIRPath or names no R4 element, a composite without
// components, a base that is not an R4 type. Create, update (code, base, status) and transactions alike.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call, type Reply } from '../helpers/http.js';

let s: TestServer;
before(async () => { s = await startTestServer(); });
after(async () => s?.stop());

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let n = 0;
const sp = (over: Json = {}): Json => ({
  resourceType: 'SearchParameter', url: `http://example.org/sp/p${++n}`, name: 'nickname', status: 'active', description: 'x',
  code: 'nickname', base: ['Patient'], type: 'string', expression: 'Patient.name.given', ...over,
});
const post = (body: unknown) => call(s.fhirBase, 'POST', 'SearchParameter', body);
const put = (id: string, body: Json) => call(s.fhirBase, 'PUT', `SearchParameter/${id}`, { ...body, id });

/** A 4xx OperationOutcome whose issues mention `pattern`, at the element `at`. */
function refused(r: Reply, status: number, code: string, pattern: RegExp, at?: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  const hit = r.json.issue.find((i: Json) => i.severity === 'error' && i.code === code && pattern.test(i.diagnostics));
  assert.ok(hit, `no ${code} issue matching ${pattern}: ${r.text}`);
  if (at) assert.deepEqual(hit.expression, [at]);
}

test('a second current SearchParameter with the same code for the same type is refused, naming the first', async () => {
  const first = await post(sp({ code: 'nick' }));
  assert.equal(first.status, 201, first.text);
  const second = await post(sp({ code: 'nick' }));
  refused(second, 422, 'duplicate', new RegExp(`code 'nick' is also the code of SearchParameter/${first.json.id} .*for Patient`), 'SearchParameter.code');
  // Through a base that covers Patient too (DomainResource), and through the url.
  refused(await post(sp({ code: 'nick', base: ['DomainResource'], expression: 'DomainResource.id' })), 422, 'duplicate', /for Patient/);
  refused(await post(sp({ code: 'other', url: first.json.url })), 422, 'duplicate', /url .* is also the url of/, 'SearchParameter.url');
  // The same code on another type is another parameter; a retired one is only a record.
  assert.equal((await post(sp({ code: 'nick', base: ['Practitioner'], expression: 'Practitioner.name.given' }))).status, 201);
  const retired = await post(sp({ code: 'nick', status: 'retired' }));
  assert.equal(retired.status, 201, retired.text);
  // Updating the first one keeps its code: it does not conflict with itself.
  assert.equal((await put(first.json.id, { ...first.json, description: 'changed' })).status, 200);
  // Making the retired one current again (update of status) is the same conflict.
  refused(await put(retired.json.id, { ...retired.json, status: 'active' }), 422, 'duplicate', /code 'nick'/);
});

test('an update that changes code or base into a conflict is refused', async () => {
  const a = await post(sp({ code: 'alias' }));
  const b = await post(sp({ code: 'alias2', base: ['Practitioner'], expression: 'Practitioner.name.given' }));
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  refused(await put(b.json.id, { ...b.json, code: 'alias', base: ['Patient'], expression: 'Patient.name.family' }), 422, 'duplicate', /code 'alias'/);
  refused(await put(b.json.id, { ...b.json, code: 'alias', base: ['Practitioner', 'Patient'], expression: 'Practitioner.name.given | Patient.name.given' }), 422, 'duplicate', /for Patient/);
  // PATCH goes the same way.
  const patched = await call(s.fhirBase, 'PATCH', `SearchParameter/${b.json.id}`,
    [{ op: 'replace', path: '/base', value: ['Patient'] }, { op: 'replace', path: '/code', value: 'alias' }, { op: 'replace', path: '/expression', value: 'Patient.name.given' }],
    { 'content-type': 'application/json-patch+json' });
  refused(patched, 422, 'duplicate', /code 'alias'/);
});

test('a code that a built-in R4 parameter of the type already has is refused', async () => {
  refused(await post(sp({ code: 'name' })), 422, 'duplicate', /'name' is already a built-in search parameter of Patient/, 'SearchParameter.code');
  // Base Resource reaches every type, so it collides wherever the code is taken.
  refused(await post(sp({ code: 'name', base: ['Resource'], expression: 'Resource.id' })), 422, 'duplicate', /built-in search parameter of Account, .* and \d+ more/);
  // A copy of the built-in definition itself is accepted and stays inert; under another code it is not.
  const copy = { resourceType: 'SearchParameter', url: 'http://hl7.org/fhir/SearchParameter/individual-family', name: 'family', status: 'active',
    description: 'x', code: 'family', base: ['Patient', 'Practitioner'], type: 'string', expression: 'Patient.name.family | Practitioner.name.family' };
  assert.equal((await post(copy)).status, 201);
  refused(await post({ ...copy, code: 'surname' }), 422, 'invalid', /built-in parameter 'family'/);
});

test('a definition $reindex could not use is refused with the reason', async () => {
  refused(await post(sp({ code: 'f1', expression: 'Patient.name.(((' })), 422, 'invalid', /is not valid FHIRPath/, 'SearchParameter.expression');
  refused(await post(sp({ code: 'f2', expression: 'Patient.name.foo()' })), 422, 'invalid', /Not implemented: foo/);
  refused(await post(sp({ code: 'f3', expression: 'Patient.name.famly' })), 422, 'invalid', /HumanName has no element 'famly'/);
  refused(await post(sp({ code: 'f4', expression: 'Observation.code' })), 422, 'invalid', /does not navigate from Patient/);
  refused(await post(sp({ code: 'f5', expression: undefined })), 422, 'required', /expression is required/);
  refused(await post(sp({ code: 'c1', type: 'composite' })), 422, 'required', /needs component entries/, 'SearchParameter.component');
  refused(await post(sp({ code: 'c2', type: 'composite', component: [{ definition: 'http://example.org/none', expression: 'given' }] })), 422, 'not-found', /component\[0\]\.definition/);
  refused(await post(sp({ code: 's1', type: 'special' })), 422, 'not-supported', /special/);
  // A base that is not an R4 resource type fails the required binding (resource-types) already.
  refused(await post(sp({ code: 'b1', base: ['Foo'] })), 422, 'code-invalid', /SearchParameter\.base\[0\]/);
  // A composite over built-in parts is fine.
  const composite = sp({ code: 'code-value-q', base: ['Observation'], type: 'composite', expression: 'Observation',
    component: [{ definition: 'http://hl7.org/fhir/SearchParameter/clinical-code', expression: 'code' },
      { definition: 'http://hl7.org/fhir/SearchParameter/Observation-value-quantity', expression: 'value.ofType(Quantity)' }] });
  assert.equal((await post(composite)).status, 201);
  // A broken definition can still be retired (and so stored as a record).
  assert.equal((await post(sp({ code: 'f1', expression: 'Patient.name.(((', status: 'retired' }))).status, 201);
});

test('a transaction cannot create two SearchParameters with one code for one type; nothing is stored', async () => {
  const before = await call(s.fhirBase, 'GET', 'SearchParameter?_count=200');
  const tx = {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { resource: sp({ code: 'twin' }), request: { method: 'POST', url: 'SearchParameter' } },
      { resource: sp({ code: 'twin' }), request: { method: 'POST', url: 'SearchParameter' } },
    ],
  };
  refused(await call(s.fhirBase, 'POST', '', tx), 422, 'duplicate', /code 'twin'/);
  const put2 = {
    resourceType: 'Bundle', type: 'transaction', entry: [
      { resource: sp({ code: 'twin' }), request: { method: 'POST', url: 'SearchParameter' } },
      { resource: { ...sp({ code: 'twin' }), id: 'twin-b' }, request: { method: 'PUT', url: 'SearchParameter/twin-b' } },
    ],
  };
  refused(await call(s.fhirBase, 'POST', '', put2), 422, 'duplicate', /code 'twin'/);
  const after = await call(s.fhirBase, 'GET', 'SearchParameter?_count=200');
  assert.equal(after.json.total ?? after.json.entry?.length, before.json.total ?? before.json.entry?.length);
  // One of them alone is fine.
  const one = await call(s.fhirBase, 'POST', '', { ...tx, entry: [tx.entry[0]] });
  assert.equal(one.status, 200, one.text);
});
