// Write-time extraction of contained resources (R4 search.html#contained) and of composites beyond two
// components (#composite, R4 MolecularSequence): contained rows carry '#'-prefixed keys and their position,
// never a top-level key; three-component composites hash their token and keep both coordinates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { extractIndex } from '../../src/search/extract.js';
import { keyText, paramKey } from '../../src/search/hash.js';
import { compositeKey, tokenCode, tokenSystemCode, variant } from '../../src/search/keys.js';

const hk = (k: [number, number]) => `${k[0]}:${k[1]}`;

const request = {
  resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' },
  medicationReference: { reference: '#m2' },
  contained: [
    { resourceType: 'Medication', id: 'm1', code: { coding: [{ system: 'http://acme.org/meds', code: 'abc' }] }, manufacturer: { reference: 'Organization/o1' } },
    { resourceType: 'Medication', id: 'm2', code: { coding: [{ system: 'http://acme.org/meds', code: 'xyz' }] }, form: { coding: [{ code: 'tablet' }] } },
    { resourceType: 'NotAType', id: 'n1' },
    { resourceType: 'Medication', code: { text: 'no id: never referable, not indexed' } },
  ],
} as unknown as Resource;

test('each contained resource with a type and an id is indexed apart, at its position, under # keys', () => {
  const ix = extractIndex(request);
  assert.deepEqual(ix.contained?.map((c) => [c.cx, c.type, c.id]), [[0, 'Medication', 'm1'], [1, 'Medication', 'm2']]);
  const [m1, m2] = ix.contained!;
  assert.ok(m1.token.some((t) => hk(t.h) === hk(tokenSystemCode('#Medication.code', 'http://acme.org/meds', 'abc'))));
  assert.ok(m2.token.some((t) => hk(t.h) === hk(tokenCode('#Medication.code', 'xyz'))));
  assert.ok(!m1.token.some((t) => hk(t.h) === hk(tokenCode('#Medication.code', 'xyz'))), 'siblings keep their own rows');
  assert.ok(m1.reference.some((r) => r.ttype === 'Organization' && r.tid === 'o1' && keyText(r.p) === keyText(paramKey('#Medication.manufacturer'))));
  // Nothing of a contained resource leaks into the container's own rows, and no contained row uses a top-level key.
  assert.ok(!ix.token.some((t) => hk(t.h) === hk(tokenCode('Medication.code', 'abc')) || hk(t.h) === hk(tokenCode('#Medication.code', 'abc'))));
  const topLevel = new Set(['Medication.code', 'Medication.form', 'Medication.manufacturer'].map((k) => keyText(paramKey(k))));
  for (const c of ix.contained!) for (const rows of [c.token, c.string, c.reference]) for (const r of rows) assert.ok(!topLevel.has(keyText(r.p)));
  // The local reference #m2 is indexed as itself, with the contained resource's type, for chains into it
  // (search.html#contained); no stored resource has an id with '#', so it names nothing else.
  assert.deepEqual(ix.reference.filter((r) => r.tid.includes('m2')).map((r) => [keyText(r.p), r.ttype, r.tid]),
    [[keyText(paramKey('MedicationRequest.medication')), 'Medication', '#m2']]);
  assert.equal(extractIndex({ resourceType: 'Patient', id: 'p' } as Resource).contained, undefined);
});

test('three-component composites: the token hashed, window start in lo and end in hi; %resource components too', () => {
  const seq = {
    resourceType: 'MolecularSequence', id: 's1', coordinateSystem: 1,
    referenceSeq: { chromosome: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/chromosome-human', code: '1' }] },
      referenceSeqId: { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/nuccore', code: 'NC_000001.11' }] }, windowStart: 22125500, windowEnd: 22125510 },
    variant: [{ start: 22125503, end: 22125504 }, { start: 22125505, end: 22125507 }],
  } as unknown as Resource;
  const ix = extractIndex(seq);
  const window = hk(compositeKey('MolecularSequence.chromosome-window-coordinate', [variant.code('1')]));
  assert.deepEqual(ix.composite.filter((r) => hk(r.h) === window).map((r) => [r.lo, r.hi]), [[22125500, 22125510]]);
  // referenceseqid-variant-coordinate reads its first component from %resource.referenceSeq.referenceSeqId.
  const variants = hk(compositeKey('MolecularSequence.referenceseqid-variant-coordinate',
    [variant.systemCode('http://www.ncbi.nlm.nih.gov/nuccore', 'NC_000001.11')]));
  assert.deepEqual(ix.composite.filter((r) => hk(r.h) === variants).map((r) => [r.lo, r.hi]), [[22125503, 22125504], [22125505, 22125507]]);
});
