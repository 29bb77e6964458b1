// Golden tests of the search compiler (query in → SQL and bound parameters out), per parameter type.
// Each case is the WHERE part after the fixed prefix (tenant, type, not deleted) of a type-level match query
// (the condition every page, count and estimate shares; the page's own shapes are tested at the end);
// keys are the 64-bit hashes of src/search/keys.ts. A change here is a change to the SQL every search runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/search/plan.js';
import { pageQuery } from '../../src/search/query.js';
import { checkWhere } from './helpers/match-where.js';

const opts = { tenant: 't1', base: 'http://x/fhir', now: Date.UTC(2024, 0, 1) };

interface Case { type: string; q: string; where: string; values: unknown[] }

const check = (c: Case): void => checkWhere(c.type, c.q, c.where, c.values);

test('string', () => {
  check({"type": "Patient", "q": "name=Mü", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v >= $4 and x1.v < $5))", "values": ["-4171539875666226796", "mu", "mu􏿿"]});
  check({"type": "Patient", "q": "family:exact=Müller", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v = $4 and coalesce(split_part(x1.x, chr(1), 1), x1.v) = $5))", "values": ["-4183094007044466348", "muller", "Müller"]});
  check({"type": "Patient", "q": "name:contains=ill", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and strpos((case when strpos(x1.x, chr(1)) > 0 then split_part(x1.x, chr(1), 2) else x1.v end), $4) > 0)", "values": ["-4171539875666226796", "ill"]});
  check({"type": "Patient", "q": "name=O%27Brien%5C%25_ drop", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v >= $4 and x1.v < $5))", "values": ["-4171539875666226796", "o'brien\\%_ drop", "o'brien\\%_ drop􏿿"]});
});

test('token', () => {
  check({"type": "Observation", "q": "code=http://loinc.org|8480-6", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = $3::int8)", "values": ["7712890131519873780"]});
  check({"type": "Observation", "q": "code=8480-6,9279-1", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = any($3::int8[]))", "values": [["2493954479331285951", "-6474969328436811786"]]});
  check({"type": "Observation", "q": "code=|x", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = $3::int8)", "values": ["-3108648621997050625"]});
  check({"type": "Observation", "q": "code=http://loinc.org|", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = $3::int8)", "values": ["7450457060328143392"]});
  check({"type": "Observation", "q": "status:not=final", "where": "not exists (select 1 from fhir.sp_token x1 where x1.rid = r.rid and x1.tenant = $1 and x1.h = $3::int8)", "values": ["5061198694107784127"]});
  check({"type": "Patient", "q": "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = $3::int8)", "values": ["5423531684811948098"]});
  check({"type": "Observation", "q": "code:text=blood", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v >= $4 and x1.v < $5))", "values": ["3213046696225524340", "blood", "blood􏿿"]});
  check({"type": "Observation", "q": "status:in=http://hl7.org/fhir/ValueSet/observation-status", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = any($3::int8[]))", "values": [["-9216737937625429360", "870495936808245789", "-7414343207232436361", "-7390190068030453380", "6705217017933428218", "5974921481432643195", "1954853548504711289", "-4171969618294699450", "-8035978271657498443", "-1279889643334667071", "3772276766262573373", "-8921037180432845924", "4661228698742614497", "-1107948608400665701", "306785819285753883", "-2494511627368361556"]]});
});

test('reference', () => {
  check({"type": "Observation", "q": "subject=Patient/1", "where": "r.rid in (select x1.rid from fhir.sp_reference x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.tid = $4 and x1.ttype = $5))", "values": ["-1133671063859992462", "1", "Patient"]});
  check({"type": "Observation", "q": "patient=1", "where": "r.rid in (select x1.rid from fhir.sp_reference x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.tid = $4 and x1.ttype = $5))", "values": ["-654515957328434499", "1", "Patient"]});
  check({"type": "Observation", "q": "subject:identifier=urn:x|9", "where": "r.rid in (select x1.rid from fhir.sp_token x1 where x1.tenant = $1 and x1.h = $3::int8)", "values": ["-3488068772148685490"]});
});

test('date', () => {
  check({"type": "Observation", "q": "date=2020-03", "where": "r.rid in (select x1.rid from fhir.sp_date x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.lo >= $4 and x1.hi <= $5))", "values": ["-7784147159872392207", 1583020800000, 1585699200000]});
  check({"type": "Observation", "q": "date=ge2020-03-01T10:00:00Z", "where": "r.rid in (select x1.rid from fhir.sp_date x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.lo >= $4 or x1.hi > $5))", "values": ["-7784147159872392207", 1583056800000, 1583056801000]});
  check({"type": "Observation", "q": "date=ap2020", "where": "r.rid in (select x1.rid from fhir.sp_date x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.lo < $4 and x1.hi > $5))", "values": ["-7784147159872392207", 1622082240000, 1565213760000]});
});

test('number', () => {
  check({"type": "RiskAssessment", "q": "probability=gt0.5", "where": "r.rid in (select x1.rid from fhir.sp_number x1 where x1.tenant = $1 and x1.p = $3::int8 and x1.hi > $4)", "values": ["8910305420991123127", 0.5]});
});

test('quantity', () => {
  check({"type": "Observation", "q": "value-quantity=5.4|http://unitsofmeasure.org|mg", "where": "r.rid in (select x1.rid from fhir.sp_number x1 where x1.tenant = $1 and x1.p = $3::int8 and ((x1.lo >= $4 and x1.hi < $5) and (x1.system = $6 and x1.code = $7)))", "values": ["-8716687125575289163", 5.35, 5.45, "http://unitsofmeasure.org", "mg"]});
  check({"type": "Observation", "q": "value-quantity=le100||mmHg", "where": "r.rid in (select x1.rid from fhir.sp_number x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.lo <= $4 and (x1.code = $5 or x1.unit = $5)))", "values": ["-8716687125575289163", 100, "mmHg"]});
});

test('uri', () => {
  // :below on path segments: the value itself, or anything under "<value>/" (never …/ValueSetOther).
  check({"type": "ValueSet", "q": "url:below=http://hl7.org/fhir/ValueSet", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v = $4 or (x1.v >= $5 and x1.v < $6)))", "values": ["8015059283882031920", "http://hl7.org/fhir/ValueSet", "http://hl7.org/fhir/ValueSet/", "http://hl7.org/fhir/ValueSet/􏿿"]});
  check({"type": "ValueSet", "q": "url:below=http://hl7.org/fhir/", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v = $4 or (x1.v >= $5 and x1.v < $6)))", "values": ["8015059283882031920", "http://hl7.org/fhir", "http://hl7.org/fhir/", "http://hl7.org/fhir/􏿿"]});
  // :above: the value and each of its segment prefixes after the authority, with and without a trailing slash.
  check({"type": "ValueSet", "q": "url:above=http://hl7.org/fhir/ValueSet/x", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and x1.v = any($4))", "values": ["8015059283882031920", ["http://hl7.org/fhir/ValueSet/x", "http://hl7.org/fhir/ValueSet/x/", "http://hl7.org", "http://hl7.org/", "http://hl7.org/fhir", "http://hl7.org/fhir/", "http://hl7.org/fhir/ValueSet", "http://hl7.org/fhir/ValueSet/"]]});
  // _filter sw stays a plain prefix.
  check({"type": "ValueSet", "q": "_filter=url sw http://hl7.org/fhir/Value", "where": "r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.v >= $4 and x1.v < $5))", "values": ["8015059283882031920", "http://hl7.org/fhir/Value", "http://hl7.org/fhir/Value􏿿"]});
});

test('composite', () => {
  check({"type": "Observation", "q": "code-value-quantity=http://loinc.org|8480-6$gt100", "where": "r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and (x1.h = $3::int8 and x1.hi > $4))", "values": ["5382477519564650550", 100]});
  check({"type": "Observation", "q": "code-value-concept=http://loinc.org|72166-2$http://snomed.info/sct|8517006", "where": "r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and x1.h = $3::int8)", "values": ["6537782325625626751"]});
});

test('special', () => {
  check({"type": "Location", "q": "near=42.3|-71.1|10|km", "where": "r.rid in (select x1.rid from fhir.sp_composite x1 where x1.tenant = $1 and x1.h = $3::int8 and (x1.lo between $4 and $5 and x1.hi between $6 and $7 and 12742 * asin(sqrt(power(sin(radians(x1.lo - $8) / 2), 2) + cos(radians($8)) * cos(radians(x1.lo)) * power(sin(radians(x1.hi - $9) / 2), 2))) <= $10))", "values": ["-6438694202557116907", 42.21007194244604, 42.38992805755395, -71.22158501469784, -70.97841498530215, 42.3, -71.1, 10]});
});

test(':missing', () => {
  check({"type": "Patient", "q": "gender:missing=true", "where": "not exists (select 1 from fhir.sp_token x1 where x1.rid = r.rid and x1.p = $3::int8)", "values": ["5596899393808950391"]});
});

test('chain/_has', () => {
  // Chains not listed first (chain-targets.ts) also find containers whose reference is a local '#id' to a contained
  // resource that matches (search.html#contained), from the contained rows' '#' keys, probing references by rid.
  check({"type": "Observation", "q": "subject:Patient.name=peter", "where": "r.rid in (select x1.rid from fhir.sp_reference x1 join fhir.resource t2 on t2.tenant = x1.tenant and t2.type = x1.ttype and t2.id = x1.tid where x1.tenant = $1 and x1.p = $3::int8 and x1.ttype = any($4) and not t2.deleted and t2.rid in (select x3.rid from fhir.sp_string x3 where x3.tenant = $1 and x3.p = $5::int8 and (x3.v >= $6 and x3.v < $7)) union all select y4.rid from fhir.sp_contained c5 cross join lateral (select y4.rid, y4.cx, y4.type from fhir.sp_reference y4 where y4.rid = c5.rid and y4.p = $3::int8 and y4.tenant = $1 and y4.ttype = c5.ctype collate \"default\" and y4.tid = ('#' || c5.cid) collate \"default\" offset 0) y4 where c5.tenant = $1 and c5.ctype = any($8::text[]) and (c5.rid, c5.cx) in (select x6.rid, x6.cx from fhir.sp_string x6 where x6.tenant = $1 and x6.p = $9::int8 and (x6.v >= $6 and x6.v < $7)))", "values": ["-1133671063859992462", ["Patient"], "-4171539875666226796", "peter", "peter􏿿", ["Patient"], "-1970106854839602755"]});
  check({"type": "Observation", "q": "patient.organization.name=acme", "where": "r.rid in (select x1.rid from fhir.sp_reference x1 join fhir.resource t2 on t2.tenant = x1.tenant and t2.type = x1.ttype and t2.id = x1.tid where x1.tenant = $1 and x1.p = $3::int8 and x1.ttype = any($4) and not t2.deleted and t2.rid in (select x3.rid from fhir.sp_reference x3 join fhir.resource t4 on t4.tenant = x3.tenant and t4.type = x3.ttype and t4.id = x3.tid where x3.tenant = $1 and x3.p = $5::int8 and x3.ttype = any($6) and not t4.deleted and t4.rid in (select x5.rid from fhir.sp_string x5 where x5.tenant = $1 and x5.p = $7::int8 and (x5.v >= $8 and x5.v < $9)) union all select y6.rid from fhir.sp_contained c7 cross join lateral (select y6.rid, y6.cx, y6.type from fhir.sp_reference y6 where y6.rid = c7.rid and y6.p = $5::int8 and y6.tenant = $1 and y6.ttype = c7.ctype collate \"default\" and y6.tid = ('#' || c7.cid) collate \"default\" offset 0) y6 where c7.tenant = $1 and c7.ctype = any($10::text[]) and (c7.rid, c7.cx) in (select x8.rid, x8.cx from fhir.sp_string x8 where x8.tenant = $1 and x8.p = $11::int8 and (x8.v >= $8 and x8.v < $9))) union all select y9.rid from fhir.sp_contained c10 cross join lateral (select y9.rid, y9.cx, y9.type from fhir.sp_reference y9 where y9.rid = c10.rid and y9.p = $3::int8 and y9.tenant = $1 and y9.ttype = c10.ctype collate \"default\" and y9.tid = ('#' || c10.cid) collate \"default\" offset 0) y9 where c10.tenant = $1 and c10.ctype = any($12::text[]) and (c10.rid, c10.cx) in (select x11.rid, x11.cx from fhir.sp_reference x11 join fhir.resource t12 on t12.tenant = x11.tenant and t12.type = x11.ttype and t12.id = x11.tid where x11.tenant = $1 and x11.p = $13::int8 and x11.ttype = any($14) and not t12.deleted and t12.rid in (select x13.rid from fhir.sp_string x13 where x13.tenant = $1 and x13.p = $7::int8 and (x13.v >= $8 and x13.v < $9)) union all select y14.rid, y14.cx from fhir.sp_contained c15 cross join lateral (select y14.rid, y14.cx, y14.type from fhir.sp_reference y14 where y14.rid = c15.rid and y14.p = $13::int8 and y14.tenant = $1 and y14.ttype = c15.ctype collate \"default\" and y14.tid = ('#' || c15.cid) collate \"default\" offset 0) y14 where c15.tenant = $1 and c15.ctype = any($15::text[]) and (c15.rid, c15.cx) in (select x16.rid, x16.cx from fhir.sp_string x16 where x16.tenant = $1 and x16.p = $11::int8 and (x16.v >= $8 and x16.v < $9))))", "values": ["-654515957328434499", ["Patient"], "3762318810693620887", ["Organization"], "5467372126482539804", "acme", "acme􏿿", ["Organization"], "8867576780668558849", ["Patient"], "5621501829678323857", ["Organization"], ["Organization"]]});
  // The referring resources' condition met on index rows alone; with a condition on their own row (_id), joined.
  check({"type": "Patient", "q": "_has:Observation:patient:code=1234", "where": "exists (select 1 from fhir.sp_reference x1 where x1.tenant = $1 and x1.p = $3::int8 and x1.ttype = r.type and x1.tid = r.id and x1.rid in (select x3.rid from fhir.sp_token x3 where x3.tenant = $1 and x3.h = $4::int8))", "values": ["-654515957328434499", "7005021371010256299"]});
  check({"type": "Patient", "q": "_has:Observation:patient:_id=o1", "where": "exists (select 1 from fhir.sp_reference x1 join fhir.resource s2 on s2.rid = x1.rid where x1.tenant = $1 and x1.p = $3::int8 and x1.ttype = r.type and x1.tid = r.id and not s2.deleted and s2.id = any($4))", "values": ["-654515957328434499", ["o1"]]});
});

test('resource-level', () => {
  check({"type": "Patient", "q": "_id=a,b", "where": "r.id = any($3)", "values": [["a", "b"]]});
  check({"type": "Patient", "q": "_lastUpdated=gt2024-01-01", "where": "r.last_updated >= $3::timestamptz", "values": ["2024-01-02T00:00:00.000Z"]});
  check({"type": "Patient", "q": "_content=diabetes", "where": "r.rid in (select t1.rid from fhir.sp_text t1 where t1.tenant = $1 and t1.content @@ plainto_tsquery('simple', $3))", "values": ["diabetes"]});
  check({"type": "Patient", "q": "_text=fever", "where": "r.rid in (select t1.rid from fhir.sp_text t1 where t1.tenant = $1 and t1.narrative @@ plainto_tsquery('simple', $3))", "values": ["fever"]});
  check({"type": "Patient", "q": "_list=42", "where": "exists (select 1 from fhir.resource l1 join fhir.sp_reference x2 on x2.rid = l1.rid where l1.tenant = $1 and l1.type = 'List' and l1.id = any($3) and not l1.deleted and x2.p = $4::int8 and x2.ttype = r.type and x2.tid = r.id)", "values": [["42"], "6989218106009211062"]});
});

test('_filter', () => {
  check({"type": "Patient", "q": "_filter=name co \"pe\" and not (gender eq male)", "where": "(r.rid in (select x1.rid from fhir.sp_string x1 where x1.tenant = $1 and x1.p = $3::int8 and strpos((case when strpos(x1.x, chr(1)) > 0 then split_part(x1.x, chr(1), 2) else x1.v end), $4) > 0) and not r.rid in (select x2.rid from fhir.sp_token x2 where x2.tenant = $1 and x2.h = $5::int8))", "values": ["-4171539875666226796", "pe", "-4679564549371252555"]});
});

// The page itself. A search on one type in rid order whose every condition is a plain semi-join chooses
// its page of rids from the index tables alone and reads only those resources; anything else pages over
// the match query above.
const PAGE = 'select r.rid, r.type, r.id, r.content, r.last_updated from fhir.resource r';
const page = (type: string, q: string, cursor?: Parameters<typeof pageQuery>[3]) => {
  const s = pageQuery(plan({ types: [type], params: [...new URLSearchParams(q).entries()] }), opts, 21, cursor).sql;
  return { text: s.text.replace(/\s+/g, ' '), values: s.values };
};

test('page: rids first from the index tables, nested, then only the page is read', () => {
  const p = page('Observation', 'patient=Patient/p1&code=http://loinc.org|8480-6');
  // The pinned reference (patient=) innermost, met as an array by the token index around it (compile.ts nest).
  assert.equal(p.text, `${PAGE} where r.rid in (select s.rid from (select x2.rid from fhir.sp_token x2 where x2.tenant = $1 and x2.h = $2::int8`
    + ' and x2.rid = any(array(select x1.rid from fhir.sp_reference x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.tid = $4 and x1.ttype = $5)))'
    + ' and x2.type = $6) s group by s.rid order by s.rid asc limit $7)'
    + ' and r.tenant = $1 and r.type = $6 and not r.deleted order by r.rid asc limit $7');
  assert.deepEqual([p.values[0], p.values[3], p.values[4], p.values[5], p.values[6]], ['t1', 'p1', 'Patient', 'Observation', 21]);
});

test('page: pinned references go innermost as arrays, the others keep their order and rid in (…)', () => {
  const p = page('Observation', 'code=8480-6&patient=Patient/p1&date=ge2020&encounter=Encounter/e1');
  const at = (alias: string) => p.text.indexOf(`select ${alias}.rid from`);
  // code (x1) outermost, then date (x3), then patient (x2), then encounter (x4) innermost.
  assert.ok(at('x1') < at('x3') && at('x3') < at('x2') && at('x2') < at('x4'), p.text);
  assert.match(p.text, /and x1\.rid in \(select x3\.rid from fhir\.sp_date x3 /);
  assert.match(p.text, /and x3\.rid = any\(array\(select x2\.rid from fhir\.sp_reference x2 /);
  assert.match(p.text, /and x2\.rid = any\(array\(select x4\.rid from fhir\.sp_reference x4 /);
  // One pinned reference alone is the whole source: no array.
  assert.ok(!page('Observation', 'patient=Patient/p1').text.includes('array('));
  // :identifier is a token lookup, not pinned.
  assert.ok(!page('Observation', 'code=1&patient:identifier=s|v').text.includes('array('));
  // Only patients and encounters pin: an Organization, or a target of unknown type, may be named by thousands.
  assert.ok(!page('Observation', 'code=1&performer=Organization/o1').text.includes('array('));
  assert.ok(!page('Observation', 'code=1&subject=p1').text.includes('array('));
  assert.ok(page('Observation', 'code=1&subject=Patient/p1').text.includes('array('));
  assert.ok(page('Observation', 'code=1&subject:Patient=p1').text.includes('array('));
});

test('page: the keyset bound goes on the outermost index row, backwards for previous', () => {
  const next = page('Observation', 'code=8480-6', { dir: 'next', values: [], rid: '500', sort: '' });
  assert.match(next.text, /and \(x1\.type = \$3 and x1\.rid > \$4::int8\)\) s group by s\.rid order by s\.rid asc limit \$5\)/);
  assert.match(next.text, /order by r\.rid asc limit \$5$/);
  assert.deepEqual(next.values.slice(2), ['Observation', '500', 21]);
  const prev = page('Observation', 'code=8480-6', { dir: 'prev', values: [], rid: '500', sort: '' });
  assert.match(prev.text, /and \(x1\.type = \$3 and x1\.rid < \$4::int8\)\) s group by s\.rid order by s\.rid desc limit \$5\)/);
  assert.match(prev.text, /order by r\.rid desc limit \$5$/);
});

test('page: a negation, an _id, a sort or several types page over the resources', () => {
  for (const [type, q] of [['Observation', 'code=8480-6&status:not=final'], ['Observation', 'code=8480-6&_id=a'], ['Observation', 'code=8480-6&_sort=date']]) {
    const p = page(type, q);
    assert.ok(!p.text.includes('group by s.rid') && /r\.type = \$\d+ and not r\.deleted and /.test(p.text), `${type}?${q}: ${p.text}`);
  }
  const s = pageQuery(plan({ types: ['Observation', 'Condition'], params: [['_tag', 'a|b']] }), opts, 21).sql;
  assert.ok(s.text.startsWith(`${PAGE} where (r.tenant = $1 and r.type = any($2) and not r.deleted and `), s.text);
});

test('plans: a chain to a date is planned for its values; other chains and _has keep one plan per shape', () => {
  const custom = (type: string, q: string) => pageQuery(plan({ types: [type], params: [...new URLSearchParams(q).entries()] }), opts, 21).sql.custom === true;
  assert.ok(custom('Encounter', 'patient.birthdate=1949-08-02'));
  assert.ok(custom('Observation', 'code=8480-6&subject:Patient.birthdate=ge1990'));
  assert.ok(!custom('Observation', 'subject:Patient.name=Smith&code=8480-6'));
  assert.ok(!custom('Patient', '_has:Encounter:patient:date=ge2019-06-01'));
  assert.ok(!custom('Observation', 'date=ge2019&code=8480-6'));
});
