// The input parameters of Patient/$everything (src/fhir/operations/everything-params.ts), without a server:
// dates as the ranges they cover, _since read as UTC without a zone, a POST body's Parameters joined to the
// URL's for the links, and the 0..1 parameters refused when repeated across both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { everythingParams, DEFAULT_COUNT, MAX_COUNT } from '../../src/fhir/operations/everything-params.js';
import { FhirError } from '../../src/errors.js';
import { MIN_TIME, MAX_TIME } from '../../src/search/dates.js';

const refuses = (params: Array<[string, string]>, name: string, body?: unknown) => assert.throws(() => everythingParams(params, body, body !== undefined),
  (e: unknown) => e instanceof FhirError && e.status === 400 && (e.issues[0].expression ?? []).includes(name), JSON.stringify(params));

test('start and end cover whole days, months or years; either side may be open', () => {
  assert.deepEqual(everythingParams([['start', '2020'], ['end', '2020-02']], undefined, false).care,
    { lo: Date.UTC(2020, 0, 1), hi: Date.UTC(2020, 2, 1) });
  assert.deepEqual(everythingParams([['end', '2021-12-31']], undefined, false).care, { lo: MIN_TIME, hi: Date.UTC(2022, 0, 1) });
  assert.deepEqual(everythingParams([['start', '2021-12-31']], undefined, false).care, { lo: Date.UTC(2021, 11, 31), hi: MAX_TIME });
  assert.equal(everythingParams([], undefined, false).care, undefined);
  // The same day as start and end is a one-day range, not an empty one.
  assert.ok(everythingParams([['start', '2021-05-05'], ['end', '2021-05-05']], undefined, false).care);
  refuses([['start', '2021-05-06'], ['end', '2021-05-05']], 'end');
  refuses([['start', '2021-5-6']], 'start');
});

test('_since: an instant, a date read as its first moment (UTC without a zone); impossible dates refused', () => {
  assert.equal(everythingParams([['_since', '2024-03-01T10:00:00+02:00']], undefined, false).since, '2024-03-01T08:00:00.000Z');
  assert.equal(everythingParams([['_since', '2024-03-01T10:00:00']], undefined, false).since, '2024-03-01T10:00:00.000Z');
  assert.equal(everythingParams([['_since', '2024-03-01']], undefined, false).since, '2024-03-01T00:00:00.000Z');
  refuses([['_since', '2024-02-30']], '_since');
  refuses([['_since', '0000-01-01T00:00:00Z']], '_since');
});

test('_count: default, cap, and the capped value in the links', () => {
  assert.equal(everythingParams([], undefined, false).count, DEFAULT_COUNT);
  const big = everythingParams([['_count', '5000']], undefined, false);
  assert.equal(big.count, MAX_COUNT);
  assert.deepEqual(big.linkParams, [['_count', String(MAX_COUNT)]]);
  assert.equal(everythingParams([['_count', '0']], undefined, false).count, 0);
});

test('a POST body joins the URL parameters; repeats of 0..1 parameters and unknown names are refused', () => {
  const body = { resourceType: 'Parameters', parameter: [{ name: 'start', valueDate: '2020-01-01' }, { name: '_type', valueCode: 'Observation,Encounter' },
    { name: '_type', valueCode: 'Patient' }, { name: '_count', valueInteger: 5 }] };
  const p = everythingParams([['_format', 'json'], ['_cursor', 'm5']], body, true);
  assert.deepEqual(p.types, ['Observation', 'Encounter', 'Patient']);
  assert.equal(p.count, 5);
  assert.deepEqual(p.cursor, { part: 'm', rid: '5' });
  assert.deepEqual(p.linkParams, [['_format', 'json'], ['start', '2020-01-01'], ['_type', 'Observation,Encounter'], ['_type', 'Patient'], ['_count', '5']]);
  refuses([['start', '2020-01-01']], 'start', { resourceType: 'Parameters', parameter: [{ name: 'start', valueDate: '2021-01-01' }] });
  refuses([], 'patient', { resourceType: 'Parameters', parameter: [{ name: 'patient', valueString: 'x' }] });
  refuses([], '_count', { resourceType: 'Parameters', parameter: [{ name: '_count', valueInteger: 2.5 }] });
  // A GET ignores a body, as the URL alone states the request.
  assert.equal(everythingParams([], { resourceType: 'Patient' }, false).count, DEFAULT_COUNT);
});
