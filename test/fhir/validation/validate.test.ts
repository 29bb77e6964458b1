// validateResource / assertValid: one issue per problem, each with its FHIRPath-like expression, and
// the status split of http.html (400 malformed, 422 rule broken).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../src/errors.js';
import { assertValid, validateResource, warmUp } from '../../../src/fhir/validation/validate.js';
import { at, statusOf } from './issues.js';

const patient = {
  resourceType: 'Patient',
  id: 'p-1.a',
  meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] },
  extension: [{
    url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
    extension: [{ url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3' } }, { url: 'text', valueString: 'White' }],
  }],
  identifier: [{ system: 'http://example.org/mrn', value: '123' }],
  active: true,
  name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
  gender: 'male',
  birthDate: '1974-12-25',
  deceasedBoolean: false,
  multipleBirthInteger: 1,
  contact: [{ relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N' }] }], name: { family: 'du Marché' } }],
};

test('a valid resource has no issues and passes assertValid', () => {
  assert.deepEqual(validateResource(patient), []);
  assert.equal(statusOf(patient), 200);
  assert.deepEqual(validateResource({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1.5, unit: 'mg' } }), []);
});

test('not an object, no resourceType, unknown and vendor types: 400', () => {
  for (const body of [null, [], 'Patient', 3]) {
    assert.deepEqual(at(validateResource(body)), ['structure undefined']);
    assert.equal(statusOf(body), 400);
  }
  assert.deepEqual(at(validateResource({ id: 'x' })), ['structure resourceType']);
  for (const type of ['Project', 'Bot', 'ClientApplication', 'SubscriptionStatus', 'DomainResource']) {
    const issues = validateResource({ resourceType: type });
    assert.deepEqual(at(issues), ['not-supported resourceType'], type);
    assert.match(issues[0].diagnostics!, /Unknown resource type/);
    assert.equal(statusOf({ resourceType: type }), 400);
  }
});

test('unknown element, at any depth: structure, 400', () => {
  const issues = validateResource({ ...patient, foo: 1, name: [{ family: 'x', nickname: 'y' }] });
  assert.deepEqual(at(issues), ['structure Patient.foo', 'structure Patient.name[0].nickname']);
  assert.match(issues[0].diagnostics!, /Unknown element 'foo'/);
  assert.equal(statusOf({ resourceType: 'Patient', foo: 1 }), 400);
  // A choice type the element does not allow is unknown too.
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', deceasedString: 'yes' })), ['structure Patient.deceasedString']);
});

test('wrong JSON type: string where boolean, 400', () => {
  const issues = validateResource({ resourceType: 'Patient', active: 'true' });
  assert.deepEqual(at(issues), ['structure Patient.active']);
  assert.match(issues[0].diagnostics!, /boolean/);
  assert.equal(statusOf({ resourceType: 'Patient', active: 'true' }), 400);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', multipleBirthInteger: 1.5 })), ['structure Patient.multipleBirthInteger']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', gender: 5 })), ['structure Patient.gender']);
});

test('malformed primitive values: value, 400', () => {
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', birthDate: '1974-13-01' })), ['value Patient.birthDate']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', name: [{ family: '' }] })), ['value Patient.name[0].family']);
  assert.deepEqual(at(validateResource({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, issued: '2020-01-01' })), ['value Observation.issued']);
});

test('control characters in strings (datatypes.html#string): value, 400; tab, CR and LF are allowed', () => {
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', name: [{ family: 'a\u0001b', given: ['ok', 'x\u0000'] }] })),
    ['value Patient.name[0].family', 'value Patient.name[0].given[1]']);
  assert.equal(statusOf({ resourceType: 'Patient', name: [{ family: 'a\u001fb' }] }), 400);
  assert.deepEqual(validateResource({ resourceType: 'Patient', name: [{ family: 'a\tb\r\nc' }] }), []);
  // Nested resources are walked too.
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o', name: '\u0007' }], managingOrganization: { reference: '#o' } })), ['value Patient.contained[0].name']);
});

test('code outside a required value set: code-invalid, 422', () => {
  const issues = validateResource({ resourceType: 'Patient', gender: 'x' });
  assert.deepEqual(at(issues), ['code-invalid Patient.gender']);
  assert.match(issues[0].diagnostics!, /administrative-gender/);
  assert.equal(statusOf({ resourceType: 'Patient', gender: 'x' }), 422);
  // Required binding on a CodeableConcept (Condition.clinicalStatus) and on a Coding (Meta has none; use Encounter.status: code).
  const condition = {
    resourceType: 'Condition', subject: { reference: 'Patient/1' },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'gone' }] },
  };
  assert.deepEqual(at(validateResource(condition)), ['code-invalid Condition.clinicalStatus']);
  const ok = { ...condition, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } };
  assert.deepEqual(validateResource(ok), []);
});

test('missing required elements: required, 422; a primitive with only extensions counts as present', () => {
  const issues = validateResource({ resourceType: 'Observation' });
  assert.deepEqual(at(issues), ['required Observation.code', 'required Observation.status']);
  assert.equal(statusOf({ resourceType: 'Observation' }), 422);
  const absent = { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' };
  assert.deepEqual(validateResource({ resourceType: 'Observation', _status: { extension: [absent] }, code: { text: 'x' } }), []);
  // Inside a backbone element that is present, and a required choice (medication[x]).
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', link: [{ type: 'seealso' }] })), ['required Patient.link[0].other']);
  assert.deepEqual(at(validateResource({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' } })),
    ['required MedicationRequest.medication']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', extension: [{ valueString: 'x' }] })), ['required Patient.extension[0].url']);
});

test('cardinality: two values for a 0..1 element, an empty array, one type per choice', () => {
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', gender: ['male', 'female'] })), ['structure Patient.gender']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', maritalStatus: [{ text: 'a' }, { text: 'b' }] })), ['structure Patient.maritalStatus']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', name: {} })), ['structure Patient.name']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', identifier: [] })), ['structure Patient.identifier']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', telecom: [{}] })), ['structure Patient.telecom[0]']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', deceasedBoolean: true, deceasedDateTime: '2020' })), ['structure Patient.deceased']);
});

test('invariants: ext-1 (extensions or a value, not both); 32-bit integers', () => {
  const both = { url: 'http://example.org/x', valueString: 'a', extension: [{ url: 'y', valueString: 'b' }] };
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', extension: [both] })), ['invariant Patient.extension[0]']);
  assert.equal(statusOf({ resourceType: 'Patient', extension: [both] }), 422);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', multipleBirthInteger: 2 ** 31 })), ['value Patient.multipleBirthInteger']);
  const timing = { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' },
    medicationCodeableConcept: { text: 'x' }, dosageInstruction: [{ timing: { repeat: { frequency: 0 } } }] };
  assert.deepEqual(at(validateResource(timing)), ['value MedicationRequest.dosageInstruction[0].timing.repeat.frequency']);
});

test('resource id: [A-Za-z0-9-.]{1,64}; ignored on create; required on update', () => {
  for (const id of ['bad id', 'x'.repeat(65), '', 'a/b']) {
    assert.deepEqual(at(validateResource({ resourceType: 'Patient', id })), ['value Patient.id'], id);
    assert.deepEqual(validateResource({ resourceType: 'Patient', id }, { mode: 'create' }), [], id);
  }
  assert.deepEqual(validateResource({ resourceType: 'Patient', id: 'A-z.0' }), []);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient' }, { mode: 'update' })), ['invalid Patient.id']);
  assert.throws(() => assertValid({ resourceType: 'Patient' }, { mode: 'update' }), (e: FhirError) => e.status === 400);
});

test('primitive extensions (_birthDate) and nulls in primitive arrays', () => {
  const ext = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1974-12-25T14:35:45-05:00' }] };
  assert.deepEqual(validateResource({ resourceType: 'Patient', birthDate: '1974-12-25', _birthDate: ext }), []);
  assert.deepEqual(validateResource({ resourceType: 'Patient', _birthDate: ext }), []);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', _birthDate: { extension: [{ valueString: 'x' }] } })), ['required Patient.birthDate.extension[0].url']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', _birthDate: { foo: 1 } })), ['structure Patient.birthDate.foo']);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', _birthDate: '1974' })), ['structure Patient.birthDate']);
  const name = { given: ['Peter', null], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'James' }] }] };
  assert.deepEqual(validateResource({ resourceType: 'Patient', name: [name] }), []);
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', name: [{ given: ['Peter', null] }] })), ['structure Patient.name[0].given[1]']);
});

test('contained resources are validated as their own type, with dom-2 and dom-4', () => {
  const contained = [
    { resourceType: 'Practitioner', id: 'pr', foo: 1 },
    { resourceType: 'Observation', id: 'ob', code: { text: 'x' } },
    { resourceType: 'Organization', id: 'or', contained: [{ resourceType: 'Patient' }], meta: { versionId: '1' } },
    { resourceType: 'Project', id: 'pj' },
  ];
  // dom-3: each is referred to from the container (an extension may name any of them).
  const refs = { generalPractitioner: [{ reference: '#pr' }, { reference: '#or' }], extension: [{ url: 'http://example.org/x', valueReference: { reference: '#ob' } }] };
  assert.deepEqual(at(validateResource({ resourceType: 'Patient', contained, ...refs })), [
    'invariant Patient.contained[2].contained', 'invariant Patient.contained[2].meta', 'not-supported Patient.contained[3].resourceType',
    'required Patient.contained[1].status', 'structure Patient.contained[0].foo',
  ]);
  assert.deepEqual(validateResource({ resourceType: 'Patient', contained: [{ resourceType: 'Practitioner', id: 'pr' }], generalPractitioner: [{ reference: '#pr' }] }), []);
});

test('Bundle entries and Parameters resources are validated too', () => {
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'x' } }, { resource: patient }] };
  assert.deepEqual(at(validateResource(bundle)), ['code-invalid Bundle.entry[0].resource.gender']);
  const params = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', active: 1 } }] };
  assert.deepEqual(at(validateResource(params)), ['structure Parameters.parameter[0].resource.active']);
});

test('assertValid: one issue per problem; 400 wins over 422', () => {
  try {
    assertValid({ resourceType: 'Observation', foo: 1, status: 'nope' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof FhirError);
    assert.equal(e.status, 400);
    assert.deepEqual(at(e.issues), ['code-invalid Observation.status', 'required Observation.code', 'structure Observation.foo']);
  }
});

test('issues are capped so a hostile body cannot make a huge outcome', () => {
  const name = Array.from({ length: 500 }, () => ({ bad: 1 }));
  const issues = validateResource({ resourceType: 'Patient', name });
  assert.ok(issues.length <= 101);
  assert.equal(issues.at(-1)!.severity, 'information');
});

test('warmUp compiles validators ahead of use and changes no result', () => {
  warmUp(['Patient', 'Observation', 'Encounter']);
  assert.deepEqual(validateResource(patient), []);
  assert.deepEqual(at(validateResource({ resourceType: 'Encounter', status: 'x' })), ['code-invalid Encounter.status', 'required Encounter.class']);
});

test('every path that validates (import, $validate) refuses absurd nesting and unpaired surrogates, before recursing', () => {
  let ext: object = { url: 'http://y', valueString: 'z' };
  for (let i = 0; i < 3000; i++) ext = { url: 'http://x', extension: [ext] };
  const deep = validateResource({ resourceType: 'Patient', extension: [ext] });
  assert.equal(deep.length, 1);
  assert.match(deep[0].diagnostics ?? '', /nested more than 256 levels/);
  const lone = validateResource({ resourceType: 'Patient', name: [{ family: 'a\ud800b' }] });
  assert.deepEqual(lone.map((i) => i.expression?.[0]), ['Patient.name[0].family']);
  assert.match(lone[0].diagnostics ?? '', /unpaired UTF-16 surrogate/);
  assert.deepEqual(validateResource({ resourceType: 'Patient', name: [{ family: 'a\u{1F600}b' }] }), []);
});
