// Search parameters where the R4 text (search.html) decides what this server used to get wrong: empty parameters
// are ignored (#errors), an unknown _query is refused (#query), _summary=count and _count=0 always report the
// count (#summary, #count), _include cannot be mixed with _summary=text (#summary), and a canonical URL with
// "|[version]" searches on the version (#uri).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search } from './helpers/run.js';
import { FhirError } from '../../src/errors.js';

let s: SearchDb;
const vs = (id: string, url: string, version?: string): Resource => ({ resourceType: 'ValueSet', id, status: 'active', url, ...(version ? { version } : {}) } as Resource);

before(async () => {
  s = await startSearchDb();
  await s.load([
    { resourceType: 'Organization', id: 'org', name: 'Acme' } as Resource,
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Empty' }], managingOrganization: { reference: 'Organization/org' } } as Resource,
    { resourceType: 'Patient', id: 'p2', name: [{ family: 'Empty' }] } as Resource,
    vs('vs1', 'http://acme.org/fhir/ValueSet/lab', '1.0'), vs('vs2', 'http://acme.org/fhir/ValueSet/lab', '2.0'),
    vs('vs3', 'http://acme.org/fhir/ValueSet/other', '2.0'), vs('vs4', 'http://acme.org/fhir/ValueSet/plain'),
  ]);
});
after(async () => { await s?.stop(); });

const matches = (b: any): string[] => (b.entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.id).sort();
const outcome = (b: any): string[] => (b.entry ?? []).filter((e: any) => e.search.mode === 'outcome').flatMap((e: any) => e.resource.issue.map((i: any) => i.diagnostics));
const refused = (q: string, param: string, headers: Record<string, string> = {}) => assert.rejects(search(s, q, headers), (e: unknown) => {
  assert.ok(e instanceof FhirError, String(e));
  assert.equal(e.status, 400, `${q}: ${e.message}`);
  assert.deepEqual(e.issues[0].expression, [param], `${q}: ${e.message}`);
  return true;
});

test('empty parameters are ignored and reported, result parameters too (search.html#errors)', async () => {
  for (const p of ['_count', '_sort', '_summary', '_total', '_include', '_revinclude', '_contained', '_containedType', '_filter', '_query', '_has:Observation:patient:code']) {
    const b = await search(s, `Patient?family=empty&${p}=`);
    assert.deepEqual(matches(b), ['p1', 'p2'], p);
    assert.ok(outcome(b).some((d) => d.startsWith(`${p}: empty value`)), `${p}: ${JSON.stringify(outcome(b))}`);
    assert.ok(!b.link.find((l: any) => l.relation === 'self').url.includes(`${encodeURIComponent(p)}=`), `${p} stays out of the self link`);
  }
  await refused('Patient?_count=', '_count', { prefer: 'handling=strict' });
  await refused('Patient?_has:Observation=', '_has:Observation'); // a malformed name is still an error
});

test('a named query the server does not know is refused, never ignored (search.html#query)', async () => {
  await refused('Patient?_query=current-high-risk&family=empty', '_query');
});

test('_summary=count and _count=0 report the count even with _total=none (search.html#summary, #count)', async () => {
  for (const q of ['_summary=count&_total=none', '_count=0&_total=none', '_summary=count', '_count=0&_total=accurate']) {
    const b = await search(s, `Patient?family=empty&${q}`);
    assert.equal(b.total, 2, q);
    assert.equal(b.entry, undefined, q);
  }
});

test('_include and _revinclude are not mixed with _summary=text: left out and reported (search.html#summary)', async () => {
  const b = await search(s, 'Patient?_id=p1&_summary=text&_include=Patient:organization');
  assert.deepEqual((b.entry ?? []).filter((e: any) => e.search.mode !== 'outcome').map((e: any) => `${e.search.mode}:${e.resource.id}`), ['match:p1']);
  assert.ok(outcome(b).some((d) => d.startsWith('_include: cannot be combined with _summary=text')), JSON.stringify(outcome(b)));
  assert.ok(!b.link.find((l: any) => l.relation === 'self').url.includes('_include'));
  // Without _summary=text the same include is returned.
  const full = await search(s, 'Patient?_id=p1&_include=Patient:organization');
  assert.deepEqual(full.entry.map((e: any) => `${e.search.mode}:${e.resource.id}`), ['match:p1', 'include:org']);
  await refused('Patient?_id=p1&_summary=text&_revinclude=Observation:subject', '_revinclude', { prefer: 'handling=strict' });
});

test('a canonical url with |[version] searches on the url and the version (search.html#uri)', async () => {
  assert.deepEqual(matches(await search(s, 'ValueSet?url=http://acme.org/fhir/ValueSet/lab|2.0')), ['vs2']);
  assert.deepEqual(matches(await search(s, 'ValueSet?url=http://acme.org/fhir/ValueSet/lab|3.0')), []);
  assert.deepEqual(matches(await search(s, 'ValueSet?url=http://acme.org/fhir/ValueSet/lab')), ['vs1', 'vs2']);
  // OR values mix versioned and plain ones; each version stays with its own url.
  assert.deepEqual(matches(await search(s, 'ValueSet?url=http://acme.org/fhir/ValueSet/lab|1.0,http://acme.org/fhir/ValueSet/plain')), ['vs1', 'vs4']);
  assert.deepEqual(matches(await search(s, 'ValueSet?url=http://acme.org/fhir/ValueSet/lab|1.0,http://acme.org/fhir/ValueSet/other|2.0')), ['vs1', 'vs3']);
  assert.deepEqual(matches(await search(s, `ValueSet?_filter=${encodeURIComponent('url eq "http://acme.org/fhir/ValueSet/lab|1.0"')}`)), ['vs1']);
  // :below is a prefix of the URL as written; the version split applies to exact matching only.
  assert.deepEqual(matches(await search(s, 'ValueSet?url:below=http://acme.org/fhir/ValueSet')), ['vs1', 'vs2', 'vs3', 'vs4']);
});
