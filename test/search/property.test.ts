// Property test: ≥300 generated searches over generated fixtures, across every parameter type, prefix and
// modifier used here, compared with an independent in-memory evaluator (helpers/oracle.ts: FHIRPath via the
// fhirpath package + the spec's matching rules); then paging: every match exactly once, in sort order,
// next/previous consistent, and stable while rows are added between pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search, allPages } from './helpers/run.js';
import { generate, rng, FAMILIES, GIVENS, CITIES, CODES, CATEGORIES, STATUSES } from './helpers/fixtures.js';
import { Oracle } from './helpers/oracle.js';

let s: SearchDb;
let data: Resource[];
let oracle: Oracle;

before(async () => {
  s = await startSearchDb();
  data = generate(11);
  await s.load(data);
  oracle = new Oracle(data, Date.now());
});
after(async () => { await s?.stop(); });

const r = rng(2024);
const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
const pad = (n: number) => String(n).padStart(2, '0');
const PREFIXES = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];
const NUM_PREFIXES = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

function date(y0: number, y1: number): string {
  const y = int(y0, y1);
  switch (int(0, 4)) {
    case 0: return `${y}`;
    case 1: return `${y}-${pad(int(1, 12))}`;
    case 2: return `${y}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
    case 3: return `${y}-${pad(int(1, 12))}-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}Z`;
    default: return `${y}-${pad(int(1, 12))}-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}+02:00`;
  }
}
/** Half the time a date taken from the data (boundaries are where prefixes differ), else a random one. */
function dataDate(type: string, field: (x: any) => string | undefined, y0: number, y1: number): string {
  if (r() < 0.5) return date(y0, y1);
  const values = data.filter((x) => x.resourceType === type).map(field).filter((v): v is string => !!v);
  const v = pick(values);
  return r() < 0.5 ? v : v.slice(0, pick([4, 7, 10]));
}
const obsDate = (x: any) => x.effectiveDateTime ?? x.effectivePeriod?.start ?? x.effectivePeriod?.end;

function fragment(word: string): string {
  const w = r() < 0.3 ? word.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : word;
  const cut = w.slice(0, int(1, Math.max(1, w.length)));
  return r() < 0.5 ? cut.toUpperCase() : cut.toLowerCase();
}
function num(): string {
  const obs = data.filter((x: any) => x.valueQuantity);
  if (r() < 0.4) return String((pick(obs) as any).valueQuantity.value);
  // x.5 values sit on the upper edge of the integer's precision range [x - 0.5, x + 0.5)
  if (r() < 0.5) { const halves = obs.map((o: any) => o.valueQuantity.value).filter((v: number) => Math.abs(v % 1) === 0.5); return String(Math.floor(pick(halves))); }
  return r() < 0.5 ? String(int(0, 200)) : `${int(0, 200)}.${int(0, 9)}`;
}
const patientN = () => int(0, 39);

type Q = [string, Array<[string, string]>];
const GEN: Array<() => Q> = [
  () => ['Patient', [['name', fragment(pick([...FAMILIES, ...GIVENS]))]]],
  () => ['Patient', [['family', fragment(pick(FAMILIES))]]],
  () => ['Patient', [['given', `${fragment(pick(GIVENS))},${fragment(pick(GIVENS))}`]]],
  () => ['Patient', [['family:exact', r() < 0.5 ? pick(FAMILIES) : pick(FAMILIES).toLowerCase()]]],
  () => ['Patient', [['name:contains', pick(FAMILIES).slice(1, 4).toLowerCase()]]],
  () => ['Patient', [['address-city', fragment(pick(CITIES))]]],
  () => ['Patient', [['gender', pick(['male', 'female', 'other', 'male,female'])]]],
  () => ['Patient', [['gender:not', pick(['male', 'female'])]]],
  () => ['Patient', [[pick(['gender:missing', 'identifier:missing', 'birthdate:missing', 'organization:missing']), pick(['true', 'false'])]]],
  () => ['Patient', [['active', pick(['true', 'false'])]]],
  () => ['Patient', [['identifier', pick([`urn:mrn|MRN${patientN()}`, `MRN${patientN()}`, 'urn:ssn|', `urn:ssn|SSN-${int(0, 6)}`, `|MRN${patientN()}`])]]],
  () => ['Patient', [['birthdate', pick(PREFIXES) + dataDate('Patient', (x) => x.birthDate, 1935, 2012)]]],
  () => ['Patient', [['organization', pick(['Organization/org-a', 'org-b', 'Organization/org-c'])]]],
  () => ['Patient', [['organization.name', fragment(pick(['Acme', 'Beta']))]]],
  () => ['Patient', [['_has:Observation:patient:code', pick(CODES)[1]]]],
  () => ['Patient', [['_id', `p${patientN()},p${patientN()}`]]],
  () => ['Patient', [['name', fragment(pick(FAMILIES))], ['birthdate', pick(PREFIXES) + date(1935, 2012)]]],
  () => ['Patient', [['gender', pick(['male', 'female'])], ['birthdate', pick(['ge', 'lt']) + date(1950, 2000)]]],
  () => ['Observation', [['code', pick(CODES)[1]]]],
  () => { const c = pick(CODES); return ['Observation', [['code', pick([`${c[0]}|${c[1]}`, `${c[0]}|`, `|${c[1]}`])]]]; },
  () => ['Observation', [['code:text', fragment(pick(CODES)[2])]]],
  () => ['Observation', [['status', `${pick(STATUSES)}${r() < 0.3 ? `,${pick(STATUSES)}` : ''}`]]],
  () => ['Observation', [['status:not', pick(STATUSES)]]],
  () => ['Observation', [['category', pick(CATEGORIES)]]],
  () => ['Observation', [['subject', `Patient/p${patientN()}`]]],
  () => ['Observation', [['patient', `p${patientN()}`], ['code', pick(CODES)[1]]]],
  () => ['Observation', [['date', pick(PREFIXES) + dataDate('Observation', obsDate, 2014, 2023)]]],
  () => ['Observation', [['code', pick(CODES)[1]], ['date', pick(PREFIXES) + date(2014, 2023)]]],
  () => ['Observation', [['value-quantity', pick(NUM_PREFIXES) + num()]]],
  () => ['Observation', [['value-quantity', `${pick(NUM_PREFIXES)}${num()}|${pick(['http://unitsofmeasure.org|kg', '|mmHg', '|cm', 'http://unitsofmeasure.org|mm[Hg]'])}`]]],
  () => {
    const halves = data.map((o: any) => o.valueQuantity?.value).filter((v: number | undefined) => v !== undefined && Math.abs(v % 1) === 0.5);
    return ['Observation', [['value-quantity', `${pick(['', 'eq', 'ne', 'ap'])}${Math.floor(pick(halves))}`]]];
  },
  () => { const c = pick(CODES); return ['Observation', [['code-value-quantity', `${c[0]}|${c[1]}$${pick(NUM_PREFIXES)}${num()}`]]]; },
  () => ['Observation', [['subject:Patient.name', fragment(pick(FAMILIES))]]],
  () => ['Observation', [['patient.birthdate', pick(['ge', 'lt', 'eq']) + date(1935, 2012)]]],
  () => ['Encounter', [['patient', `p${patientN()}`], ['date', pick(PREFIXES) + date(2015, 2022)]]],
  () => ['Encounter', [['date', pick(PREFIXES) + dataDate('Encounter', (x) => (r() < 0.5 ? x.period?.start : x.period?.end), 2015, 2022)]]],
  () => ['Encounter', [['class', pick(['AMB', 'EMER', 'http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP'])], ['status', pick(['finished', 'planned'])]]],
  () => ['Observation', [['date', pick(['gt', 'lt', 'ge', 'le', 'sa', 'eb', 'eq', 'ne']) + dataDate('Observation', obsDate, 2014, 2023)]]],
  () => ['Encounter', [['date', pick(['gt', 'lt', 'ge', 'le', 'sa', 'eb']) + dataDate('Encounter', (x) => (r() < 0.5 ? x.period?.start : x.period?.end), 2015, 2022)]]],
  () => ['Patient', [['birthdate', pick(['gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ne']) + dataDate('Patient', (x) => x.birthDate, 1935, 2012)]]],
  // A pinned reference (compile.ts nest) met as an array by one or two conditions around it.
  () => ['Observation', [['subject:Patient.name', fragment(pick(FAMILIES))], ['code', pick(CODES)[1]]]],
  () => ['Observation', [['code', pick(CODES)[1]], ['subject', `Patient/p${patientN()}`], ['status', pick(STATUSES)]]],
  () => ['Encounter', [['class', pick(['AMB', 'EMER', 'IMP'])], ['patient', `Patient/p${patientN()}`]]],
  () => ['RiskAssessment', [['probability', `${pick(NUM_PREFIXES)}${pick(['0.5', '0.25', '0', '1', '0.07', String(int(0, 99) / 100)])}`]]],
];

test('≥300 generated searches agree with the independent evaluator', async () => {
  let n = 0;
  let nonEmpty = 0;
  let tSearch = 0;
  let tOracle = 0;
  for (let i = 0; i < 400; i++) {
    const [type, params] = GEN[i % GEN.length]();
    const qs = new URLSearchParams([...params, ['_count', '1000']]).toString();
    const t0 = performance.now();
    const b = await search(s, `${type}?${qs}`);
    tSearch += performance.now() - t0;
    if (process.env.SEARCH_TIMING && performance.now() - t0 > 50) console.log(Math.round(performance.now() - t0), type, decodeURIComponent(qs));
    const got = (b.entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => `${type}/${e.resource.id}`).sort();
    const t1 = performance.now();
    const want = oracle.search(type, params);
    tOracle += performance.now() - t1;
    assert.deepEqual(got, want, `${type}?${decodeURIComponent(qs)}`);
    assert.equal(b.total, want.length, `total of ${type}?${qs}`);
    n++;
    if (want.length) nonEmpty++;
  }
  if (process.env.SEARCH_TIMING) console.log(JSON.stringify({ searchMs: Math.round(tSearch), oracleMs: Math.round(tOracle) }));
  assert.ok(n >= 300);
  assert.ok(nonEmpty > n / 2, `most generated queries should match something (${nonEmpty}/${n})`);
});

test('paging covers every match exactly once, in order, for each sort', async () => {
  const cases: Array<[string, string]> = [
    ['Observation', '_count=7'], ['Observation', 'code=8480-6&_count=5&_sort=-date'], ['Observation', '_count=13&_sort=date,-_id'],
    ['Patient', '_count=3&_sort=birthdate'], ['Patient', '_count=4&_sort=-name'], ['Patient', '_count=6&_sort=_lastUpdated'],
    ['Patient', '_count=5&_sort=-_lastUpdated'], ['Encounter', 'date=ge2018&_count=9&_sort=-_id'], ['Observation', 'status=final&_count=11&_sort=status,value-quantity'],
  ];
  for (const [type, q] of cases) {
    const ids = await allPages(s, `${type}?${q}`);
    const filters = [...new URLSearchParams(q).entries()].filter(([k]) => !k.startsWith('_'));
    const want = oracle.search(type, filters);
    assert.equal(new Set(ids).size, ids.length, `duplicates in ${type}?${q}`);
    assert.deepEqual([...ids].sort(), want, `${type}?${q}`);
    if (q.includes('_sort=-_id')) assert.deepEqual(ids, [...ids].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
  }
});

test('previous undoes next, and rows added between pages are neither repeated nor skipped', async () => {
  const first = await search(s, 'Observation?_count=10&_sort=-date');
  const next = first.link.find((l: any) => l.relation === 'next').url.split('/fhir/')[1];
  const second = await search(s, next);
  const prev = second.link.find((l: any) => l.relation === 'previous').url.split('/fhir/')[1];
  const back = await search(s, prev);
  assert.deepEqual(back.entry.map((e: any) => e.resource.id), first.entry.map((e: any) => e.resource.id));

  const before1 = await allPages(s, 'Encounter?_count=25');
  const page1 = await search(s, 'Encounter?_count=25');
  await s.load([{ resourceType: 'Encounter', id: 'late-1', status: 'planned', class: { code: 'AMB' } } as Resource]);
  const rest: string[] = page1.entry.map((e: any) => `Encounter/${e.resource.id}`);
  let b = page1;
  for (;;) {
    const nl = b.link.find((l: any) => l.relation === 'next');
    if (!nl) break;
    b = await search(s, nl.url.split('/fhir/')[1]);
    for (const e of b.entry ?? []) rest.push(`Encounter/${e.resource.id}`);
  }
  assert.equal(new Set(rest).size, rest.length);
  assert.deepEqual(rest.filter((x) => x !== 'Encounter/late-1'), before1);
});
