// Shared by the research-*.test.ts files: one server, a small identified data set written as a backend
// service, and helpers that run a researcher's search (over the de-identified copy, deid-search.ts) next
// to the same search on the identified data, so a test can say "the same resources, as pseudonyms".
// Every researcher reply is kept (`seen`), and each file ends by checking none held an identified value.
import assert from 'node:assert/strict';
import type pg from 'pg';
import { Pseudonyms } from '../../src/deid/pseudonym.js';
import { keyIdOf } from '../../src/deid/settings.js';
import { startRoleServer, call, ownerClient, SYSTEM, DEID_KEY, type Reply } from './helpers.js';

export type Server = Awaited<ReturnType<typeof startRoleServer>>;
export const RESEARCHER = { role: 'researcher' as const, scopes: ['user/*.rs'], userId: 'res-1', clientId: 'study-app' };
export const LOINC = 'http://loinc.org';
export const pseudo = (type: string, id: string, tenant = 'default') =>
  new Pseudonyms(Buffer.from(DEID_KEY), keyIdOf(Buffer.from(DEID_KEY)), tenant).id(type, id);

/** Identified values of the fixture: none may appear in a researcher's reply. */
export const PHI = ['Secretname', 'Othername', 'Deadname', 'Docname', 'Farname', '1961-04-05', '1975-08-09', '1980-02-03',
  '2019-05-06', '2020-01-02', '2019-07-07', '2018-07-07', 'Hidden Way', 'Cambridge', '02139', '90210'];

export interface Fixture {
  server: Server;
  c: pg.Client;
  /** Identified ids by name (A, B, D: patients; D is deleted; A1, A2, B1, D1, X: observations; E, Pr, Prov; O in tenant other). */
  ids: Record<string, string>;
  /** The types of the named resources. */
  types: Record<string, string>;
  /** Every researcher reply (entries, totals, links but self, issues). */
  seen: string[];
}

async function post(server: Server, type: string, body: object, who: object = SYSTEM): Promise<string> {
  const r = await call(server, who, 'POST', type, { resourceType: type, ...body });
  assert.equal(r.status, 201, r.text);
  return r.json.id as string;
}

export async function setUp(): Promise<Fixture> {
  const server = await startRoleServer();
  const c = await ownerClient(server.adminUrl);
  const ids: Record<string, string> = {};
  const types: Record<string, string> = {};
  const add = async (name: string, type: string, body: object, who?: object) => { ids[name] = await post(server, type, body, who); types[name] = type; };
  await add('Pr', 'Practitioner', { name: [{ family: 'Docname' }] });
  await add('A', 'Patient', { name: [{ family: 'Secretname' }], birthDate: '1961-04-05', gender: 'female', generalPractitioner: [{ reference: `Practitioner/${ids.Pr}` }],
    address: [{ line: ['1 Hidden Way'], city: 'Cambridge', state: 'MA', postalCode: '02139' }] });
  await add('B', 'Patient', { name: [{ family: 'Othername' }], birthDate: '1975-08-09', gender: 'male', address: [{ state: 'CA', postalCode: '90210' }] });
  await add('D', 'Patient', { name: [{ family: 'Deadname' }], birthDate: '1980-02-03', gender: 'female' });
  await add('E', 'Encounter', { status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${ids.A}` }, period: { start: '2019-05-06T07:00:00Z' } });
  const obs = (p: string, code: string, when: string, extra: object = {}) => ({ status: 'final', code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${ids[p]}`, display: 'Secretname' }, effectiveDateTime: when, ...extra });
  await add('A1', 'Observation', obs('A', '4548-4', '2019-05-06T07:08:09Z', { encounter: { reference: `Encounter/${ids.E}` }, performer: [{ reference: `Practitioner/${ids.Pr}` }] }));
  await add('A2', 'Observation', obs('A', '4548-4', '2020-01-02'));
  await add('B1', 'Observation', obs('B', '4548-4', '2019-07-07'));
  await add('D1', 'Observation', obs('D', '4548-4', '2018-07-07'));
  // Provenance is never copied (safe-harbor.ts EXCLUDED_TYPES): X refers to one that the copy does not have.
  await add('Prov', 'Provenance', { target: [{ reference: `Observation/${ids.A1}` }], recorded: '2019-05-06T07:08:09Z', agent: [{ who: { reference: `Practitioner/${ids.Pr}` } }] });
  await add('X', 'Observation', obs('A', '1111-1', '2019-01-01', { derivedFrom: [{ reference: `Provenance/${ids.Prov}` }] }));
  assert.equal((await call(server, SYSTEM, 'DELETE', `Patient/${ids.D}`)).status, 200);
  await add('O', 'Patient', { name: [{ family: 'Farname' }], birthDate: '1961-04-05', gender: 'female' }, { ...SYSTEM, tenant: 'other' });
  return { server, c, ids, types, seen: [] };
}

export async function tearDown(f: Fixture | undefined): Promise<void> {
  await f?.c.end();
  await f?.server.stop();
}

/**
 * A researcher's GET, recorded for the final identified-value check. Not recorded: what only echoes the
 * researcher's own request (the self link; in an error's diagnostics, the path asked for).
 */
export async function research(f: Fixture, path: string, who: object = RESEARCHER): Promise<Reply> {
  const r = await call(f.server, who, 'GET', path);
  const links = ((r.json?.link ?? []) as Array<{ relation: string; url: string }>).filter((l) => l.relation !== 'self');
  let text = JSON.stringify([r.json?.resourceType === 'Bundle' ? r.json.entry ?? [] : r.json, r.json?.total, links, r.json?.issue ?? []]);
  if (r.json?.resourceType === 'OperationOutcome') for (const part of path.split(/[/?&=,]/)) if (part.length > 8) text = text.replaceAll(part, '');
  f.seen.push(text);
  return r;
}

/** Entries of a searchset with the given mode, as `Type/id`, sorted. */
export function found(r: Reply, mode = 'match'): string[] {
  assert.equal(r.status, 200, r.text);
  return ((r.json.entry ?? []) as Array<{ resource: { resourceType: string; id: string }; search: { mode: string } }>)
    .filter((e) => e.search.mode === mode).map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
}

/** `Type/<pseudonym>` of named fixture resources, sorted. */
export const as = (f: Fixture, ...names: string[]): string[] => names.map((n) => `${f.types[n]}/${pseudo(f.types[n], f.ids[n])}`).sort();

/** The identified search's entries (mode), pseudonymised: what the researcher's same search must find. */
export async function identifiedAsPseudonyms(f: Fixture, path: string, mode = 'match'): Promise<string[]> {
  const r = await call(f.server, SYSTEM, 'GET', path);
  return found(r, mode).map((t) => { const [type, id] = t.split('/'); return `${type}/${pseudo(type, id)}`; }).sort();
}

export const links = (r: Reply): Record<string, string> =>
  Object.fromEntries(((r.json.link ?? []) as Array<{ relation: string; url: string }>).map((l) => [l.relation, l.url]));

/** The decoded keyset cursor of a paging link (search/cursor.ts): [dir, sort values, rid, fingerprint]. */
export function cursorOf(url: string): [string, Array<string | number | null>, string, string] {
  const m = /[?&]_cursor=([^&]+)/.exec(url);
  assert.ok(m, url);
  return JSON.parse(Buffer.from(decodeURIComponent(m[1]), 'base64url').toString('utf8'));
}

/** No researcher reply held an identified value or id. */
export function assertNothingIdentified(f: Fixture): void {
  const text = f.seen.join('\n');
  for (const v of [...PHI, ...Object.values(f.ids)]) assert.ok(!text.includes(v), v);
}
