// The auditor's search parameters refuse what is not a value (R4 search.html: a bad value is a 400):
// dates that do not exist, and empty values, which matched every event without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateBounds, parseAuditQuery } from '../../src/fhir/interactions/audit-search.js';
import { FhirError } from '../../src/errors.js';

const is400 = (f: () => unknown) => assert.throws(f, (e) => e instanceof FhirError && e.status === 400);

test('dates that do not exist are 400; real ones bound the day', () => {
  for (const v of ['ge2026-13-45', '2026-02-30', '2025-02-29', 'le2026-11-23T25:00:00Z', '2026-11-23T10:60:00Z', '2026-11-23T10:00:00+15:00', '2026-00']) is400(() => dateBounds(v));
  assert.deepEqual(dateBounds('2024-02-29'), [{ op: '>=', instant: '2024-02-29T00:00:00.000Z' }, { op: '<', instant: '2024-03-01T00:00:00.000Z' }]);
  assert.deepEqual(dateBounds('ge2026-11-23T10:00:00+14:00'), [{ op: '>=', instant: '2026-11-22T20:00:00.000Z' }]);
});

test('an empty value is 400, alone or in a list', () => {
  for (const p of [['agent', ''], ['entity', 'Patient/1,'], ['action', ''], ['date', '']]) is400(() => parseAuditQuery([p as [string, string]], 10));
  assert.deepEqual(parseAuditQuery([['agent', 'u1']], 10).agent, [['u1']]);
});
