// Researchers search the de-identified copy through the normal search API (issue "Compliance";
// migrations/040_deid_search_index.sql, src/fhir/interactions/deid-search.ts): code, patient pseudonym,
// dates, _include/_revinclude, chains, _has, compartments, paging and counts find the de-identified
// resources; identified values (names, real ids, full dates, addresses, identifiers) are never served and
// never match, because the index was extracted from the de-identified copy. Writes of every path (REST,
// transaction Bundle, import) fill it; updates and deletes follow; a rebuild restores a missing index.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { Pseudonyms } from '../../src/deid/pseudonym.js';
import { keyIdOf, deidSettings } from '../../src/deid/settings.js';
import { rebuildDeid } from '../../src/deid/copy.js';
import { run as importRun } from '../../src/cli/import.js';
import { startRoleServer, call, bearer, ownerClient, SYSTEM, DEID_KEY, type Reply } from './helpers.js';
import { call as plainCall } from '../helpers/http.js';

type Server = Awaited<ReturnType<typeof startRoleServer>>;
let server: Server;
let c: pg.Client;
const researcher = { role: 'researcher' as const, scopes: ['user/*.rs'], userId: 'res-1', clientId: 'study-app' };
const pseudo = (type: string, id: string) => new Pseudonyms(Buffer.from(DEID_KEY), keyIdOf(Buffer.from(DEID_KEY)), 'default').id(type, id);
const LOINC = 'http://loinc.org';
const ids: Record<string, string> = {};
/**
 * What every researcher reply served (entries, totals, paging links), checked at the end for identified
 * values; the self link is left out, as it only echoes the researcher's own query.
 */
const seen: string[] = [];
function record(r: Reply): Reply {
  const links = ((r.json?.link ?? []) as Array<{ relation: string; url: string }>).filter((l) => l.relation !== 'self');
  seen.push(JSON.stringify([r.json?.entry ?? [], r.json?.total, links, r.json?.issue ?? []]));
  return r;
}

async function post(type: string, body: object): Promise<string> {
  const r = await call(server, SYSTEM, 'POST', type, { resourceType: type, ...body });
  assert.equal(r.status, 201, r.text);
  return r.json.id as string;
}

async function search(path: string, who: object = researcher): Promise<Reply> {
  return record(await call(server, who, 'GET', path));
}

/** Ids of entries with the given search mode, sorted. */
function found(r: Reply, mode = 'match'): string[] {
  assert.equal(r.status, 200, r.text);
  return ((r.json.entry ?? []) as Array<{ resource: { id: string }; search: { mode: string } }>)
    .filter((e) => e.search.mode === mode).map((e) => e.resource.id).sort();
}

const p = (type: string, key: string) => pseudo(type, ids[key]);
const sorted = (...xs: string[]) => xs.sort();

before(async () => {
  server = await startRoleServer();
  c = await ownerClient(server.adminUrl);
  ids.A = await post('Patient', { name: [{ family: 'Secretname', given: ['Givenname'] }], birthDate: '1961-04-05', gender: 'female',
    identifier: [{ system: 'http://hospital.example/mrn', value: 'MRN-778899' }], telecom: [{ system: 'phone', value: '555-867-5309' }],
    address: [{ line: ['1 Hidden Way'], city: 'Cambridge', state: 'MA', postalCode: '02139' }] });
  ids.B = await post('Patient', { name: [{ family: 'Othername' }], birthDate: '1975-08-09', gender: 'male' });
  const obs = (patient: string, code: string, when: string) => ({ status: 'final', code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${patient}`, display: 'Secretname' }, effectiveDateTime: when, valueQuantity: { value: 9.4, unit: '%' } });
  ids.A1 = await post('Observation', obs(ids.A, '4548-4', '2019-05-06T07:08:09Z'));
  ids.A2 = await post('Observation', obs(ids.A, '4548-4', '2020-01-02'));
  ids.B1 = await post('Observation', obs(ids.B, '4548-4', '2019-07-07'));
  ids.B2 = await post('Observation', obs(ids.B, '2345-7', '2021-03-03'));
  // A transaction Bundle (deferred derived writes, one statement per table).
  const tx = await call(server, SYSTEM, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [
    { fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Bundlename' }], gender: 'other' }, request: { method: 'POST', url: 'Patient' } },
    { resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '8302-2' }] }, subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000001' }, effectiveDateTime: '2018-02-03' },
      request: { method: 'POST', url: 'Observation' } },
  ] });
  assert.equal(tx.status, 200, tx.text);
  ids.C = (tx.json.entry[0].response.location as string).split('/')[1];
  ids.C1 = (tx.json.entry[1].response.location as string).split('/')[1];
  // The importer (bulk writes, one de-identified statement per round).
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-deid-import-'));
  writeFileSync(join(dir, 'obs.ndjson'), JSON.stringify({ resourceType: 'Observation', id: 'imp-1', status: 'final', code: { coding: [{ system: LOINC, code: '39156-5' }] },
    subject: { reference: `Patient/${ids.A}` }, effectiveDateTime: '2017-06-07' }) + '\n');
  const imp = await importRun(['--keep-ids', '--workers', '0', join(dir, 'obs.ndjson')], { db: server.db, config: server.config, tenant: 'default' });
  assert.equal(imp.created, 1);
  ids.I1 = 'imp-1';
});
after(async () => {
  await c?.end();
  await server?.stop();
});

test('search by code, patient pseudonym and date finds the de-identified resources', async () => {
  assert.deepEqual(found(await search(`Observation?code=${LOINC}|4548-4`)), sorted(p('Observation', 'A1'), p('Observation', 'A2'), p('Observation', 'B1')));
  assert.deepEqual(found(await search(`Observation?patient=${p('Patient', 'A')}`)), sorted(p('Observation', 'A1'), p('Observation', 'A2'), p('Observation', 'I1')));
  assert.deepEqual(found(await search(`Observation?code=4548-4&patient=Patient/${p('Patient', 'A')}`)), sorted(p('Observation', 'A1'), p('Observation', 'A2')));
  assert.deepEqual(found(await search('Observation?code=4548-4&date=2019')), sorted(p('Observation', 'A1'), p('Observation', 'B1')));
  assert.deepEqual(found(await search('Observation?code=8302-2')), [p('Observation', 'C1')], 'written by a transaction Bundle');
  assert.deepEqual(found(await search('Observation?code=39156-5')), [p('Observation', 'I1')], 'written by the importer');
  const r = await search(`Observation?code=4548-4&patient=${p('Patient', 'A')}`);
  for (const e of r.json.entry) {
    assert.equal(e.fullUrl, `${server.fhirBase}/Observation/${e.resource.id}`);
    assert.equal(e.resource.subject.reference, `Patient/${p('Patient', 'A')}`);
    assert.match(e.resource.effectiveDateTime, /^\d{4}$/);
  }
  assert.deepEqual(found(await search(`Patient/${p('Patient', 'A')}/Observation?code=4548-4`)), sorted(p('Observation', 'A1'), p('Observation', 'A2')));
  const form = record(await plainCall(server.fhirBase, 'POST', 'Observation/_search', 'code=2345-7',
    { authorization: bearer(researcher), 'content-type': 'application/x-www-form-urlencoded' }));
  assert.deepEqual(found(form), [p('Observation', 'B2')]);
});

test('generalised values are what the index holds: year, state, ZIP3; never the identified ones', async () => {
  const A = [p('Patient', 'A')];
  assert.deepEqual(found(await search('Patient?birthdate=1961')), A);
  assert.deepEqual(found(await search('Patient?address-state=MA')), A);
  assert.deepEqual(found(await search('Patient?address-postalcode=021')), A);
  assert.deepEqual(found(await search('Patient?gender=female')), A);
  assert.deepEqual(found(await search('Patient?_content=female')), A, '_content runs over the de-identified text');
  for (const q of ['Patient?name=Secretname', 'Patient?family=Secretname', 'Patient?given=Givenname', 'Patient?name=Bundlename',
    'Patient?identifier=MRN-778899', 'Patient?identifier=http://hospital.example/mrn|MRN-778899', 'Patient?telecom=555-867-5309',
    'Patient?birthdate=1961-04-05', 'Patient?address-city=Cambridge', 'Patient?address=Hidden', 'Patient?address-postalcode=02139',
    'Observation?date=2019-05-06', 'Observation?date=2019-05-06T07:08:09Z', 'Patient?_content=Secretname', 'Observation?_content=Secretname',
    'Patient?_content=Cambridge']) {
    assert.deepEqual(found(await search(q)), [], q);
  }
});

test('real ids find nothing: _id, references, compartments, chains', async () => {
  for (const q of [`Patient?_id=${ids.A}`, `Observation?patient=${ids.A}`, `Observation?subject=Patient/${ids.A}`, `Observation?_id=${ids.A1}`,
    `Patient/${ids.A}/Observation`, `Observation?patient._id=${ids.A}`, `Observation?patient.name=Secretname`, `Observation?patient.identifier=MRN-778899`,
    `Observation?subject=${server.fhirBase}/Patient/${ids.A}`]) {
    assert.deepEqual(found(await search(q)), [], q);
  }
  assert.deepEqual(found(await search(`Patient?_id=${p('Patient', 'A')}`)), [p('Patient', 'A')]);
});

test('_include, _revinclude, chains and _has stay on the de-identified side', async () => {
  const inc = await search('Observation?code=4548-4&_include=Observation:patient');
  assert.deepEqual(found(inc, 'include'), sorted(p('Patient', 'A'), p('Patient', 'B')));
  const rev = await search(`Patient?_id=${p('Patient', 'A')}&_revinclude=Observation:subject`);
  assert.deepEqual(found(rev, 'include'), sorted(p('Observation', 'A1'), p('Observation', 'A2'), p('Observation', 'I1')));
  assert.deepEqual(found(await search('Observation?code=4548-4&patient.gender=male')), [p('Observation', 'B1')]);
  assert.deepEqual(found(await search('Patient?_has:Observation:patient:code=2345-7')), [p('Patient', 'B')]);
  // Type grants apply to included resources too (row-level security on deid.resource and deid.sp_*).
  const narrow = await search('Observation?code=4548-4&_include=Observation:patient', { ...researcher, scopes: ['user/Observation.rs'] });
  assert.equal(found(narrow).length, 3);
  assert.deepEqual(found(narrow, 'include'), []);
  assert.equal((await search('Patient?gender=female', { ...researcher, scopes: ['user/Observation.rs'] })).status, 403);
});

test('paging by cursor, _summary=count, _total and _sort over the copy', async () => {
  const all: string[] = [];
  let r = await search('Observation?code=4548-4&_count=1&_sort=-_lastUpdated');
  for (let pages = 0; pages < 5; pages++) {
    all.push(...found(r));
    const next = (r.json.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next');
    if (!next) break;
    assert.ok(next.url.startsWith(`${server.fhirBase}/Observation?`));
    r = await search(next.url.slice(server.fhirBase.length + 1));
  }
  assert.deepEqual(all.sort(), sorted(p('Observation', 'A1'), p('Observation', 'A2'), p('Observation', 'B1')));
  const dated: string[] = [];
  r = await search('Observation?code=4548-4&_count=2&_sort=-date');
  dated.push(...r.json.entry.map((e: { resource: { id: string } }) => e.resource.id));
  const next = r.json.link.find((l: { relation: string }) => l.relation === 'next');
  dated.push(...found(await search(next.url.slice(server.fhirBase.length + 1))));
  assert.equal(dated[0], p('Observation', 'A2'), '2020 before the 2019 ones');
  assert.equal(new Set(dated).size, 3);
  const n = await search('Observation?code=4548-4&_summary=count');
  assert.equal(n.json.total, 3);
  assert.equal(n.json.entry, undefined);
  assert.equal((await search('Observation?code=4548-4&_total=accurate&_count=1')).json.total, 3);
  assert.equal((await search('Observation?_summary=count')).json.total, 6);
});

test('a batch Bundle\'s search entries run over the copy too', async () => {
  const r = await call(server, researcher, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [
    { request: { method: 'GET', url: 'Observation?code=2345-7' } }, { request: { method: 'GET', url: `Observation?patient=${ids.B}` } }] });
  assert.equal(r.status, 200, r.text);
  const [hit, miss] = r.json.entry as Array<{ response: { status: string }; resource: { entry?: Array<{ resource: { id: string } }> } }>;
  assert.match(hit.response.status, /^200/);
  assert.deepEqual(hit.resource.entry?.map((e) => e.resource.id), [p('Observation', 'B2')]);
  assert.equal(miss.resource.entry, undefined, 'a real id finds nothing');
  seen.push(JSON.stringify([hit.resource.entry, miss.resource.entry])); // not the self links: they echo the query
});

test('tenant wall: another tenant\'s researcher finds nothing', async () => {
  const other = { ...researcher, tenant: 'other' };
  assert.equal((await search('Observation?code=4548-4&_summary=count', other)).json.total, 0);
  assert.deepEqual(found(await search(`Observation?patient=${p('Patient', 'A')}`, other)), []);
  assert.deepEqual(found(await search('Patient?gender=female', other)), []);
});

test('the index follows updates and deletes; writes stay refused', async () => {
  const b2 = (await call(server, SYSTEM, 'GET', `Observation/${ids.B2}`)).json;
  assert.equal((await call(server, SYSTEM, 'PUT', `Observation/${ids.B2}`, { ...b2, code: { coding: [{ system: LOINC, code: '1234-5' }] } })).status, 200);
  assert.deepEqual(found(await search('Observation?code=2345-7')), []);
  assert.deepEqual(found(await search('Observation?code=1234-5')), [p('Observation', 'B2')]);
  assert.equal((await call(server, SYSTEM, 'DELETE', `Observation/${ids.A2}`)).status, 200);
  assert.deepEqual(found(await search('Observation?code=4548-4')), sorted(p('Observation', 'A1'), p('Observation', 'B1')));
  const orphans = await c.query(`select (select count(*) from deid.sp_token x where not exists (select 1 from deid.resource r where r.rid = x.rid))::int
    + (select count(*) from deid.sp_reference x where not exists (select 1 from deid.resource r where r.rid = x.rid))::int as n`);
  assert.equal(orphans.rows[0].n, 0, 'no index row outlives its copy');
  assert.equal((await call(server, researcher, 'POST', 'Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' } })).status, 403);
  assert.equal((await call(server, researcher, 'GET', `Patient/${p('Patient', 'A')}/$everything`)).status, 403);
});

test('the de-identified index holds nothing the copy does not: no names, real ids or dates finer than a year', async () => {
  const real = Object.values(ids);
  const q = async (sql: string, values: unknown[] = []) => (await c.query(sql, values)).rows[0].n as number;
  assert.ok(await q(`select count(*)::int as n from fhir.sp_string where v like '%secretname%'`) > 0, 'the identified index has the name');
  assert.equal(await q(`select count(*)::int as n from deid.sp_string where v like '%secretname%' or v like '%cambridge%' or v like '%hidden%'`), 0);
  assert.equal(await q(`select count(*)::int as n from deid.sp_reference where tid = any($1)`, [real]), 0);
  assert.equal(await q(`select count(*)::int as n from deid.sp_date where hi - lo < 365::int8 * 86400000`), 0);
  assert.equal(await q(`select count(*)::int as n from deid.resource where extract(doy from last_updated at time zone 'UTC') <> 1`), 0);
});

test('a missing de-identified index (copies written before migration 040) is rebuilt by rebuildDeid', async () => {
  for (const t of ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_composite']) await c.query(`delete from deid.${t}`);
  assert.deepEqual(found(await search('Observation?code=4548-4')), []);
  const r = await rebuildDeid(server.db, 'default', deidSettings());
  assert.equal(r.removed, 0, 'the same key keeps every copy');
  assert.deepEqual(found(await search('Observation?code=4548-4')), sorted(p('Observation', 'A1'), p('Observation', 'B1')));
  assert.deepEqual(found(await search(`Observation?patient=${p('Patient', 'A')}`)), sorted(p('Observation', 'A1'), p('Observation', 'I1')));
});

test('no researcher reply ever contained an identified value', () => {
  assert.ok(seen.length > 40);
  const text = seen.join('\n');
  for (const phi of ['Secretname', 'Givenname', 'Othername', 'Bundlename', 'MRN-778899', '555-867-5309', 'Hidden Way', 'Cambridge', '"02139"',
    '1961-04-05', '1975-08-09', '2019-05-06', '2020-01-02', '2019-07-07', ...Object.values(ids)]) {
    assert.ok(!text.includes(phi), phi);
  }
});
