// The R4 rules of the JSON format and the base invariants that apply to every element (ele-1, ext-1,
// dom-5), and the 400/422 split for malformed codes: each case was accepted, or refused with the wrong
// status or more than one issue, before validation/structure.ts and schema.ts handled it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../../../src/fhir/validation/validate.js';
import { at, statusOf } from './issues.js';

const P = (x: object) => ({ resourceType: 'Patient', ...x });
const obs = (x: object) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...x });
const ext = { url: 'http://example.org/x', valueString: 'a' };

test('ext-1: an extension with neither a value nor extensions is refused (invariant, 422), wherever it sits', () => {
  // extension.exists() != value.exists(): "neither" breaks it as much as "both".
  const bare = { url: 'http://example.org/x' };
  assert.deepEqual(at(validateResource(P({ extension: [bare] }))), ['invariant Patient.extension[0]']);
  assert.deepEqual(at(validateResource(P({ modifierExtension: [bare] }))), ['invariant Patient.modifierExtension[0]']);
  assert.deepEqual(at(validateResource(P({ extension: [{ url: 'http://example.org/c', extension: [{ url: 'part' }] }] }))),
    ['invariant Patient.extension[0].extension[0]']);
  assert.deepEqual(at(validateResource(P({ name: [{ family: 'x', _family: { extension: [bare] } }] }))), ['invariant Patient.name[0].family.extension[0]']);
  assert.match(validateResource(P({ extension: [bare] }))[0].diagnostics!, /ext-1/);
  assert.equal(statusOf(P({ extension: [bare] })), 422);
  // A value carried only by its `_valueX` extensions is a value.
  assert.deepEqual(validateResource(P({ extension: [{ url: 'http://example.org/x', _valueString: { extension: [ext] } }] })), []);
});

test('ele-1: an element holding only its id is refused; an id beside a value or children passes', () => {
  assert.deepEqual(at(validateResource(P({ _birthDate: { id: 'b' } }))), ['invariant Patient.birthDate']);
  assert.deepEqual(validateResource(P({ birthDate: '1970', _birthDate: { id: 'b' } })), []);
  assert.deepEqual(at(validateResource(P({ name: [{ family: 'x' }, { id: 'n' }] }))), ['invariant Patient.name[1]']);
  // One issue for the element, not one more per required child it lacks (Patient.link.other, .type).
  assert.deepEqual(at(validateResource(P({ link: [{ id: 'l' }] }))), ['invariant Patient.link[0]']);
  assert.deepEqual(at(validateResource(P({ link: [{}] }))), ['structure Patient.link[0]']);
  assert.deepEqual(at(validateResource(P({ extension: [{}] }))), ['structure Patient.extension[0]']);
  // In primitive arrays the value at the same position counts.
  assert.deepEqual(validateResource(P({ name: [{ given: ['a', 'b'], _given: [null, { id: 'g' }] }] })), []);
  assert.deepEqual(at(validateResource(P({ name: [{ given: ['a', null], _given: [null, { id: 'g' }] }] }))), ['invariant Patient.name[0].given[1]']);
  assert.equal(statusOf(P({ name: [{ id: 'n' }] })), 422);
});

test('json.html: `_given` without `given` may not hold a null (a position with neither value nor extensions)', () => {
  assert.deepEqual(validateResource(P({ name: [{ _given: [{ extension: [ext] }] }] })), []);
  assert.deepEqual(at(validateResource(P({ name: [{ _given: [{ extension: [ext] }, null] }] }))), ['structure Patient.name[0].given[1]']);
  assert.deepEqual(at(validateResource(P({ name: [{ _given: [null] }] }))), ['structure Patient.name[0].given[0]']);
  assert.equal(statusOf(P({ name: [{ _given: [null] }] })), 400);
});

test('empty uri, url and canonical values are refused (value, 400) although their regex is \\S*', () => {
  assert.deepEqual(at(validateResource(P({ identifier: [{ system: '', value: '1' }] }))), ['value Patient.identifier[0].system']);
  assert.deepEqual(at(validateResource(P({ extension: [{ url: '', valueString: 'a' }] }))), ['value Patient.extension[0].url']);
  assert.deepEqual(at(validateResource(P({ meta: { source: '' } }))), ['value Patient.meta.source']);
  assert.deepEqual(at(validateResource({ resourceType: 'Questionnaire', status: 'draft', derivedFrom: [''] })), ['value Questionnaire.derivedFrom[0]']);
  const endpoint = { resourceType: 'Endpoint', status: 'active', connectionType: { code: 'hl7-fhir-rest' }, payloadType: [{ text: 'x' }] };
  assert.deepEqual(at(validateResource({ ...endpoint, address: '' })), ['value Endpoint.address']);
  assert.equal(statusOf(P({ meta: { source: '' } })), 400);
  assert.deepEqual(validateResource({ ...endpoint, address: 'https://example.org/fhir' }), []);
  assert.deepEqual(validateResource(P({ identifier: [{ system: 'urn:oid:1.2.3', value: '1' }] })), []);
});

test('a malformed code under a required binding is a malformed primitive (value, 400), reported once', () => {
  for (const gender of [' male', 'male ', '']) {
    assert.deepEqual(at(validateResource(P({ gender }))), ['value Patient.gender'], JSON.stringify(gender));
    assert.equal(statusOf(P({ gender })), 400);
  }
  assert.deepEqual(at(validateResource({ resourceType: 'SearchParameter', url: 'http://x', name: 'x', status: 'active', description: 'x', code: 'x',
    base: ['Patient '], type: 'token' })), ['value SearchParameter.base[0]']);
  const condition = (code: string) => ({ resourceType: 'Condition', subject: { reference: 'Patient/1' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] } });
  assert.deepEqual(at(validateResource(condition(' active'))), ['value Condition.clinicalStatus.coding[0].code']);
  // Well-formed but outside the value set stays a broken rule: 422.
  assert.deepEqual(at(validateResource(P({ gender: 'x' }))), ['code-invalid Patient.gender']);
  assert.deepEqual(at(validateResource(condition('gone'))), ['code-invalid Condition.clinicalStatus']);
});

test('dom-5: a contained resource SHALL NOT have a security label (invariant, 422); its container may', () => {
  const label = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] };
  const contained = [{ resourceType: 'Organization', id: 'o', name: 'x', meta: label }];
  assert.deepEqual(at(validateResource(P({ contained, managingOrganization: { reference: '#o' } }))), ['invariant Patient.contained[0].meta.security']);
  assert.equal(statusOf(P({ contained })), 422);
  assert.deepEqual(validateResource(P({ meta: label })), []);
});

test('no `_x` for Element.id (an XML attribute) or the narrative div (xhtml.extension 0..0); other primitives keep theirs', () => {
  const extra = { extension: [ext] };
  assert.deepEqual(at(validateResource(P({ name: [{ family: 'x', id: 'n', _id: extra }] }))), ['structure Patient.name[0].id']);
  const div = '<div xmlns="http://www.w3.org/1999/xhtml">x</div>';
  assert.deepEqual(at(validateResource(P({ text: { status: 'generated', div, _div: extra } }))), ['structure Patient.text.div']);
  assert.equal(statusOf(P({ text: { status: 'generated', div, _div: extra } })), 400);
  // The resource's id (an `id` element in XML), canonicals and the extension url may have extensions.
  assert.deepEqual(validateResource(P({ id: 'p', _id: extra, meta: { profile: ['http://example.org/p'], _profile: [extra] } })), []);
  assert.deepEqual(validateResource(P({ extension: [{ ...ext, _url: extra }] })), []);
});

test('already right: required bindings in data types and backbone elements, extensible ones left alone, nested expressions', () => {
  assert.deepEqual(at(validateResource(P({ identifier: [{ use: 'bogus' }], telecom: [{ system: 'pager2', value: '1' }], name: [{ family: 'x' }, { use: 'x' }] }))),
    ['code-invalid Patient.identifier[0].use', 'code-invalid Patient.name[1].use', 'code-invalid Patient.telecom[0].system']);
  assert.deepEqual(at(validateResource(obs({ valueQuantity: { value: 1, comparator: '=' } }))), ['code-invalid Observation.valueQuantity.comparator']);
  // Observation.component.interpretation is bound extensible: any code is allowed.
  const component = { code: { text: 'y' }, interpretation: [{ coding: [{ system: 'http://example.org', code: 'zzz' }] }] };
  assert.deepEqual(validateResource(obs({ component: [component] })), []);
  assert.deepEqual(at(validateResource(obs({ component: [{ valueString: 'y' }] }))), ['required Observation.component[0].code']);
  assert.deepEqual(at(validateResource(P({ name: [{ family: 'a' }, { given: ['b', 5] }] }))), ['structure Patient.name[1].given[1]']);
  assert.deepEqual(at(validateResource(P({ meta: { lastUpdated: '2020-01-01T10:00:00' } }))), ['value Patient.meta.lastUpdated']);
  assert.deepEqual(at(validateResource(obs({ valueQuantity: { value: '1.5' } }))), ['structure Observation.valueQuantity.value']);
  assert.deepEqual(at(validateResource(P({ extension: [{ url: 'http://example.org/x', valueString: 'a', valueBoolean: true }] }))),
    ['structure Patient.extension[0].value']);
  for (const resourceType of ['Conformance', 'ActorDefinition']) assert.equal(statusOf({ resourceType }), 400);
  assert.deepEqual(at(validateResource({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Foo' } }] })),
    ['not-supported Bundle.entry[0].resource.resourceType']);
});
