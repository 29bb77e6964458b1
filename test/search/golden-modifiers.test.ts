// Golden tests of uri :above/:below (R4 search.html#uri), token :above/:below (#token: subsumption, refused
// here) and composites of three components (#composite; R4 MolecularSequence coordinates): query in → SQL
// and bound parameters out, with the composite keys computed the way the write side hashes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/search/plan.js';
import { pageQuery } from '../../src/search/query.js';
import { checkWhere, goldenOpts } from './helpers/match-where.js';
import { keyText } from '../../src/search/hash.js';
import { compositeKey, compositeShape, variant } from '../../src/search/keys.js';
import { resourceTypes, searchParamsOf } from '../../src/registry/search-params.js';
import { FhirError } from '../../src/errors.js';

const opts = goldenOpts;
const check = checkWhere;

function rejects(type: string, q: string, param: string, code: string): void {
  assert.throws(() => pageQuery(plan({ types: [type], params: [...new URLSearchParams(q).entries()] }), opts, 21), (e: unknown) => {
    assert.ok(e instanceof FhirError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.issues[0].code, code);
    assert.deepEqual(e.issues[0].expression, [param]);
    assert.match(e.message, new RegExp(param.split(':')[1] ?? param));
    return true;
  }, q);
}

test('uri :below and :above apply to URLs only, never to URNs', () => {
  rejects('ValueSet', 'url:below=urn:oid:1.2.3', 'url:below', 'invalid');
  rejects('ValueSet', 'url:above=urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', 'url:above', 'invalid');
  // The exact form still takes URNs.
  check('ValueSet', 'url=urn:oid:1.2.3', 'r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and x1.v = any($4))',
    ['8015059283882031920', ['urn:oid:1.2.3']]);
});

test('token :above and :below (subsumption) are refused with not-supported, naming the modifier', () => {
  rejects('Condition', 'code:below=http://snomed.info/sct|404684003', 'code:below', 'not-supported');
  rejects('Observation', 'category:above=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs', 'category:above', 'not-supported');
});

test('three components: a hashed token, then two number coordinates in lo and hi', () => {
  const chromosome = (code: string) => keyText(compositeKey('MolecularSequence.chromosome-window-coordinate', [variant.code(code)]));
  check('MolecularSequence', 'chromosome-window-coordinate=1$lt44$gt55',
    'r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and (x1.h = $3::int8 and x1.lo < $4 and x1.hi > $5))',
    [chromosome('1'), 44, 55]);
  const seq = (system: string, code: string) => keyText(compositeKey('MolecularSequence.referenceseqid-variant-coordinate', [system ? variant.systemCode(system, code) : variant.code(code)]));
  // eq on a coordinate is its precision range (search.html#number: 100 means [99.5, 100.5)).
  check('MolecularSequence', 'referenceseqid-variant-coordinate=http://www.ncbi.nlm.nih.gov/nuccore|NC_000001.11$ge100$le200,NC_2$100$200',
    'r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and ((x1.h = $3::int8 and x1.lo >= $4 and x1.hi <= $5) or (x1.h = $6::int8 and (x1.lo >= $7 and x1.lo < $8) and (x1.hi >= $9 and x1.hi < $10))))',
    [seq('http://www.ncbi.nlm.nih.gov/nuccore', 'NC_000001.11'), 100, 200, seq('', 'NC_2'), 99.5, 100.5, 199.5, 200.5]);
  rejects('MolecularSequence', 'chromosome-window-coordinate=1$lt44', 'chromosome-window-coordinate', 'invalid');
  rejects('MolecularSequence', 'chromosome-window-coordinate=1$lt44$soon', 'chromosome-window-coordinate', 'invalid');
});

test('two-component composites keep their SQL: token$token, reference$token, token$quantity', () => {
  check('Group', 'characteristic-value=gender$mixed', 'r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and x1.h = $3::int8)',
    [keyText(compositeKey('Group.characteristic-value', [variant.code('gender'), variant.code('mixed')]))]);
  check('DocumentReference', 'relationship=replaces$DocumentReference/d1', 'r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and x1.h = $3::int8)',
    [keyText(compositeKey('DocumentReference.relationship', [variant.ref('replaces'), variant.code('DocumentReference/d1')]))]);
  check('ValueSet', 'context-type-quantity=age$gt18', 'r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and (x1.h = $3::int8 and x1.hi > $4))',
    [keyText(compositeKey('ValueSet.context-type-quantity', [variant.code('age')])), 18]);
});

test('every composite parameter in the registry has an indexable shape and compiles', () => {
  const sample: Record<string, string> = { token: 'urn:x|a', reference: 'Patient/1', string: 'x', uri: 'http://x/y', quantity: 'gt1', number: 'le2', date: 'ge2020' };
  let n = 0;
  for (const type of resourceTypes()) {
    for (const sp of searchParamsOf(type).filter((p) => p.type === 'composite')) {
      const comps = sp.components ?? [];
      assert.ok(compositeShape(comps.map((c) => c.type)), `${type}.${sp.code}`);
      const value = comps.map((c) => sample[c.type]).join('$');
      const { text } = pageQuery(plan({ types: [type], params: [[sp.code, value]] }), opts, 21).sql;
      assert.match(text, /fhir\.sp_composite/, `${type}.${sp.code}`);
      n++;
    }
  }
  assert.ok(n >= 70, `${n} composites`);
});
