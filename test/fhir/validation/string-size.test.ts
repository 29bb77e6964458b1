// "FHIR strings SHALL NOT exceed 1MB in size" (R4 datatypes.html#string; markdown too): refused with the
// element's path; a string of exactly 1,048,576 characters, or of astral characters within that count, passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource, statusFor } from '../../../src/fhir/validation/validate.js';

test('a string or markdown over 1,048,576 characters is refused; at the limit it passes', () => {
  const at = validateResource({ resourceType: 'Patient', name: [{ family: 'x'.repeat(1048577) }] });
  assert.equal(at.length, 1, JSON.stringify(at.map((i) => i.diagnostics)));
  assert.equal(at[0].code, 'too-long');
  assert.deepEqual(at[0].expression, ['Patient.name[0].family']);
  assert.equal(statusFor(at), 400);
  assert.deepEqual(validateResource({ resourceType: 'Patient', name: [{ family: 'x'.repeat(1048576) }] }), []);
  // 600,000 emoji: 1,200,000 UTF-16 units, but 600,000 characters.
  assert.deepEqual(validateResource({ resourceType: 'Patient', name: [{ family: '\u{1F600}'.repeat(600000) }] }), []);
  const md = validateResource({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, note: [{ text: 'y'.repeat(1048577) }] });
  assert.deepEqual(md.map((i) => i.expression?.[0]), ['Observation.note[0].text']);
});
