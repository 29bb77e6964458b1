// dom-3 and dom-4 (R4 4.0.1 DomainResource, resource.html#contained): a contained resource is referred to
// from elsewhere in its container (as a reference, canonical, uri or url '#id') or refers to the container
// ('#'); it has no meta.versionId or meta.lastUpdated. Each breach: invariant, 422, at the contained resource.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '../../../src/fhir/validation/validate.js';
import { at, statusOf } from './issues.js';

const med = (id: string | undefined, extra: object = {}) => ({ resourceType: 'Medication', ...(id ? { id } : {}), ...extra });
const request = (extra: object) => ({
  resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p' },
  ...('medicationReference' in extra ? {} : { medicationCodeableConcept: { text: 'aspirin' } }), ...extra,
});
const ext = (value: object) => ({ extension: [{ url: 'http://example.org/x', ...value }] });

test('dom-3: a contained resource nothing refers to is refused, at the contained resource, 422', () => {
  const body = request({ contained: [med('m')] });
  const issues = validateResource(body);
  assert.deepEqual(at(issues), ['invariant MedicationRequest.contained[0]']);
  assert.match(issues[0].diagnostics!, /dom-3/);
  assert.equal(statusOf(body), 422);
  // '#n' names another: still unreferenced.
  assert.deepEqual(at(validateResource(request({ contained: [med('m')], medicationReference: { reference: '#n' } }))),
    ['invariant MedicationRequest.contained[0]']);
});

test('dom-3: one issue per contained resource at fault, the referenced ones pass', () => {
  const body = request({ contained: [med('a'), med('b'), med('c')], medicationReference: { reference: '#b' } });
  assert.deepEqual(at(validateResource(body)), ['invariant MedicationRequest.contained[0]', 'invariant MedicationRequest.contained[2]']);
  // A Claim, as the brief's example: an unreferenced contained Coverage.
  const claim = {
    resourceType: 'Claim', status: 'active', type: { text: 't' }, use: 'claim', patient: { reference: 'Patient/p' },
    created: '2020-01-01', provider: { reference: 'Practitioner/x' }, priority: { text: 'normal' },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/stored' } }],
    contained: [{ resourceType: 'Coverage', id: 'cov', status: 'active', beneficiary: { reference: 'Patient/p' }, payor: [{ display: 'x' }] }],
  };
  assert.deepEqual(at(validateResource(claim)), ['invariant Claim.contained[0]']);
  const insured = { ...claim, insurance: [{ sequence: 1, focal: true, coverage: { reference: '#cov' } }] };
  assert.deepEqual(validateResource(insured), []);
});

test('dom-3: referred to as a Reference anywhere in the container, an extension or a sibling included', () => {
  assert.deepEqual(validateResource(request({ contained: [med('m')], medicationReference: { reference: '#m' } })), []);
  assert.deepEqual(validateResource(request({ contained: [med('m')], ...ext({ valueReference: { reference: '#m' } }) })), []);
  // An extension on a primitive (its `_x` object) is a descendant too.
  assert.deepEqual(validateResource(request({ contained: [med('m')], _status: ext({ valueReference: { reference: '#m' } }) })), []);
  // From a sibling contained resource: %resource.descendants() reaches into every contained resource.
  assert.deepEqual(validateResource(request({
    contained: [med('m', { manufacturer: { reference: '#o' } }), { resourceType: 'Organization', id: 'o', name: 'x' }],
    medicationReference: { reference: '#m' },
  })), []);
});

test('dom-3: referred to as a canonical, a uri or a url; not as a string or from the narrative', () => {
  assert.deepEqual(validateResource({
    resourceType: 'Questionnaire', status: 'draft', contained: [{ resourceType: 'ValueSet', id: 'vs', status: 'draft' }],
    item: [{ linkId: '1', type: 'group', item: [{ linkId: '2', type: 'choice', answerValueSet: '#vs' }] }],
  }), []);
  assert.deepEqual(validateResource(request({ contained: [med('m')], instantiatesUri: ['#m'] })), []);
  assert.deepEqual(validateResource(request({ contained: [med('m')], ...ext({ valueUrl: '#m' }) })), []);
  assert.deepEqual(at(validateResource(request({ contained: [med('m')], ...ext({ valueString: '#m' }) }))), ['invariant MedicationRequest.contained[0]']);
  const div = '<div xmlns="http://www.w3.org/1999/xhtml"><a href="#m">the medication</a></div>';
  assert.deepEqual(at(validateResource(request({ contained: [med('m')], text: { status: 'generated', div } }))), ['invariant MedicationRequest.contained[0]']);
});

test('dom-3: a contained resource that refers to its container with \'#\' passes; a uri \'#\' does not count', () => {
  const provenance = { resourceType: 'Provenance', id: 'pv', recorded: '2020-01-01T00:00:00Z', agent: [{ who: { reference: 'Practitioner/x' } }], target: [{ reference: '#' }] };
  assert.deepEqual(validateResource(request({ contained: [provenance] })), []);
  const org = { resourceType: 'Organization', id: 'o', name: 'x', ...ext({ valueUri: '#' }) };
  assert.deepEqual(at(validateResource(request({ contained: [org] }))), ['invariant MedicationRequest.contained[0]']);
});

test('dom-3: as the expression reads, a contained resource without an id is not held to it', () => {
  // '#' + id is empty, so the where() criterion is empty, not true (fhirpath.html#boolean-logic).
  assert.deepEqual(at(validateResource(request({ contained: [med(undefined, { code: { text: 'x' } })] }))), []);
});

test('dom-3 applies inside a Bundle entry, scoped to the entry\'s own resource', () => {
  const bundle = {
    resourceType: 'Bundle', type: 'collection',
    entry: [
      { fullUrl: 'urn:uuid:1', resource: request({ contained: [med('m')] }) },
      { fullUrl: 'urn:uuid:2', resource: request({ medicationReference: { reference: '#m' } }) },
    ],
  };
  assert.deepEqual(at(validateResource(bundle)), ['invariant Bundle.entry[0].resource.contained[0]']);
});

test('dom-4: a contained resource with meta.versionId or meta.lastUpdated is refused, 422', () => {
  for (const meta of [{ versionId: '1' }, { lastUpdated: '2020-01-01T00:00:00Z' }]) {
    const body = request({ contained: [med('m', { meta })], medicationReference: { reference: '#m' } });
    assert.deepEqual(at(validateResource(body)), ['invariant MedicationRequest.contained[0].meta']);
    assert.equal(statusOf(body), 422);
  }
  // The container's own meta is the server's to keep.
  assert.deepEqual(validateResource(request({ meta: { versionId: '3', lastUpdated: '2020-01-01T00:00:00Z' } })), []);
});
