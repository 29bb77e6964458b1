// Bad searches are 400 OperationOutcomes naming the parameter, never a 500 (issue "Bad values"); unknown
// parameters are ignored and reported, or refused under Prefer: handling=strict (search.html#errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/search/plan.js';
import { pageQuery } from '../../src/search/query.js';
import { decodeCursor } from '../../src/search/cursor.js';
import { FhirError } from '../../src/errors.js';

const opts = { tenant: 't', base: 'http://x/fhir', now: Date.UTC(2024, 0, 1) };
function compile(type: string, q: string, strict = false) {
  const req = plan({ types: [type], params: [...new URLSearchParams(q).entries()], strict });
  return { req, sql: pageQuery(req, opts, 21).sql };
}
function rejects(type: string, q: string, param: string, strict = false): void {
  assert.throws(() => compile(type, q, strict), (e: unknown) => {
    assert.ok(e instanceof FhirError, `not a FhirError: ${String(e)}`);
    assert.equal(e.status, 400);
    assert.deepEqual(e.issues[0].expression, [param], `${q}: ${e.message}`);
    assert.match(e.message, new RegExp(param.replace(/[$.]/g, '\\$&')));
    return true;
  }, `${type}?${q} should be a 400 naming ${param}`);
}

test('malformed values of each type', () => {
  rejects('Patient', 'birthdate=notadate', 'birthdate');
  rejects('Patient', 'birthdate=2020-13', 'birthdate');
  rejects('Patient', 'birthdate=2021-02-30', 'birthdate');
  rejects('Patient', 'birthdate=xx2020', 'birthdate');
  rejects('Patient', 'name=gt2010', 'name');
  rejects('Observation', 'value-quantity=abc', 'value-quantity');
  rejects('Observation', 'value-quantity=5|a', 'value-quantity');
  rejects('RiskAssessment', 'probability=1..2', 'probability');
  rejects('Observation', 'code=a|b|c', 'code');
  rejects('Observation', 'subject=Foo/bar/baz', 'subject');
  rejects('Observation', 'code-value-quantity=http://loinc.org|1', 'code-value-quantity');
  rejects('Location', 'near=north|south', 'near');
  rejects('Patient', 'gender:missing=maybe', 'gender:missing');
  rejects('Observation', 'status:in=http://example.org/unknown-vs', 'status:in');
});

test('unsupported modifiers, chains through non-references, bad _has', () => {
  rejects('Patient', 'birthdate:exact=2020', 'birthdate:exact');
  rejects('Observation', 'subject:Foo=1', 'subject:Foo');
  rejects('Patient', 'name.family=x', 'name.family');
  rejects('Observation', 'subject:Group.birthdate=2020', 'subject:Group.birthdate');
  rejects('Observation', 'subject.nosuch=1', 'subject.nosuch');
  rejects('Patient', '_has:Observation:code:code=1', '_has:Observation:code:code');
  rejects('Patient', '_has:Observation', '_has:Observation');
});

test('result parameters', () => {
  rejects('Patient', '_count=-4', '_count');
  rejects('Patient', '_count=ten', '_count');
  rejects('Patient', '_sort=nosuch', '_sort');
  rejects('Patient', '_sort=name,', '_sort');
  rejects('Observation', '_sort=code-value-quantity', '_sort');
  rejects('Patient', '_total=all', '_total');
  rejects('Patient', '_summary=maybe', '_summary');
  rejects('Patient', '_include=Nope:x', '_include');
  rejects('Patient', '_include=Observation:code', '_include');
  rejects('Patient', '_filter=name xx "a"', '_filter');
  rejects('Patient', '_filter=(name eq "a"', '_filter');
  assert.throws(() => decodeCursor('!!!', 'x'), (e: unknown) => e instanceof FhirError && e.status === 400);
  assert.throws(() => decodeCursor(Buffer.from('["n",[],"1; drop","x"]').toString('base64url'), 'x'), (e: unknown) => e instanceof FhirError && e.status === 400);
  assert.throws(() => decodeCursor(Buffer.from('["n",[],"9223372036854775808","x"]').toString('base64url'), 'x'), (e: unknown) => e instanceof FhirError && e.status === 400);
});

test('a cursor edited by hand: values that do not fit the sort keys are a 400, never a database error', () => {
  const page = (q: string, sortText: string, values: unknown[]) => {
    const req = plan({ types: ['Patient'], params: [...new URLSearchParams(q).entries()], strict: false });
    const cursor = { dir: 'next' as const, values: values as Array<string | number | null>, rid: '1', sort: sortText };
    return pageQuery(req, opts, 21, cursor);
  };
  const refused = (q: string, values: unknown[]) => assert.throws(() => page(q, 's', values), (e: unknown) => {
    assert.ok(e instanceof FhirError && e.status === 400, `${q} ${JSON.stringify(values)}: ${String(e)}`);
    assert.deepEqual(e.issues[0].expression, ['_cursor']);
    return true;
  });
  // birthdate sorts by an int8 column, _lastUpdated by a timestamptz, family by text (query.ts SORT_COL).
  for (const v of [['x'], ['2020-01-01'], [1.5], ['99999999999999999999'], [], [1, 2]]) refused('_sort=birthdate', v);
  for (const v of [['x'], [7], ['2020-13-45 99:00:00+00'], ['2021-02-30 10:00:00+00'], ['2021-02-03 24:00:00Z']]) refused('_sort=-_lastUpdated', v);
  for (const v of [[3], ['a\u0000b']]) refused('_sort=family', v);
  // What runPage hands back passes: int8 as digits, timestamptz as PostgreSQL prints it, text, and NULL.
  assert.ok(page('_sort=birthdate', 's', ['-631152000']).sql.text);
  assert.ok(page('_sort=-_lastUpdated', 's', ['2026-11-22 23:03:28.123456+00']).sql.text);
  assert.ok(page('_sort=family,birthdate', 's', ['Smith', null]).sql.text);
});

test('unknown parameters are ignored and reported; strict refuses them', () => {
  const { req, sql } = compile('Patient', 'foo=bar&name=x');
  assert.deepEqual(req.ignored.map((i) => i.name), ['foo']);
  assert.ok(!sql.text.includes('bar') && !sql.values.includes('bar'));
  rejects('Patient', 'foo=bar', 'foo', true);
  // search.html#query: a server "SHALL refuse to process a search request if [it does] not recognize the _query
  // parameter value" (none is defined here), so it is never ignored like an unknown parameter.
  rejects('Patient', '_query=current-high-risk', '_query');
});

test('values are always bound parameters, never SQL text', () => {
  const evil = "x' or 1=1; drop table fhir.resource; --%_\\";
  for (const q of [`name=${encodeURIComponent(evil)}`, `_id=${encodeURIComponent(evil)}`, `identifier=${encodeURIComponent(evil)}`,
    `subject=${encodeURIComponent(evil)}`, `_content=${encodeURIComponent(evil)}`, `name:contains=${encodeURIComponent(evil)}`]) {
    const type = q.startsWith('subject') ? 'Observation' : 'Patient';
    const { sql } = compile(type, q);
    assert.ok(!sql.text.includes('drop table'), q);
    assert.ok(!sql.text.includes("'x'"), q);
  }
});
