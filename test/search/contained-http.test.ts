// _contained / _containedType against the real server (R4 search.html#contained, 3.1.1.5.5): by default a
// contained resource never matches; _contained=true returns its container once ("container (default)"), or
// with _containedType=contained the contained resource alone with fullUrl [container URL]#[id]; both adds
// top-level matches. Conditions hold on one contained resource; writes, updates and deletes keep the index;
// row-level security treats contained resources as part of their container (tenant, patient compartment).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRoleServer, call, SYSTEM } from '../compliance/helpers.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer & { dataDir: string };
const MEDS = 'http://acme.com/medications';
const med = (id: string, code: string, form?: string) => ({
  resourceType: 'Medication', id, code: { coding: [{ system: MEDS, code }] }, ...(form ? { form: { coding: [{ code: form }] } } : {}),
});
// Every contained resource is referred to from its container (R4 dom-3): the first as the medication, the
// others as supporting information (not a search parameter of MedicationRequest).
const request = (id: string, contained: object[]) => {
  const refs = contained.map((c) => ({ reference: `#${(c as { id: string }).id}` }));
  return {
    resourceType: 'MedicationRequest', id, status: 'active', intent: 'order', subject: { reference: 'Patient/p1' },
    contained, medicationReference: refs[0], ...(refs.length > 1 ? { supportingInformation: refs.slice(1) } : {}),
  };
};

before(async () => {
  server = await startRoleServer();
  const put = async (r: { resourceType: string; id: string }, ctx: object = SYSTEM) => {
    const res = await call(server, ctx, 'PUT', `${r.resourceType}/${r.id}`, r);
    assert.ok(res.status === 201 || res.status === 200, `${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
  };
  await put({ resourceType: 'Patient', id: 'p1' });
  await put({ resourceType: 'Organization', id: 'acme', name: 'Acme Pharma' } as never);
  // The spec's example: MedicationRequest/23 containing Medication m1; and a stored Medication with the same code.
  await put(request('23', [{ ...med('m1', 'abc'), manufacturer: { reference: 'Organization/acme' } }]));
  await put(med('standalone', 'abc'));
  // Siblings: one contained resource has code abc, the other form tablet; none has both.
  await put(request('siblings', [med('a', 'abc', 'capsule'), med('b', 'xyz', 'tablet')]));
  await put(request('both', [med('c', 'xyz'), med('d', 'abc', 'tablet')]));
  await put({ resourceType: 'Patient', id: 'p2' });
  await put({ ...request('other-patient', [med('e', 'abc')]), subject: { reference: 'Patient/p2' } } as never, { ...SYSTEM, tenant: 'other' });
});
after(async () => server?.stop());

const get = (path: string, ctx: object = SYSTEM) => call(server, ctx, 'GET', path);
const matches = (b: any) => (b.entry ?? []).filter((e: any) => e.search?.mode === 'match');
const ids = (b: any) => matches(b).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();

test('by default (and with _contained=false) contained resources never match', async () => {
  for (const q of ['Medication?code=abc', 'Medication?code=abc&_contained=false']) {
    const r = await get(q);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(ids(r.json), ['Medication/standalone'], q);
  }
});

test('_contained=true returns each container once, as a match, under its own fullUrl', async () => {
  const r = await get(`Medication?code=${encodeURIComponent(`${MEDS}|abc`)}&_contained=true`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(ids(r.json), ['MedicationRequest/23', 'MedicationRequest/both', 'MedicationRequest/siblings']);
  assert.equal(r.json.total, 3);
  const e = matches(r.json).find((x: any) => x.resource.id === '23');
  assert.equal(e.fullUrl, `${server.fhirBase}/MedicationRequest/23`);
  assert.equal(e.resource.contained[0].id, 'm1');
});

test('every condition holds on the same contained resource, not on siblings', async () => {
  const r = await get('Medication?code=abc&form=tablet&_contained=true');
  assert.deepEqual(ids(r.json), ['MedicationRequest/both']);
  const neg = await get('Medication?code=abc&form:not=tablet&_contained=true');
  assert.deepEqual(ids(neg.json), ['MedicationRequest/23', 'MedicationRequest/siblings']);
  assert.deepEqual(ids((await get('Medication?_id=m1&_contained=true')).json), ['MedicationRequest/23']);
  assert.deepEqual(ids((await get('Medication?form:missing=false&_contained=true')).json), ['MedicationRequest/both', 'MedicationRequest/siblings']);
  // A chain from the contained Medication to a stored Organization.
  assert.deepEqual(ids((await get('Medication?manufacturer.name=acme&_contained=true')).json), ['MedicationRequest/23']);
});

test('_containedType=contained returns the contained resource alone, fullUrl [container]#[id]', async () => {
  const r = await get('Medication?code=abc&_contained=true&_containedType=contained');
  assert.equal(r.status, 200, r.text);
  const got = matches(r.json).map((e: any) => [e.fullUrl.slice(server.fhirBase.length + 1), e.resource.resourceType, e.resource.id]);
  assert.deepEqual(got.sort(), [['MedicationRequest/23#m1', 'Medication', 'm1'], ['MedicationRequest/both#d', 'Medication', 'd'], ['MedicationRequest/siblings#a', 'Medication', 'a']]);
  assert.equal(matches(r.json)[0].resource.code.coding[0].code, 'abc');
  assert.equal((await get('Medication?code=abc&_contained=true&_containedType=contained&_summary=count')).json.total, 3);
});

test('_contained=both: top-level matches and contained ones, paged without loss or repeat', async () => {
  assert.deepEqual(ids((await get('Medication?code=abc&_contained=both')).json),
    ['Medication/standalone', 'MedicationRequest/23', 'MedicationRequest/both', 'MedicationRequest/siblings']);
  for (const type of ['container', 'contained']) {
    const seen: string[] = [];
    let path: string | undefined = `Medication?code=abc&_contained=both&_containedType=${type}&_count=1`;
    while (path) {
      const r = await get(path);
      assert.equal(r.status, 200, r.text);
      seen.push(...matches(r.json).map((e: any) => e.fullUrl.slice(server.fhirBase.length + 1)));
      const next = r.json.link.find((l: any) => l.relation === 'next');
      path = next ? next.url.slice(server.fhirBase.length + 1) : undefined;
    }
    const want = type === 'container'
      ? ['MedicationRequest/23', 'Medication/standalone', 'MedicationRequest/siblings', 'MedicationRequest/both'] // storage (rid) order
      : ['MedicationRequest/23#m1', 'Medication/standalone', 'MedicationRequest/siblings#a', 'MedicationRequest/both#d'];
    assert.deepEqual(seen, want, type);
  }
});

test('updates and deletes of the container change what contained searches find', async () => {
  await call(server, SYSTEM, 'PUT', 'MedicationRequest/23', request('23', [med('m1', 'changed')]));
  assert.deepEqual(ids((await get('Medication?code=abc&_contained=true')).json), ['MedicationRequest/both', 'MedicationRequest/siblings']);
  assert.deepEqual(ids((await get('Medication?code=changed&_contained=true')).json), ['MedicationRequest/23']);
  await call(server, SYSTEM, 'DELETE', 'MedicationRequest/23');
  assert.deepEqual(ids((await get('Medication?code=changed&_contained=true')).json), []);
});

test('bad values and combinations are 400 OperationOutcomes naming the parameter', async () => {
  for (const [q, param] of [['Medication?_contained=yes', '_contained'], ['Medication?_contained=true&_containedType=x', '_containedType'],
    ['Medication?_contained=true&_sort=code', '_sort'], ['Medication?_contained=true&_containedType=contained&_include=Medication:manufacturer', '_include'],
    ['Medication?_contained=both&_content=abc', '_content'], ['Patient/p1/Medication?_contained=true', '_contained']]) {
    const r = await get(q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.deepEqual(r.json.issue[0].expression, [param], q);
  }
});

test('row-level security: contained resources are seen only with their container', async () => {
  const patient = (id: string) => ({ role: 'patient', scopes: ['patient/*.rs'], patient: id, fhirUser: `Patient/${id}`, clientId: 'portal' });
  assert.deepEqual(ids((await get('Medication?code=abc&_contained=true', patient('p1'))).json), ['MedicationRequest/both', 'MedicationRequest/siblings']);
  assert.deepEqual(ids((await get('Medication?code=abc&_contained=true', patient('p2'))).json), []);
  const other = await get('Medication?code=abc&_contained=true&_containedType=contained', { ...SYSTEM, tenant: 'other' });
  assert.deepEqual(matches(other.json).map((e: any) => e.fullUrl.slice(server.fhirBase.length + 1)), ['MedicationRequest/other-patient#e']);
  // Scopes: a client that may read Medication but not MedicationRequest sees no container.
  assert.deepEqual(ids((await get('Medication?code=abc&_contained=both', { ...SYSTEM, scopes: ['system/Medication.rs'] })).json), ['Medication/standalone']);
});
