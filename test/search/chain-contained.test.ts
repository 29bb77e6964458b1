// Chains into contained resources against the real server (R4 search.html#contained, 3.1.1.5.5: "chained
// parameters will be evaluated inside contained resources"). A chain follows a local reference '#id'
// (references.html#contained) into the container's own contained resource: MedicationRequest?medication.code=
// matches a request whose medicationReference is '#med' when that contained Medication has the code, and not a
// request whose contained Medication with the code is not the one its medication names. Targets listed first,
// joined (SEARCH_CHAIN_TARGETS=0) and over the cap answer the same; row-level security is the container's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRoleServer, call, SYSTEM } from '../compliance/helpers.js';
import type { TestServer } from '../helpers/server.js';
import { search } from './helpers/run.js';
import type { SearchDb } from './helpers/db.js';

let server: TestServer & { dataDir: string };
const PROBE = 'http://probe';
const med = (id: string, code: string, extra: object = {}) => ({ resourceType: 'Medication', id, code: { coding: [{ system: PROBE, code }] }, ...extra });
const request = (id: string, patient: string, medication: string, contained: object[], extra: object = {}) => ({
  resourceType: 'MedicationRequest', id, status: 'active', intent: 'order', subject: { reference: `Patient/${patient}` },
  ...(contained.length ? { contained } : {}), medicationReference: { reference: medication }, ...extra,
});

before(async () => {
  server = await startRoleServer();
  const put = async (r: { resourceType: string; id: string }, ctx: object = SYSTEM) => {
    const res = await call(server, ctx, 'PUT', `${r.resourceType}/${r.id}`, r);
    assert.ok(res.status === 201 || res.status === 200, `${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
  };
  for (const id of ['pp1', 'pp2']) await put({ resourceType: 'Patient', id });
  await put({ resourceType: 'Organization', id: 'acme', name: 'Acme Pharma' } as never);
  await put(med('mtop', 'medx') as never);
  // The probe's request: its medication is the contained Medication with the code.
  await put(request('pm1', 'pp1', '#med', [med('med', 'medx')]) as never);
  // Controls: a contained Medication with another code; a stored Medication with the code (an ordinary chain).
  await put(request('other-code', 'pp1', '#med', [med('med', 'medy')]) as never);
  await put(request('top-level', 'pp2', 'Medication/mtop', []) as never);
  // A contained Medication with the code that the medication does not name (its medication is the sibling
  // '#b'): contained resources are referenced by their local id, so medication.code asks about '#b' only.
  // '#a' is referred to from an extension, as dom-3 asks of every contained resource.
  await put(request('unreferenced', 'pp1', '#b', [med('a', 'medx'), med('b', 'medy')], {
    extension: [{ url: 'http://probe/other-medication', valueReference: { reference: '#a' } }],
  }) as never);
  // Two levels: the contained Medication's manufacturer is a sibling contained Organization, or a stored one.
  await put(request('sibling-org', 'pp2', '#m', [med('m', 'medz', { manufacturer: { reference: '#org' } }),
    { resourceType: 'Organization', id: 'org', name: 'Probe Labs' }]) as never);
  await put(request('stored-org', 'pp2', '#m', [med('m', 'medz', { manufacturer: { reference: 'Organization/acme' } })]) as never);
  // Another tenant's request with the same contained Medication.
  await put(request('elsewhere', 'pp1', '#med', [med('med', 'medx')]) as never, { ...SYSTEM, tenant: 'other' });
});
after(async () => server?.stop());

const get = (path: string, ctx: object = SYSTEM) => call(server, ctx, 'GET', path);
const ids = (b: any) => (b.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
const found = async (path: string, ctx: object = SYSTEM) => {
  const r = await get(path, ctx);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return ids(r.json);
};
const q = (code: string) => `MedicationRequest?medication.code=${encodeURIComponent(`${PROBE}|${code}`)}`;

test('a chain follows a local reference into the container\'s own contained resource', async () => {
  assert.deepEqual(await found(q('medx')), ['pm1', 'top-level']);
  assert.deepEqual(await found('MedicationRequest?medication.code=medx'), ['pm1', 'top-level']);
  assert.deepEqual(await found(q('medy')), ['other-code', 'unreferenced']);
  // With the target type named, and with a condition on the container too.
  assert.deepEqual(await found(`MedicationRequest?medication:Medication.code=${encodeURIComponent(`${PROBE}|medx`)}&subject=Patient/pp1`), ['pm1']);
  // The contained Medication by its local id (_id of a contained resource is its id in the container).
  assert.deepEqual(await found('MedicationRequest?medication._id=med'), ['other-code', 'pm1']);
  // Contained resources are still not results of their own (search.html#contained: not by default).
  assert.deepEqual(await found(`Medication?code=${encodeURIComponent(`${PROBE}|medx`)}`), ['mtop']);
});

test('a contained resource the reference does not name is not the chain\'s target', async () => {
  assert.ok(!(await found(q('medx'))).includes('unreferenced'));
  assert.ok(!(await found('MedicationRequest?medication._id=a')).includes('unreferenced'));
});

test('two levels: contained Medication to a sibling contained Organization, or to a stored one', async () => {
  assert.deepEqual(await found('MedicationRequest?medication.manufacturer.name=probe'), ['sibling-org']);
  assert.deepEqual(await found('MedicationRequest?medication.manufacturer.name=acme'), ['stored-org']);
  assert.deepEqual(await found('Medication?manufacturer.name=probe&_contained=true'), ['sibling-org']);
});

test('listed first, joined, and over the cap, chains into contained resources answer the same', async () => {
  const s = { db: server.db } as unknown as SearchDb;
  const match = (b: any) => (b.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
  for (const path of [q('medx'), q('medy'), 'MedicationRequest?medication._id=med', 'MedicationRequest?medication.manufacturer.name=probe',
    'MedicationRequest?medication.manufacturer.name=acme', `MedicationRequest?medication.code=medx&_count=1`, 'MedicationRequest?medication.code=nothing']) {
    const listed = match(await search(s, path));
    assert.deepEqual(match(await search(s, path, {}, 'default', { SEARCH_CHAIN_TARGETS: '0' })), listed, `${path} joined`);
    assert.deepEqual(match(await search(s, path, {}, 'default', { SEARCH_CHAIN_TARGETS: '1' })), listed, `${path} over the cap`);
  }
  // Paging across a container and a stored target.
  const first = await search(s, 'MedicationRequest?medication.code=medx&_count=1&_total=accurate');
  assert.equal(first.total, 2);
  const next = (first.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next');
  assert.ok(next, 'a next page');
});

test('a local reference is not a search value: medication=#med names nothing', async () => {
  assert.deepEqual(await found('MedicationRequest?medication=%23med'), []);
  assert.deepEqual(await found('MedicationRequest?medication=Medication/%23med'), []);
  // The element is there: :missing=true does not take the local reference for none.
  assert.ok(!(await found('MedicationRequest?medication:missing=true')).includes('pm1'));
});

test('row-level security is the container\'s: its tenant and its patient compartment', async () => {
  const patient = (id: string) => ({ role: 'patient', scopes: ['patient/*.rs'], patient: id, fhirUser: `Patient/${id}`, clientId: 'portal' });
  // The contained Medication is part of pp1's request, so pp1 sees it; a stored Medication is in no patient's
  // compartment, so the ordinary chain from pp2's request finds no target it may read (chain-targets.ts).
  assert.deepEqual(await found(q('medx'), patient('pp1')), ['pm1']);
  assert.deepEqual(await found(q('medx'), patient('pp2')), []);
  assert.deepEqual(await found('MedicationRequest?medication.manufacturer.name=probe', patient('pp2')), ['sibling-org']);
  assert.deepEqual(await found('MedicationRequest?medication.manufacturer.name=probe', patient('pp1')), []);
  assert.deepEqual(await found(q('medx'), { ...SYSTEM, tenant: 'other' }), ['elsewhere']);
});
