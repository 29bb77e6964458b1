// The shape of one search is bounded (src/search/limits.ts): past 100 conditions, or _filter nested deeper than
// 32 levels, the answer is a 400 naming the parameter, not a search that plans for minutes (400 ANDed
// conditions: 87 s) or a 500 from a stack overflow in PostgreSQL (1,000) or in the compiler (3,000, or 5,000 '(').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/search/plan.js';
import { pageQuery } from '../../src/search/query.js';
import { FhirError } from '../../src/errors.js';
import { MAX_CONDITIONS } from '../../src/search/limits.js';

const opts = { tenant: 't', base: 'http://x/fhir', now: Date.UTC(2024, 0, 1) };
const compile = (type: string, params: Array<[string, string]>) => pageQuery(plan({ types: [type], params }), opts, 21).sql;
function refused(type: string, params: Array<[string, string]>, param: string, code: string): void {
  assert.throws(() => compile(type, params), (e: unknown) => {
    assert.ok(e instanceof FhirError, `not a FhirError: ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.issues[0].code, code);
    assert.deepEqual(e.issues[0].expression, [param]);
    return true;
  });
}
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

test('up to 100 conditions compile; the one past them is refused as too costly, named', () => {
  assert.ok(compile('Patient', times(MAX_CONDITIONS, () => ['family', 'x'])).text);
  refused('Patient', [...times(MAX_CONDITIONS, (): [string, string] => ['family', 'x']), ['gender', 'male']], 'gender', 'too-costly');
  refused('Patient', times(3000, () => ['family', 'x']), 'family', 'too-costly');
  // Chains and _has count what they hold.
  refused('Observation', [...times(MAX_CONDITIONS - 1, (): [string, string] => ['code', 'x']), ['subject:Patient.name', 'y']], 'subject:Patient.name', 'too-costly');
});

test('comma-separated values are one condition, however many', () => {
  assert.ok(compile('Patient', [['_id', times(2000, (i) => `p${i}`).join(',')], ['family', times(2000, (i) => `f${i}`).join(',')]]).text);
});

test('_filter: its comparisons count, and nesting deeper than 32 levels is a 400, never a stack overflow', () => {
  refused('Patient', [['_filter', `${'family eq x and '.repeat(3000)}family eq y`]], '_filter', 'too-costly');
  refused('Patient', [['_filter', `${'family eq x or '.repeat(MAX_CONDITIONS)}family eq y`]], '_filter', 'too-costly');
  assert.ok(compile('Patient', [['_filter', `${'('.repeat(32)}family eq x${')'.repeat(32)}`]]).text);
  refused('Patient', [['_filter', `${'('.repeat(33)}family eq x${')'.repeat(33)}`]], '_filter', 'invalid');
  refused('Patient', [['_filter', `${'('.repeat(5000)}family eq x${')'.repeat(5000)}`]], '_filter', 'invalid');
  refused('Patient', [['_filter', `${'not ('.repeat(3000)}family eq x${')'.repeat(3000)}`]], '_filter', 'invalid');
});
