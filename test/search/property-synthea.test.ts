// Property test over REAL Synthea patients (../shared/data's small set via test/helpers/synthea.ts; on a
// clone without ../shared, generated bundles of the same shape): ≥300 seeded searches whose values are
// drawn from the loaded data, across string/token/reference/date/quantity/composite parameters, prefixes,
// modifiers, AND and OR, each compared with the independent evaluator (helpers/oracle.ts); then paging
// with a small _count over large results: every match exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from 'fhir/r4';
import { startSearchDb, type SearchDb } from './helpers/db.js';
import { search, allPages } from './helpers/run.js';
import { rng } from './helpers/fixtures.js';
import { Oracle, DEFS } from './helpers/oracle.js';
import { bundlesToResources } from './helpers/synthea-resources.js';
import { syntheaBundles } from '../helpers/synthea.js';

// More parameters for the oracle, each with its FHIRPath written by hand from the R4 SearchParameter
// expressions (search-parameters.json), so the server's registry is still checked, not copied.
Object.assign(DEFS.Patient, {
  'death-date': { kind: 'date', path: 'Patient.deceased.ofType(dateTime)' },
  'address-state': { kind: 'string', path: 'Patient.address.state' },
  'address-postalcode': { kind: 'string', path: 'Patient.address.postalCode' },
});
Object.assign(DEFS.Observation, {
  'combo-code': { kind: 'token', path: 'Observation.code | Observation.component.code' },
  encounter: { kind: 'reference', path: 'Observation.encounter', target: 'Encounter' },
});
Object.assign(DEFS.Encounter, {
  type: { kind: 'token', path: 'Encounter.type' },
  subject: { kind: 'reference', path: 'Encounter.subject' },
});
DEFS.Condition = {
  code: { kind: 'token', path: 'Condition.code' },
  'clinical-status': { kind: 'token', path: 'Condition.clinicalStatus' },
  'onset-date': { kind: 'date', path: 'Condition.onset.ofType(dateTime) | Condition.onset.ofType(Period)' },
  'abatement-date': { kind: 'date', path: 'Condition.abatement.ofType(dateTime) | Condition.abatement.ofType(Period)' },
  patient: { kind: 'reference', path: 'Condition.subject', target: 'Patient' },
};
DEFS.MedicationRequest = {
  status: { kind: 'token', path: 'MedicationRequest.status' },
  intent: { kind: 'token', path: 'MedicationRequest.intent' },
  authoredon: { kind: 'date', path: 'MedicationRequest.authoredOn' },
  code: { kind: 'token', path: 'MedicationRequest.medication.ofType(CodeableConcept)' },
  patient: { kind: 'reference', path: 'MedicationRequest.subject', target: 'Patient' },
};
DEFS.Immunization = {
  'vaccine-code': { kind: 'token', path: 'Immunization.vaccineCode' },
  date: { kind: 'date', path: 'Immunization.occurrence' },
  status: { kind: 'token', path: 'Immunization.status' },
  patient: { kind: 'reference', path: 'Immunization.patient', target: 'Patient' },
};
DEFS.Procedure = {
  code: { kind: 'token', path: 'Procedure.code' },
  date: { kind: 'date', path: 'Procedure.performed' },
  status: { kind: 'token', path: 'Procedure.status' },
  patient: { kind: 'reference', path: 'Procedure.subject', target: 'Patient' },
};

const PATIENTS = Number(process.env.SYNTHEA_PATIENTS ?? 8);
let s: SearchDb;
let data: Resource[];
let oracle: Oracle;

before(async () => {
  s = await startSearchDb();
  data = bundlesToResources(syntheaBundles(PATIENTS));
  await s.load(data);
  oracle = new Oracle(data, Date.now());
});
after(async () => { await s?.stop(); });

const r = rng(Number(process.env.SYNTHEA_SEED ?? 4711));
const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
const pad = (n: number) => String(n).padStart(2, '0');
const PREFIXES = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

const of = (type: string) => data.filter((x) => x.resourceType === type) as any[];
/** Every value `f` gives over the resources of `type` (f may return one value, an array, or nothing). */
function values(type: string, f: (x: any) => unknown): string[] {
  return [...new Set(of(type).flatMap((x) => [].concat((f(x) ?? []) as never)).filter((v) => v !== undefined && v !== null && v !== '').map(String))].sort();
}
/** Thrown when the loaded data has nothing to draw from (generated fallback bundles): that generator is skipped. */
class Skip extends Error {}
const draw = (a: string[]): string => { if (!a.length) throw new Skip(); return pick(a); };

function randomDate(y0: number, y1: number): string {
  const y = int(y0, y1);
  switch (int(0, 3)) {
    case 0: return `${y}`;
    case 1: return `${y}-${pad(int(1, 12))}`;
    case 2: return `${y}-${pad(int(1, 12))}-${pad(int(1, 28))}`;
    default: return `${y}-${pad(int(1, 12))}-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}+00:00`;
  }
}
/** Mostly a date from the data at year, month, day or full precision (boundaries are where prefixes differ). */
function dataDate(type: string, f: (x: any) => unknown): string {
  if (r() < 0.2) return randomDate(1930, 2021);
  const v = draw(values(type, f));
  const cut = pick([4, 7, 10, 10, v.length]);
  return v.slice(0, Math.min(cut, v.length));
}
const period = (p: any) => [p?.start, p?.end];

// Strings: prefix fragments in any case, accents removed or added (R4 search.html#string: matching
// "should" ignore case and accents), :exact with the stored value, :contains with an inner slice.
function fragment(word: string): string {
  let w = word;
  if (r() < 0.2) w = w.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  else if (r() < 0.2) w = w.replace(/e/, 'é').replace(/a/, 'á');
  const cut = w.slice(0, int(1, Math.max(1, w.length)));
  return r() < 0.5 ? cut.toUpperCase() : r() < 0.5 ? cut.toLowerCase() : cut;
}
const families = () => values('Patient', (p) => p.name?.map((n: any) => n.family));
const givens = () => values('Patient', (p) => p.name?.flatMap((n: any) => n.given ?? []));
const patientIds = () => values('Patient', (p) => p.id);
const pref = () => draw(patientIds());

/** A coding drawn from `f` as one of: system|code, code, |code (no system: matches nothing here), system|. */
function tokenOf(type: string, f: (x: any) => any[] | undefined, forms = ['sc', 'sc', 'c', 'c', 's', 'n']): string {
  const codings = values(type, (x) => (f(x) ?? []).map((c: any) => `${c.system ?? ''}|${c.code}`));
  const [sys, code] = draw(codings).split('|');
  switch (pick(forms)) {
    case 'sc': return `${sys}|${code}`;
    case 'c': return code;
    case 's': return `${sys}|`;
    default: return `|${code}`;
  }
}
const codings = (cc: any) => (cc ? [].concat(cc).flatMap((c: any) => c.coding ?? []) : []);
const obsCode = () => tokenOf('Observation', (o) => codings(o.code));

// Quantities: values rounded to 0–3 decimals (the oracle's precision range is IEEE arithmetic, which
// cannot represent the ±5e-15 range of a 17-digit Synthea value), with or without units.
function quantity(): string {
  const qs = of('Observation').map((o) => o.valueQuantity).filter(Boolean);
  if (!qs.length) throw new Skip();
  const q = pick(qs);
  let n = r() < 0.2 ? String(int(0, 300)) : q.value.toFixed(int(0, 3)).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  if (n === '-0') n = '0';
  const unit = pick(['', '', `|${q.system}|${q.code}`, `||${q.code}`, `||${q.unit}`, '|http://unitsofmeasure.org|kg']);
  return `${pick(PREFIXES)}${n}${unit}`;
}

type Q = [string, Array<[string, string]>];
const GEN: Array<() => Q> = [
  // Patient: strings
  () => ['Patient', [['name', fragment(draw([...families(), ...givens()]))]]],
  () => ['Patient', [['family', fragment(draw(families()))]]],
  () => ['Patient', [['given', `${fragment(draw(givens()))},${fragment(draw(givens()))}`]]],
  () => ['Patient', [['family:exact', r() < 0.6 ? draw(families()) : draw(families()).toLowerCase()]]],
  () => { const f = draw(families()); const i = int(0, Math.max(0, f.length - 3)); return ['Patient', [['name:contains', f.slice(i, i + int(2, 4)).toLowerCase()]]]; },
  () => ['Patient', [['address-city', fragment(draw(values('Patient', (p) => p.address?.map((a: any) => a.city))))]]],
  () => ['Patient', [['address-state', fragment(draw(values('Patient', (p) => p.address?.map((a: any) => a.state))))]]],
  () => ['Patient', [['address-postalcode', draw(values('Patient', (p) => p.address?.map((a: any) => a.postalCode))).slice(0, int(2, 5))]]],
  // Patient: tokens, dates, AND
  // No `http://hl7.org/fhir/administrative-gender|female`: the server applies a code's implicit value-set
  // system (test/search/token-implicit-system.test.ts), the oracle knows no implicit systems.
  () => ['Patient', [['gender', pick(['male', 'female', 'other', 'male,female'])]]],
  () => ['Patient', [['gender:not', pick(['male', 'female'])]]],
  () => ['Patient', [['identifier', tokenOf('Patient', (p) => p.identifier?.map((i: any) => ({ system: i.system, code: i.value })))]]],
  () => ['Patient', [['birthdate', pick(PREFIXES) + dataDate('Patient', (p) => p.birthDate)]]],
  () => ['Patient', [['birthdate', pick(['gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ne']) + dataDate('Patient', (p) => p.birthDate)]]],
  () => ['Patient', [['death-date', pick(PREFIXES) + dataDate('Patient', (p) => p.deceasedDateTime)]]],
  () => ['Patient', [['death-date:missing', pick(['true', 'false'])]]],
  () => ['Patient', [['gender', pick(['male', 'female'])], ['birthdate', pick(['ge', 'lt', 'le', 'gt']) + dataDate('Patient', (p) => p.birthDate)]]],
  () => ['Patient', [['_has:Observation:patient:code', obsCode()]]],
  // Observation
  () => ['Observation', [['code', obsCode()]]],
  () => ['Observation', [['code', `${obsCode()},${obsCode()}`]]],
  () => ['Observation', [['code:not', tokenOf('Observation', (o) => codings(o.code), ['sc', 'c'])]]],
  () => ['Observation', [['combo-code', tokenOf('Observation', (o) => [...codings(o.code), ...codings(o.component?.map((c: any) => c.code))], ['sc', 'c'])]]],
  () => ['Observation', [['category', tokenOf('Observation', (o) => codings(o.category), ['sc', 'c', 'c'])]]],
  () => ['Observation', [['status', pick(['final', 'amended', 'final,amended', 'preliminary'])]]],
  () => ['Observation', [['patient', r() < 0.5 ? `Patient/${pref()}` : pref()]]],
  () => ['Observation', [['subject', `Patient/${pref()}`], ['category', tokenOf('Observation', (o) => codings(o.category), ['c'])]]],
  () => ['Observation', [['date', pick(PREFIXES) + dataDate('Observation', (o) => o.effectiveDateTime ?? period(o.effectivePeriod))]]],
  () => ['Observation', [['code', obsCode()], ['date', pick(PREFIXES) + dataDate('Observation', (o) => o.effectiveDateTime)]]],
  () => ['Observation', [['value-quantity', quantity()]]],
  () => ['Observation', [['value-quantity', quantity()]]],
  () => {
    const o = pick(of('Observation').filter((x) => x.valueQuantity));
    if (!o) throw new Skip();
    const c = o.code.coding[0];
    return ['Observation', [['code-value-quantity', `${c.system}|${c.code}$${pick(PREFIXES)}${o.valueQuantity.value.toFixed(int(0, 2))}`]]];
  },
  () => ['Observation', [['subject:Patient.name', fragment(draw(families()))], ['code', obsCode()]]],
  () => ['Observation', [['encounter', `Encounter/${draw(values('Encounter', (e) => e.id))}`]]],
  // Encounter
  () => ['Encounter', [['date', pick(PREFIXES) + dataDate('Encounter', (e) => period(e.period))]]],
  () => ['Encounter', [['patient', pref()], ['date', pick(PREFIXES) + dataDate('Encounter', (e) => period(e.period))]]],
  () => ['Encounter', [['class', tokenOf('Encounter', (e) => [e.class])]]],
  () => ['Encounter', [['type', tokenOf('Encounter', (e) => codings(e.type))]]],
  () => ['Encounter', [['status', pick(['finished', 'planned', 'finished,in-progress'])], ['class', tokenOf('Encounter', (e) => [e.class], ['c'])]]],
  () => ['Encounter', [['subject', `Patient/${pref()}`], ['type', tokenOf('Encounter', (e) => codings(e.type), ['c'])]]],
  // Condition
  () => ['Condition', [['code', tokenOf('Condition', (c) => codings(c.code))]]],
  () => ['Condition', [['onset-date', pick(PREFIXES) + dataDate('Condition', (c) => c.onsetDateTime ?? period(c.onsetPeriod))]]],
  () => ['Condition', [['abatement-date', pick(PREFIXES) + dataDate('Condition', (c) => c.abatementDateTime)]]],
  () => ['Condition', [['clinical-status', tokenOf('Condition', (c) => codings(c.clinicalStatus), ['sc', 'c', 'c'])]]],
  () => ['Condition', [['patient', pref()], ['clinical-status', pick(['active', 'resolved', 'active,recurrence'])]]],
  // MedicationRequest
  () => ['MedicationRequest', [['status', pick(['active', 'stopped', 'completed', 'active,stopped'])]]],
  () => ['MedicationRequest', [['intent', pick(['order', 'plan', 'order,plan'])], ['patient', pref()]]],
  () => ['MedicationRequest', [['authoredon', pick(PREFIXES) + dataDate('MedicationRequest', (m) => m.authoredOn)]]],
  () => ['MedicationRequest', [['code', tokenOf('MedicationRequest', (m) => codings(m.medicationCodeableConcept))]]],
  // Immunization
  () => ['Immunization', [['vaccine-code', tokenOf('Immunization', (i) => codings(i.vaccineCode))]]],
  () => ['Immunization', [['vaccine-code', `${tokenOf('Immunization', (i) => codings(i.vaccineCode), ['c'])},${tokenOf('Immunization', (i) => codings(i.vaccineCode), ['c'])}`]]],
  () => ['Immunization', [['date', pick(PREFIXES) + dataDate('Immunization', (i) => i.occurrenceDateTime)]]],
  () => ['Immunization', [['patient', `Patient/${pref()}`], ['date', pick(['ge', 'lt']) + dataDate('Immunization', (i) => i.occurrenceDateTime)]]],
  // Procedure
  () => ['Procedure', [['code', tokenOf('Procedure', (p) => codings(p.code))]]],
  () => ['Procedure', [['date', pick(PREFIXES) + dataDate('Procedure', (p) => p.performedDateTime ?? period(p.performedPeriod))]]],
  () => ['Procedure', [['patient', pref()], ['code', tokenOf('Procedure', (p) => codings(p.code), ['c'])]]],
];

test('≥300 searches over Synthea patients agree with the independent evaluator', async () => {
  let n = 0;
  let nonEmpty = 0;
  const perType = new Map<string, number>();
  for (let i = 0; n < 420 && i < 2000; i++) {
    let q: Q;
    try { q = GEN[i % GEN.length](); } catch (e) { if (e instanceof Skip) continue; throw e; }
    const [type, params] = q;
    const qs = new URLSearchParams([...params, ['_count', '1000']]).toString();
    const b = await search(s, `${type}?${qs}`);
    // Past _count=1000 (an Observation facet of 8 patients can be larger) the rest comes from the next links.
    const got: string[] = b.link.some((l: any) => l.relation === 'next')
      ? (await allPages(s, `${type}?${qs}`)).sort()
      : (b.entry ?? []).filter((e: any) => e.search.mode === 'match').map((e: any) => `${type}/${e.resource.id}`).sort();
    const want = oracle.search(type, params);
    if (got.join() !== want.join()) {
      const g = new Set(got); const w = new Set(want);
      assert.fail(`${type}?${decodeURIComponent(qs)}: server ${got.length}, oracle ${want.length}; `
        + `missing ${JSON.stringify(want.filter((x) => !g.has(x)).slice(0, 5))} extra ${JSON.stringify(got.filter((x) => !w.has(x)).slice(0, 5))}`);
    }
    // Bundle.total is optional (search.html#total); when given it must be right.
    if (b.total !== undefined || !b.link.some((l: any) => l.relation === 'next')) assert.equal(b.total, want.length, `total of ${type}?${decodeURIComponent(qs)}`);
    n++;
    if (want.length) nonEmpty++;
    perType.set(type, (perType.get(type) ?? 0) + 1);
  }
  if (process.env.SEARCH_TIMING) console.log(JSON.stringify({ n, nonEmpty, resources: data.length, perType: Object.fromEntries(perType) }));
  assert.ok(n >= 300, `only ${n} searches ran`);
  assert.ok(nonEmpty > n / 2, `most generated queries should match something (${nonEmpty}/${n})`);
});

test('paging with a small _count covers every match of a large result exactly once', async () => {
  const vital = of('Observation').some((o) => codings(o.category).some((c: any) => c.code === 'vital-signs'));
  const cases: Array<[string, string]> = [
    ['Observation', '_count=7'], ['Observation', '_count=7&_sort=-date'], ['Encounter', '_count=7&_sort=date'],
    ['Procedure', '_count=7&_sort=-date'], ['Patient', '_count=3&_sort=birthdate'], ['Condition', '_count=7&_sort=onset-date'],
    ['Immunization', '_count=7&_sort=-_id'],
  ];
  if (vital) cases.push(['Observation', 'category=vital-signs&_count=7&_sort=date']);
  for (const [type, q] of cases) {
    const ids = await allPages(s, `${type}?${q}`);
    const want = oracle.search(type, [...new URLSearchParams(q).entries()].filter(([k]) => !k.startsWith('_')));
    assert.equal(new Set(ids).size, ids.length, `duplicates in ${type}?${q}`);
    assert.deepEqual([...ids].sort(), want, `${type}?${q}`);
    if (q.includes('_sort=-_id')) assert.deepEqual(ids, [...ids].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
  }
  const big = await allPages(s, 'Observation?_count=7');
  assert.ok(big.length > 50 || !vital, `expected a large Observation result to page through (${big.length})`);
});
