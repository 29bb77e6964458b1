// The SQL of Patient/$everything (src/search/everything.ts, everything-dates.ts) without a database: the
// care-date table names real date parameters of compartment types, the care-date test appears only with
// start/end, the cursor round-trips and refuses what PostgreSQL would, and each part's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  everythingMatchQuery, everythingIncludeQuery, everythingMatchCount, encodeEverythingCursor, decodeEverythingCursor, compartmentTypesOf,
} from '../../src/search/everything.js';
import { CARE_DATE_PARAMS, careDateKeys } from '../../src/search/everything-dates.js';
import { patientCompartmentTypes } from '../../src/registry/compartments.js';
import { MIN_TIME } from '../../src/search/dates.js';

const f = { tenant: 't1', patientId: 'p1' };

test('care dates are date parameters of Patient-compartment types; the Patient has none', () => {
  const compartment = new Set(patientCompartmentTypes());
  for (const type of Object.keys(CARE_DATE_PARAMS)) assert.ok(compartment.has(type), type);
  assert.equal(CARE_DATE_PARAMS.Patient, undefined);
  const keys = careDateKeys(); // throws on a code that is not a date parameter of its type
  assert.equal(new Set(keys).size, Object.values(CARE_DATE_PARAMS).flat().length);
});

test('the care-date test is there only with a range, bound as parameters', () => {
  assert.doesNotMatch(everythingMatchQuery(f, '0', 51).text, /sp_date/);
  const q = everythingMatchQuery({ ...f, care: { lo: 1000, hi: 2000 } }, '0', 51);
  assert.match(q.text, /coalesce\(min\(d\.lo\) < \$\d+ and max\(d\.hi\) > \$\d+, true\) from fhir\.sp_date d/);
  assert.ok(q.values.includes(1000) && q.values.includes(2000));
  // In rid order first, so the test stops at the page.
  assert.match(q.text, /from \(select m\.rid from m order by m\.rid offset 0\) q where/);
  const open = everythingIncludeQuery({ ...f, care: { lo: MIN_TIME, hi: 2000 } }, undefined, 11);
  assert.ok(open.values.includes(MIN_TIME));
  assert.match(everythingMatchCount({ ...f, care: { lo: 1, hi: 2 } }).text, /select count\(\*\)::int8 as n from m where/);
});

test('_type, _since and the cursor narrow both parts; references are read per member', () => {
  const m = everythingMatchQuery({ ...f, types: ['Observation'], since: '2024-01-01T00:00:00.000Z' }, '42', 11);
  assert.match(m.text, /r\.type = any\(\$\d+::text\[\]\) and r\.last_updated >= \$\d+::timestamptz and r\.rid > \$\d+::int8/);
  const i = everythingIncludeQuery({ ...f, types: ['Practitioner'] }, '7', 11);
  assert.match(i.text, /where x\.rid = b\.rid and x\.tenant = \$1 and x\.ttype <> '' offset 0\) x/);
  assert.match(i.text, /\(x\.ttype, x\.tid\) not in \(select c\.type, c\.id from c\)/);
  assert.match(i.text, /r\.type = any\(\$\d+::text\[\]\) and r\.rid > \$\d+::int8/);
  assert.ok(i.values.some((v) => Array.isArray(v) && v[0] === 'Practitioner'));
});

test('compartment types named by _type: all without it, none for types outside the compartment', () => {
  assert.deepEqual(compartmentTypesOf(undefined), patientCompartmentTypes());
  assert.deepEqual(compartmentTypesOf(['Practitioner', 'Organization']), []);
  assert.deepEqual(compartmentTypesOf(['Observation', 'Patient', 'Medication']).sort(), ['Observation', 'Patient']);
});

test('cursors round-trip and refuse anything else', () => {
  assert.deepEqual(decodeEverythingCursor(encodeEverythingCursor({ part: 'i', rid: '123' })), { part: 'i', rid: '123' });
  assert.deepEqual(decodeEverythingCursor('m0'), { part: 'm', rid: '0' });
  for (const bad of ['123', 'x1', 'm', 'm-1', 'm1.5', 'i9223372036854775808', 'm 1']) assert.equal(decodeEverythingCursor(bad), undefined, bad);
  assert.deepEqual(decodeEverythingCursor('i9223372036854775807'), { part: 'i', rid: '9223372036854775807' });
});
