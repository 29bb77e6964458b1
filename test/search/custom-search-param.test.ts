// The pure rules for custom SearchParameters (registry/custom-search-param.ts, registry/fhirpath-check.ts):
// no false alarms on the spec's own definitions, and $reindex's selection with composites and conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fhirpathProblem } from '../../src/registry/fhirpath-check.js';
import { judgeSearchParameter, selectActive } from '../../src/registry/custom-search-param.js';
import { expressionFor, typesOf, type SearchParamDefinition } from '../../src/registry/search-params.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sp = (url: string, over: Json = {}): Json => ({
  resourceType: 'SearchParameter', id: url, url: `http://example.org/sp/${url}`, status: 'active', code: url, base: ['Patient'], type: 'string',
  expression: 'Patient.name.family', ...over,
});

test('every R4 and US Core expression passes the FHIRPath check, but the one R4 itself got wrong', () => {
  const defs = ['r4-base', 'us-core-6.1'].flatMap((f) => JSON.parse(readFileSync(`capability/search-parameters/${f}.json`, 'utf8')) as SearchParamDefinition[]);
  const problems = new Set<string>();
  for (const d of defs) {
    for (const t of typesOf(d)) {
      const own = expressionFor(t, d.expression);
      if (own && fhirpathProblem(own, t)) problems.add(d.url);
    }
  }
  // R4 4.0.1 defines DeviceDefinition-classification as DeviceDefinition.classification.type; R4's
  // DeviceDefinition has no classification element (it came in R5).
  assert.deepEqual([...problems], ['http://hl7.org/fhir/SearchParameter/DeviceDefinition-classification']);
});

test('the expression checks: syntax, functions, elements, choice types and extensions', () => {
  assert.match(fhirpathProblem('Patient.name.(((', 'Patient')!, /not valid FHIRPath/);
  assert.match(fhirpathProblem('Patient.name.nope()', 'Patient')!, /Not implemented: nope/);
  assert.match(fhirpathProblem('Patient.contact.nme', 'Patient')!, /Patient.contact has no element 'nme'/);
  assert.match(fhirpathProblem('Observation.value.ofType(Quantity).valu', 'Observation')!, /Quantity has no element 'valu'/);
  for (const ok of ['(Observation.value as Quantity).unit', "Patient.extension('http://x').value.ofType(string)", 'name.given',
    "Patient.telecom.where(system='email').value", 'Patient.name.first().family', 'Patient.generalPractitioner.where(resolve() is Practitioner)']) {
    assert.equal(fhirpathProblem(ok, ok.startsWith('(Obs') ? 'Observation' : 'Patient'), undefined, ok);
  }
});

test('retired and built-in copies are inert; what cannot work is refused', () => {
  assert.equal(judgeSearchParameter(sp('a', { status: 'retired', expression: '(((' })).kind, 'inert');
  const copy = { url: 'http://hl7.org/fhir/SearchParameter/individual-gender', code: 'gender', status: 'active' };
  assert.equal(judgeSearchParameter(copy).kind, 'inert');
  const refused = (over: Json) => {
    const v = judgeSearchParameter(sp('r', over));
    assert.equal(v.kind, 'refused', JSON.stringify(over));
    return v.kind === 'refused' ? v.issues.map((i) => i.code) : [];
  };
  assert.deepEqual(refused({ code: '_x' }), ['invalid']);
  assert.deepEqual(refused({ type: 'special' }), ['not-supported']);
  assert.deepEqual(refused({ base: [] }), ['required']);
  assert.deepEqual(refused({ code: 'birthdate' }), ['duplicate']);
  assert.deepEqual(refused({ type: 'composite', component: [{ definition: 'http://hl7.org/fhir/SearchParameter/Observation-code-value-quantity', expression: 'x' }] }), ['invalid']);
  assert.equal(judgeSearchParameter(sp('u')).kind, 'usable');
});

test('$reindex selection: conflicts set every party aside, composites follow their parts', () => {
  const part = sp('part', { type: 'token', expression: 'Patient.gender' });
  const comp = sp('comp', { type: 'composite', expression: 'Patient', component: [{ definition: part.url, expression: 'gender' }, { definition: 'http://hl7.org/fhir/SearchParameter/individual-birthdate', expression: 'birthDate' }] });
  const one = selectActive([part, comp]);
  assert.deepEqual(one.defs.map((d) => d.code), ['part', 'comp']);
  const rival = sp('rival', { code: 'part', type: 'token', expression: 'Patient.active' });
  const two = selectActive([part, comp, rival]);
  assert.deepEqual(two.defs.map((d) => d.code), []);
  assert.ok(two.skipped.some((x) => /SearchParameter\/comp .*component http:\/\/example.org\/sp\/part is not an active parameter/.test(x)), two.skipped.join('\n'));
  // Same code on types that do not meet: no conflict.
  const other = sp('o', { code: 'part', base: ['Practitioner'], type: 'token', expression: 'Practitioner.gender' });
  assert.deepEqual(selectActive([part, other]).defs.length, 2);
});
