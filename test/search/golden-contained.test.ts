// Golden tests of _contained / _containedType (R4 search.html#contained): query in → SQL and bound parameters
// out. Contained resources match on '#'-prefixed keys (never a top-level key) and on one (rid, cx) pair;
// containers come back once each from fhir.resource, contained resources alone as numbered rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/search/plan.js';
import { pageQuery, countQuery } from '../../src/search/query.js';
import { keyText, paramKey } from '../../src/search/hash.js';
import { tokenCode, tokenSystemCode } from '../../src/search/keys.js';
import { FhirError } from '../../src/errors.js';

const opts = { tenant: 't1', base: 'http://x/fhir', now: Date.UTC(2024, 0, 1) };
const params = (q: string) => [...new URLSearchParams(q).entries()];

function check(type: string, q: string, sql: string, values: unknown[], kind: 'page' | 'count' = 'page'): void {
  const req = plan({ types: [type], params: params(q) });
  const s = kind === 'count' ? countQuery(req, opts) : pageQuery(req, opts, 21).sql;
  assert.equal(s.text.replace(/\s+/g, ' '), sql);
  assert.deepEqual(s.values, values);
}

const contained = (code: string) => keyText(tokenCode('#Medication.code', code));
const key = (identity: string) => keyText(paramKey(identity));

test('contained keys are never top-level keys', () => {
  assert.notEqual(contained('abc'), keyText(tokenCode('Medication.code', 'abc')));
  // The default (_contained=false) still asks for the top-level key only (a page chosen by rid, query.ts).
  check('Medication', 'code=abc&_contained=false',
    'select r.rid, r.type, r.id, r.content, r.last_updated from fhir.resource r where r.rid in (select s.rid from (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = $2::int8 and x1.type = $3) s group by s.rid order by s.rid asc limit $4) and r.tenant = $1 and r.type = $3 and not r.deleted order by r.rid asc limit $4',
    ['t1', keyText(tokenCode('Medication.code', 'abc')), 'Medication', 21]);
});

test('_contained=true returns each container of a matching contained resource once', () => {
  check('Medication', 'code=http://acme.org|abc&_contained=true',
    'select r.rid, r.type, r.id, r.content, r.last_updated from fhir.resource r where (r.tenant = $1 and not r.deleted and r.rid in (select c1.rid from fhir.sp_contained c1 where (c1.tenant = $1 and c1.ctype = $2 and (c1.rid, c1.cx) in (select x2.rid, x2.cx from fhir.sp_token x2 where x2.tenant = $1 and x2.h = $3::int8)))) order by r.rid asc limit $4',
    ['t1', 'Medication', keyText(tokenSystemCode('#Medication.code', 'http://acme.org', 'abc')), 21]);
});

test('_contained=both: top-level matches and containers, a negation per contained resource', () => {
  check('Medication', 'code=abc&form:not=tablet&_contained=both',
    'select r.rid, r.type, r.id, r.content, r.last_updated from fhir.resource r where (r.tenant = $1 and not r.deleted and r.rid in (select n4.rid from fhir.resource n4 where (n4.tenant = $1 and n4.type = $2 and not n4.deleted and n4.rid in (select x5.rid from fhir.sp_token x5 where x5.tenant = $1 and x5.h = $3::int8) and not exists (select 1 from fhir.sp_token x6 where x6.rid = n4.rid and x6.tenant = $1 and x6.h = $4::int8)) union all select c1.rid from fhir.sp_contained c1 where (c1.tenant = $1 and c1.ctype = $2 and (c1.rid, c1.cx) in (select x2.rid, x2.cx from fhir.sp_token x2 where x2.tenant = $1 and x2.h = $5::int8) and not exists (select 1 from fhir.sp_token x3 where x3.rid = c1.rid and x3.cx = c1.cx and x3.tenant = $1 and x3.h = $6::int8)))) order by r.rid asc limit $7',
    ['t1', 'Medication', keyText(tokenCode('Medication.code', 'abc')), keyText(tokenCode('Medication.form', 'tablet')), contained('abc'),
      keyText(tokenCode('#Medication.form', 'tablet')), 21]);
});

test('_containedType=contained: the contained resource alone, numbered rid × 1024 + cx + 1, with _id, :missing and a chain', () => {
  // The chain reaches a stored Organization, or by a local '#id' a sibling contained one (references.html#contained).
  check('Medication', '_id=m1&ingredient:missing=true&manufacturer.name=acme&_contained=true&_containedType=contained',
    "select q.rid, q.type, q.id, q.content, q.last_updated from (select r2.rid * 1024 + c1.cx + 1 as rid, r2.type, r2.id || '#' || c1.cid as id, (r2.content::json -> 'contained' -> c1.cx)::text as content, r2.last_updated from fhir.sp_contained c1 join fhir.resource r2 on r2.rid = c1.rid where (c1.tenant = $1 and c1.ctype = $2 and c1.cid = any($3) and not exists (select 1 from fhir.sp_reference x3 where x3.rid = c1.rid and x3.cx = c1.cx and x3.p = $4::int8) and (c1.rid, c1.cx) in (select x4.rid, x4.cx from fhir.sp_reference x4 join fhir.resource t5 on t5.tenant = x4.tenant and t5.type = x4.ttype and t5.id = x4.tid where x4.tenant = $1 and x4.p = $5::int8 and x4.ttype = any($6) and not t5.deleted and t5.rid in (select x6.rid from fhir.sp_string x6 where x6.tenant = $1 and x6.p = $7::int8 and (x6.v >= $8 and x6.v < $9)) union all select y7.rid, y7.cx from fhir.sp_contained c8 cross join lateral (select y7.rid, y7.cx, y7.type from fhir.sp_reference y7 where y7.rid = c8.rid and y7.p = $5::int8 and y7.tenant = $1 and y7.ttype = c8.ctype collate \"default\" and y7.tid = ('#' || c8.cid) collate \"default\" offset 0) y7 where c8.tenant = $1 and c8.ctype = any($10::text[]) and (c8.rid, c8.cx) in (select x9.rid, x9.cx from fhir.sp_string x9 where x9.tenant = $1 and x9.p = $11::int8 and (x9.v >= $8 and x9.v < $9)))) and r2.tenant = $1 and not r2.deleted) q order by q.rid asc limit $12",
    ['t1', 'Medication', ['m1'], key('#Medication.ingredient'), key('#Medication.manufacturer'), ['Organization'], key('Organization.name'), 'acme', 'acme\u{10FFFF}', ['Organization'], key('#Organization.name'), 21]);
  check('Medication', 'code=abc&_contained=both&_containedType=contained',
    "select q.rid, q.type, q.id, q.content, q.last_updated from (select n4.rid * 1024 as rid, n4.type, n4.id, n4.content, n4.last_updated from fhir.resource n4 where (n4.tenant = $1 and n4.type = $2 and not n4.deleted and n4.rid in (select x5.rid from fhir.sp_token x5 where x5.tenant = $1 and x5.h = $3::int8)) union all select r2.rid * 1024 + c1.cx + 1 as rid, r2.type, r2.id || '#' || c1.cid as id, (r2.content::json -> 'contained' -> c1.cx)::text as content, r2.last_updated from fhir.sp_contained c1 join fhir.resource r2 on r2.rid = c1.rid where (c1.tenant = $1 and c1.ctype = $2 and (c1.rid, c1.cx) in (select x3.rid, x3.cx from fhir.sp_token x3 where x3.tenant = $1 and x3.h = $4::int8)) and r2.tenant = $1 and not r2.deleted) q order by q.rid asc limit $5",
    ['t1', 'Medication', keyText(tokenCode('Medication.code', 'abc')), contained('abc'), 21]);
  check('Medication', 'code=abc&_contained=true&_containedType=contained',
    "select count(*)::int8 as n from (select r2.rid * 1024 + c1.cx + 1 as rid, r2.type, r2.id || '#' || c1.cid as id, (r2.content::json -> 'contained' -> c1.cx)::text as content, r2.last_updated from fhir.sp_contained c1 join fhir.resource r2 on r2.rid = c1.rid where (c1.tenant = $1 and c1.ctype = $2 and (c1.rid, c1.cx) in (select x3.rid, x3.cx from fhir.sp_token x3 where x3.tenant = $1 and x3.h = $3::int8)) and r2.tenant = $1 and not r2.deleted) q",
    ['t1', 'Medication', contained('abc')], 'count');
});

test('a cursor pages on the row number', () => {
  const req = plan({ types: ['Medication'], params: params('code=abc&_contained=true&_containedType=contained') });
  const { text, values } = pageQuery(req, opts, 3, { dir: 'next', values: [], rid: '5121', sort: '' }).sql;
  assert.match(text.replace(/\s+/g, ' '), /\) q where q\.rid > \$4::int8 order by q\.rid asc limit \$5$/);
  assert.deepEqual(values.slice(-2), ['5121', 3]);
});

function rejects(q: string, param: string, code = 'invalid'): void {
  assert.throws(() => pageQuery(plan({ types: ['Medication'], params: params(q) }), opts, 21), (e: unknown) => {
    assert.ok(e instanceof FhirError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.issues[0].code, code);
    assert.deepEqual(e.issues[0].expression, [param], e.message);
    return true;
  }, q);
}

test('bad values and what cannot be combined are 400s naming the parameter', () => {
  rejects('_contained=yes', '_contained');
  rejects('_contained=true&_containedType=inside', '_containedType');
  rejects('_containedType=inside', '_containedType');
  rejects('_contained=true&_sort=code', '_sort');
  rejects('_contained=true&_containedType=contained&_include=Medication:manufacturer', '_include');
  rejects('_contained=both&_text=aspirin', '_text');
  rejects('_contained=true&_lastUpdated=gt2020', '_lastUpdated');
  rejects('_contained=true&_has:MedicationRequest:medication:status=active', '_has:MedicationRequest:medication:status');
  assert.throws(() => plan({ types: ['Medication'], params: params('_contained=true'), compartment: { type: 'Patient', id: 'p1' } }),
    (e: unknown) => e instanceof FhirError && e.status === 400 && e.issues[0].expression?.[0] === '_contained');
  assert.throws(() => pageQuery(plan({ types: ['Medication'], params: params('_contained=true') }), { ...opts, schema: 'deid' }, 21),
    (e: unknown) => e instanceof FhirError && e.status === 400 && e.issues[0].expression?.[0] === '_contained');
});
