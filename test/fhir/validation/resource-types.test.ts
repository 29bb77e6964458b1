// The resource-type registry holds the R4 core types only (resourcelist.html), none of the vendor
// types shipped in the definitions package, and an element table true to R4 (no vendor elements).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ABSTRACT_RESOURCE_TYPES, RESOURCE_TYPES, choiceKey, elementsOf, isResourceType, requiredValueSet,
} from '../../../src/registry/resource-types.js';

test('146 concrete R4 resource types plus the abstract Resource and DomainResource', () => {
  // R4's resource-types code system (4.0.1) has 148 codes: these 146 and the two abstract ones.
  assert.equal(RESOURCE_TYPES.length, 146);
  assert.deepEqual([...ABSTRACT_RESOURCE_TYPES], ['DomainResource', 'Resource']);
  for (const t of ['Patient', 'Observation', 'Bundle', 'Parameters', 'MedicinalProductUndesirableEffect', 'CatalogEntry']) {
    assert.ok(isResourceType(t), t);
  }
  assert.deepEqual([...RESOURCE_TYPES], [...RESOURCE_TYPES].sort());
});

test('vendor, later-version and abstract types are not resource types', () => {
  for (const t of ['Project', 'Bot', 'ClientApplication', 'User', 'AccessPolicy', 'SubscriptionStatus', 'Resource', 'DomainResource', 'patient', '', 'Patient ']) {
    assert.equal(isResourceType(t), false, t);
  }
  assert.equal(isResourceType(undefined), false);
  assert.equal(isResourceType(42), false);
});

test('element table is R4, without vendor elements', () => {
  const names = (path: string) => (elementsOf(path) ?? []).map((e) => e.name).sort();
  assert.deepEqual(names('Meta'), ['extension', 'id', 'lastUpdated', 'profile', 'security', 'source', 'tag', 'versionId']);
  assert.deepEqual(names('Reference'), ['display', 'extension', 'id', 'identifier', 'reference', 'type']);
  assert.ok(!names('OperationOutcome').includes('status'));
  // R4 EvidenceVariable.characteristic (the package ships an R5-shaped one).
  assert.ok(names('EvidenceVariable.characteristic').includes('definition[x]'));
  assert.ok(!names('Timing.repeat').includes('modifierExtension'));
  const gender = elementsOf('Patient')!.find((e) => e.name === 'gender')!;
  assert.equal(gender.binding, 'http://hl7.org/fhir/ValueSet/administrative-gender');
  assert.equal(elementsOf('Questionnaire.item')!.find((e) => e.name === 'item')!.ref, 'Questionnaire.item');
  assert.equal(elementsOf('Project'), undefined);
});

test('required value sets are expanded from the definitions', () => {
  const gender = requiredValueSet('http://hl7.org/fhir/ValueSet/administrative-gender')!;
  assert.deepEqual([...gender].sort(), ['female', 'male', 'other', 'unknown'].map((c) => `http://hl7.org/fhir/administrative-gender|${c}`));
  assert.ok(requiredValueSet('http://hl7.org/fhir/ValueSet/condition-clinical')!.has('http://terminology.hl7.org/CodeSystem/condition-clinical|active'));
  assert.equal(requiredValueSet('http://hl7.org/fhir/ValueSet/mimetypes'), undefined); // not enumerable
  assert.equal(choiceKey('value[x]', 'dateTime'), 'valueDateTime');
});
