// Forward chains whose targets are listed first (src/search/chain-targets.ts): the SQL of a resolved
// chain, when the lookup runs and what it asks, the fallback to the join, and (against PostgreSQL) that
// every chain search answers the same with targets listed, with the join, and with the cap in between.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { plan } from '../../src/search/plan.js';
import { matchQuery, pageQuery } from '../../src/search/query.js';
import { resolveChains, type TargetLookup } from '../../src/search/chain-targets.js';
import type { Sql } from '../../src/search/sql.js';
import type { SearchRequest } from '../../src/search/model.js';
import { goldenOpts } from './helpers/match-where.js';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';
import { generate, FAMILIES } from './helpers/fixtures.js';

const planOf = (type: string, q: string): SearchRequest => plan({ types: [type], params: [...new URLSearchParams(q).entries()] });

/** A lookup answering from a table of (query text fragment → rows), recording what it was asked. */
function fakeLookup(answers: Array<[RegExp, Array<{ type: string; id: string }>]>): { lookup: TargetLookup; asked: Sql[] } {
  const asked: Sql[] = [];
  const lookup: TargetLookup = async (q) => {
    asked.push(q);
    const hit = answers.find(([re]) => re.test(q.text.replace(/\s+/g, ' ')));
    assert.ok(hit, `unexpected targets query ${q.text}`);
    return hit[1];
  };
  return { lookup, asked };
}

test('a resolved chain is a reference lookup by the listed ids, grouped by type and sorted', async () => {
  const { lookup, asked } = fakeLookup([[/from fhir\.resource t1 where t1\.tenant = \$1 and t1\.type = any\(\$2::text\[\]\)/, [
    { type: 'Patient', id: 'p9' }, { type: 'Patient', id: 'p2' },
  ]]]);
  const req = await resolveChains(planOf('Observation', 'subject:Patient.name=peter'), goldenOpts, lookup);
  assert.equal(asked.length, 1);
  // Then, in the same query, containers whose subject is a local '#id' to a contained Patient so named (search.html#contained).
  assert.deepEqual(asked[0].values, ['t1', ['Patient'], '-4171539875666226796', 'peter', 'peter\u{10ffff}', 1001,
    '#', '-1133671063859992462', ['Patient'], '-1970106854839602755']);
  const { text, values } = matchQuery(req, goldenOpts);
  assert.equal(text.replace(/\s+/g, ' '), 'select r.rid from fhir.resource r where (r.tenant = $1 and r.type = $2 and not r.deleted and '
    + 'r.rid in (select x1.rid from fhir.sp_reference x1 where x1.tenant = $1 and x1.p = $3::int8 and (x1.ttype = $4 and x1.tid = any($5::text[]))))');
  assert.deepEqual(values.slice(2), ['-1133671063859992462', 'Patient', ['p2', 'p9']]);
});

test('nested chains are listed innermost first; the outer list is then a lookup by ids', async () => {
  const { lookup, asked } = fakeLookup([
    [/type = any\(\$2::text\[\]\) and not t1\.deleted and t1\.rid in \(select x2\.rid from fhir\.sp_string/, [{ type: 'Organization', id: 'o1' }]],
    [/t1\.rid in \(select x2\.rid from fhir\.sp_reference x2 where x2\.tenant = \$1 and x2\.p = \$3::int8 and \(x2\.ttype = \$4 and x2\.tid = any/, [{ type: 'Patient', id: 'p1' }]],
  ]);
  const req = await resolveChains(planOf('Observation', 'patient.organization.name=acme'), goldenOpts, lookup);
  assert.equal(asked.length, 2);
  assert.deepEqual(asked[1].values.slice(3, 5), ['Organization', ['o1']]);
  const chain = req.where[0] as Extract<SearchRequest['where'][0], { k: 'chain' }>;
  assert.deepEqual(chain.resolved, [{ type: 'Patient', ids: ['p1'] }]);
});

test('a chain with more targets than the cap, or with the cap 0, keeps the join; no targets match nothing', async () => {
  const many = Array.from({ length: 4 }, (_, i) => ({ type: 'Patient', id: `p${i}` }));
  const over = await resolveChains(planOf('Observation', 'subject:Patient.name=peter'), goldenOpts, fakeLookup([[/./, many]]).lookup, 3);
  assert.ok(matchQuery(over, goldenOpts).text.includes('join fhir.resource t2'));
  const off = fakeLookup([[/./, many]]);
  const same = planOf('Observation', 'subject:Patient.name=peter');
  assert.equal(await resolveChains(same, goldenOpts, off.lookup, 0), same);
  assert.equal(off.asked.length, 0);
  // Listed patients pin the chain (innermost, an array) up to 100 of them; more are met by rid in (…).
  const hundred = Array.from({ length: 100 }, (_, i) => ({ type: 'Patient', id: `p${i}` }));
  const pinned = await resolveChains(planOf('Observation', 'subject:Patient.name=peter&code=1'), goldenOpts, fakeLookup([[/./, hundred]]).lookup);
  assert.match(matchQuery(pinned, goldenOpts).text, /x2\.rid = any\(array\(select x1\.rid from fhir\.sp_reference x1/);
  const more = await resolveChains(planOf('Observation', 'subject:Patient.name=peter&code=1'), goldenOpts, fakeLookup([[/./, [...hundred, { type: 'Patient', id: 'q' }]]]).lookup);
  assert.ok(!matchQuery(more, goldenOpts).text.includes('array('));
  const none = await resolveChains(planOf('Observation', 'subject:Patient.name=peter&code=1'), goldenOpts, fakeLookup([[/./, []]]).lookup);
  // The resolved chain is pinned: innermost, met by the code index as an array (compile.ts nest).
  assert.match(matchQuery(none, goldenOpts).text.replace(/\s+/g, ' '), /x2\.rid = any\(array\(select x1\.rid from fhir\.sp_reference x1 where x1\.tenant = \$1 and x1\.p = \$4::int8 and false\)\)/);
});

test('searches without chains ask nothing; a chain inside a _has is resolved too', async () => {
  const quiet = fakeLookup([]);
  const plain = planOf('Observation', 'code=1&patient=p1');
  assert.equal(await resolveChains(plain, goldenOpts, quiet.lookup), plain);
  assert.equal(quiet.asked.length, 0);
  const { lookup, asked } = fakeLookup([[/./, [{ type: 'Patient', id: 'p1' }]]]);
  const has = await resolveChains(planOf('Encounter', '_has:Observation:encounter:patient.name=x'), goldenOpts, lookup);
  assert.equal(asked.length, 1);
  assert.ok(matchQuery(has, goldenOpts).text.includes('tid = any('));
});

test('the planner sees the ids of a long list (custom plan); a short one keeps the plan of its shape', async () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'Patient', id: `p${i}` }));
  const custom = async (n: number) => pageQuery(await resolveChains(planOf('Observation', 'subject:Patient.name=a&code=1'), goldenOpts,
    fakeLookup([[/./, ids(n)]]).lookup), goldenOpts, 21).sql.custom === true;
  assert.equal(await custom(10), false);
  assert.equal(await custom(11), true);
});

let s: SearchDb;
before(async () => {
  s = await startSearchDb();
  const data: Resource[] = generate(7);
  await s.load(data);
});
after(async () => { await s?.stop(); });

test('against PostgreSQL, chain searches answer the same listed, joined, and over the cap', async () => {
  const queries = [
    ...FAMILIES.slice(0, 6).map((f) => `Observation?subject:Patient.name=${f.slice(0, 3)}&_count=1000`),
    'Observation?patient.organization.name=a&_count=1000',
    'Observation?subject:Patient.name=zzzz-nobody&_count=1000',
    'Encounter?patient.birthdate=ge1970&_count=1000',
    'Patient?_has:Observation:patient:subject:Patient.gender=female&_count=1000',
    `Observation?subject:Patient.family=${FAMILIES[0]}&_summary=count`,
  ];
  let nonEmpty = 0;
  for (const q of queries) {
    const ids = (b: any) => (b.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    const joined = await search(s, q, {}, 'default', { SEARCH_CHAIN_TARGETS: '0' });
    const listed = await search(s, q);
    const capped = await search(s, q, {}, 'default', { SEARCH_CHAIN_TARGETS: '1' });
    assert.deepEqual(ids(listed), ids(joined), q);
    assert.deepEqual(ids(capped), ids(joined), q);
    assert.equal(listed.total, joined.total, q);
    if (joined.total > 0) nonEmpty++;
  }
  assert.ok(nonEmpty >= 6, `only ${nonEmpty} of the chain searches matched anything`);
});
