// Write-time extraction: the fast path evaluator (src/search/path.ts) must return what the fhirpath package
// returns for every parameter expression of the types in the fixtures, and extractIndex must produce the
// rows and Patient compartments the spec calls for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { Resource } from 'fhir/r4';
import { compilePath, startResource } from '../../src/search/path.js';
import { searchParamsOf } from '../../src/registry/search-params.js';
import { extractIndex } from '../../src/search/extract.js';
import { generate } from './helpers/fixtures.js';

const extra: Resource[] = [
  { resourceType: 'Patient', id: 'x1', deceasedDateTime: '2020-01-01', telecom: [{ system: 'email', value: 'a@b.c' }, { system: 'phone', value: '123' }],
    extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [{ url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3' } }] }] },
  { resourceType: 'Observation', id: 'x2', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
    component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg' } },
      { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, unit: 'mmHg' } }],
    subject: { reference: 'Patient/x1' }, performer: [{ reference: 'Practitioner/d1' }, { reference: 'Patient/x1' }], valueCodeableConcept: { text: 'high' } },
  { resourceType: 'Condition', id: 'x3', subject: { reference: 'Patient/x1' }, onsetPeriod: { start: '2019' }, abatementString: 'gone',
    code: { text: 'flu' }, asserter: { reference: 'Practitioner/d1' } } as Resource,
  { resourceType: 'MedicationRequest', id: 'x4', status: 'active', intent: 'order', subject: { reference: 'Patient/x1' },
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1049630' }] } },
] as Resource[];

function viaFhirpath(resource: Resource, expression: string): unknown[] {
  // The write path reads `.where(resolve() is T)` as "references to a T"; say the same thing in plain FHIRPath.
  const expr = expression.replace(/\.where\(resolve\(\) is (\w+)\)/g, ".where(reference.startsWith('$1/'))");
  return fhirpath.evaluate(resource, expr, {}, r4 as never) as unknown[];
}

test('the fast path agrees with the fhirpath package on every parameter of the fixture types', () => {
  const resources = [...generate(3, 6, 4), ...extra];
  let compared = 0;
  for (const r of resources) {
    startResource(r);
    for (const sp of searchParamsOf(r.resourceType)) {
      if (!sp.expression || sp.type === 'composite' || /resolve\(\)/.test(sp.expression.replace(/\.where\(resolve\(\) is \w+\)/g, ''))) continue;
      const fast = compilePath(sp.expression, r.resourceType)(r as unknown as Record<string, unknown>).map((n) => n.v);
      const slow = viaFhirpath(r, sp.expression);
      assert.deepEqual(JSON.parse(JSON.stringify(fast)), JSON.parse(JSON.stringify(slow)), `${r.resourceType}.${sp.code}: ${sp.expression}`);
      compared++;
    }
  }
  assert.ok(compared > 500, `compared ${compared}`);
});

test('extractIndex: compartments, tokens, strings, references, dates, quantities, composites', () => {
  const [p, o, c] = extra.map((r) => extractIndex(r));
  assert.deepEqual(p.compartments, ['Patient/x1']);
  assert.deepEqual(o.compartments, ['Patient/x1']);
  assert.deepEqual(c.compartments, ['Patient/x1']);
  assert.ok(p.token.some((t) => t.c === '2106-3'), 'US Core race token');
  assert.ok(p.token.some((t) => t.c === 'a@b.c'), 'email');
  assert.ok(o.composite.length >= 6, 'component-code-value-quantity rows');
  assert.ok(o.number.some((n) => n.lo === 80 && n.unit === 'mmHg'));
  assert.ok(c.date.some((d) => d.lo === Date.UTC(2019, 0, 1) && d.hi === 8_640_000_000_000_000), 'open-ended onset period');
  assert.ok(c.string.some((s) => s.v === 'flu'), 'code :text row');
  const again = extractIndex(extra[1]);
  assert.deepEqual(again.token.length, o.token.length, 'deterministic');
  assert.equal(new Set(o.token.map((t) => `${t.h[0]}:${t.h[1]}`)).size, o.token.length, 'token keys unique per resource');
});
