// `_since` of history (R4 http.html#history) read as every other date is (search/dates.ts): a value without a
// zone is UTC whatever the server's own zone is, and a date means the start of that day.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstant } from '../../src/fhir/bundle-links.js';

test('_since without a zone is read as UTC, not the server\'s local time', () => {
  const saved = process.env.TZ;
  process.env.TZ = 'America/New_York'; // node applies a changed TZ to later Date calls
  try {
    assert.equal(parseInstant('2021-03-01T10:00:00', '_since'), '2021-03-01T10:00:00.000Z');
    assert.equal(parseInstant('2021-03-01T10:00', '_since'), '2021-03-01T10:00:00.000Z');
    assert.equal(parseInstant('2021-03-01', '_since'), '2021-03-01T00:00:00.000Z');
    assert.equal(parseInstant('2021-03-01T10:00:00+02:00', '_since'), '2021-03-01T08:00:00.000Z');
    assert.equal(parseInstant('2021', '_since'), '2021-01-01T00:00:00.000Z');
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
});

test('_since refuses days the calendar does not have', () => {
  for (const v of ['2021-02-30', '2021-13-01', '2021-02-29T00:00:00Z', '0000-01-01', 'yesterday']) {
    assert.throws(() => parseInstant(v, '_since'), /_since must be a date or instant/, v);
  }
});
