// Golden tests of _text and _content (R4 search.html#text, #content): the value's words, "phrases", AND / OR /
// NOT (or a leading -) and parentheses become tsquery operators over bound values, matched against the
// GIN-indexed documents of fhir.sp_text; on the de-identified copy, against documents computed per row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/search/plan.js';
import { pageQuery } from '../../src/search/query.js';
import { checkWhere, goldenOpts } from './helpers/match-where.js';
import { FhirError } from '../../src/errors.js';

const opts = goldenOpts;
const check = checkWhere;

test('one word: the narrative document, by the GIN-indexed table', () => {
  check('Condition', '_text=metastases',
    "r.rid in (select t1.rid from fhir.sp_text t1 where t1.tenant = $1 and t1.narrative @@ plainto_tsquery('simple', $3))", ['metastases']);
});

test('the spec example: (bone OR liver) and metastases', () => {
  check('Condition', '_text=(bone OR liver) and metastases',
    "r.rid in (select t1.rid from fhir.sp_text t1 where t1.tenant = $1 and t1.narrative @@ ((plainto_tsquery('simple', $3) || plainto_tsquery('simple', $4)) && plainto_tsquery('simple', $5)))",
    ['bone', 'liver', 'metastases']);
});

test('phrases, negation, adjacency as AND, comma values ORed; the content document', () => {
  check('Observation', '_content="heart attack" -aspirin,NOT x',
    "r.rid in (select t1.rid from fhir.sp_text t1 where t1.tenant = $1 and t1.content @@ ((phraseto_tsquery('simple', $3) && (!! plainto_tsquery('simple', $4))) || (!! plainto_tsquery('simple', $5))))",
    ['heart attack', 'aspirin', 'x']);
});

test('values stay bound parameters, never query text', () => {
  const evil = "O'Brien' || to_tsquery('x'); drop table fhir.resource; --";
  const req = plan({ types: ['Patient'], params: [['_content', evil]] });
  const { text, values } = pageQuery(req, opts, 21).sql;
  assert.ok(!text.includes('drop') && !text.includes("O'Brien"), text);
  assert.ok(values.includes('drop'));
});

test('the de-identified copy has no sp_text: documents computed from each row', () => {
  const req = plan({ types: ['Condition'], params: [['_text', 'fever']] });
  const { text } = pageQuery(req, { ...opts, schema: 'deid' }, 21).sql;
  assert.ok(text.includes("to_tsvector('simple', regexp_replace(coalesce(r.content::jsonb #>> '{text,div}', '')") && !text.includes('sp_text'), text);
});

test('malformed text searches are 400s naming the parameter', () => {
  for (const [name, value] of [['_text', '(bone OR liver'], ['_text', 'bone)'], ['_content', '"unclosed'], ['_content', 'OR'],
    ['_text', 'bone AND'], ['_text', '()'], ['_content', Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')], ['_text', '('.repeat(12) + 'x' + ')'.repeat(12)]]) {
    assert.throws(() => pageQuery(plan({ types: ['Condition'], params: [[name, value]] }), opts, 21), (e: unknown) => {
      assert.ok(e instanceof FhirError, String(e));
      assert.equal(e.status, 400);
      assert.deepEqual(e.issues[0].expression, [name]);
      return true;
    }, `${name}=${value}`);
  }
});
