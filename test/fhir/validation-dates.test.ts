// date, dateTime and instant values must be real calendar days (R4 datatypes.html: "Dates SHALL be valid
// dates"), wherever they sit in a resource; times and offsets as the spec's regexes allow them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Issue } from '../../src/errors.js';
import { statusFor, validateResource } from '../../src/fhir/validation/validate.js';
import { isCalendarDay, isLeapYear } from '../../src/fhir/validation/calendar.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

const at = (issues: Issue[]) => issues.map((i) => `${i.code} ${i.expression?.join(',')}`).sort();
const patient = (birthDate: unknown) => ({ resourceType: 'Patient', birthDate });
const observation = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });

test('Gregorian leap years: every 4th, not centuries, but every 400th', () => {
  for (const y of [1600, 2000, 2004, 2024, 2400]) assert.equal(isLeapYear(y), true, String(y));
  for (const y of [1700, 1800, 1900, 2023, 2100, 2200]) assert.equal(isLeapYear(y), false, String(y));
  assert.equal(isCalendarDay('0004-02-29'), true);
  assert.equal(isCalendarDay('0001-02-29'), false);
});

test('impossible days in a date are refused with a value issue at the element (400)', () => {
  for (const d of ['2000-02-30', '2000-02-31', '2023-02-29', '1900-02-29', '2100-02-29',
    '2023-04-31', '2023-06-31', '2023-09-31', '2023-11-31']) {
    const issues = validateResource(patient(d));
    assert.deepEqual(at(issues), ['value Patient.birthDate'], d);
    assert.match(issues[0].diagnostics ?? '', /valid date/);
    assert.equal(statusFor(issues), 400);
  }
});

test('real days, leap days and partial dates pass', () => {
  for (const d of ['2000-02-29', '2024-02-29', '1600-02-29', '2023-02-28', '2023-01-31', '2023-03-31', '2023-04-30',
    '2023-05-31', '2023-07-31', '2023-08-31', '2023-10-31', '2023-12-31', '2023-02', '2023', '0001-01-01']) {
    assert.deepEqual(validateResource(patient(d)), [], d);
  }
});

test('dateTime and instant: the day is checked too, anywhere in the resource', () => {
  const issues = validateResource(observation({
    effectiveDateTime: '2021-06-31T10:00:00Z',
    issued: '2021-02-29T00:00:00.000+01:00',
    extension: [
      { url: 'http://example.org/d', valueDate: '2021-09-31' },
      { url: 'http://example.org/dt', valueDateTime: '2019-02-29' },
      { url: 'http://example.org/i', valueInstant: '2022-04-31T12:00:00Z' },
      { url: 'http://example.org/n', extension: [{ url: 'inner', valueDateTime: '2022-11-31T12:00:00-05:00' }] },
    ],
    component: [{ code: { text: 'c' }, valuePeriod: { start: '2020-02-30', end: '2020-02-29' } }],
    contained: [{ resourceType: 'Patient', birthDate: '2019-02-29' }],
  }));
  assert.deepEqual(at(issues), [
    'value Observation.component[0].valuePeriod.start',
    'value Observation.contained[0].birthDate',
    'value Observation.effectiveDateTime',
    'value Observation.extension[0].valueDate',
    'value Observation.extension[1].valueDateTime',
    'value Observation.extension[2].valueInstant',
    'value Observation.extension[3].extension[0].valueDateTime',
    'value Observation.issued',
  ]);
  const encounter = validateResource({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' },
    period: { start: '2000-11-31T00:00:00Z', end: '2000-12-31T23:59:59Z' }, meta: { lastUpdated: '2000-09-31T00:00:00Z' } });
  assert.deepEqual(at(encounter), ['value Encounter.meta.lastUpdated', 'value Encounter.period.start']);
});

test('nested resources and primitive arrays (with nulls) are checked', () => {
  const bundle = { resourceType: 'Bundle', type: 'collection', timestamp: '2023-02-29T00:00:00Z',
    entry: [{ resource: patient('2001-02-29') }, { resource: observation({ effectivePeriod: { end: '2010-04-31' } }) }] };
  assert.deepEqual(at(validateResource(bundle)), [
    'value Bundle.entry[0].resource.birthDate', 'value Bundle.entry[1].resource.effectivePeriod.end', 'value Bundle.timestamp']);
  const timing = observation({ effectiveTiming: { event: [null, '2020-02-30T08:00:00Z', '2020-02-29T08:00:00Z'],
    _event: [{ extension: [{ url: 'http://example.org/x', valueString: 'y' }] }, null, null] } });
  assert.deepEqual(at(validateResource(timing)), ['value Observation.effectiveTiming.event[1]']);
});

test('times and offsets as the spec regex allows: hour < 24, minute < 60, second < 60 or a leap second 60, offset to 14:00', () => {
  for (const t of ['2020-01-01T24:00:00Z', '2020-01-01T10:60:00Z', '2020-01-01T10:00:61Z', '2020-01-01T10:00:00+15:00',
    '2020-01-01T10:00:00+14:30', '2020-01-01T10:00:00+05:60', '2020-01-01T10:00:00', '2020-02-30T25:00:00Z']) {
    assert.deepEqual(at(validateResource(observation({ effectiveDateTime: t }))), ['value Observation.effectiveDateTime'], t);
  }
  for (const t of ['2016-12-31T23:59:60Z', '2020-01-01T23:59:59.999Z', '2020-01-01T00:00:00+14:00', '2020-01-01T00:00:00-13:59']) {
    assert.deepEqual(validateResource(observation({ effectiveDateTime: t, issued: t })), [], t);
  }
});

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

test('HTTP: POST or PUT of a Patient born on 30 February is 400 with the element named, and nothing is stored', async () => {
  const count = async () => (await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Patient'`)).rows[0].n;
  const before = await count();
  const r = await call(server.fhirBase, 'POST', 'Patient', patient('2000-02-30'));
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.deepEqual(r.json.issue.map((i: Issue) => i.expression?.[0]), ['Patient.birthDate']);
  const put = await call(server.fhirBase, 'PUT', 'Patient/feb30', { ...patient('1900-02-29'), id: 'feb30' });
  assert.equal(put.status, 400, put.text);
  assert.equal(await count(), before);
  assert.equal((await call(server.fhirBase, 'POST', 'Patient', patient('2000-02-29'))).status, 201);
});
