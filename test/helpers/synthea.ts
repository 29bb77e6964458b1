// Synthea transaction Bundles for tests that want realistic patients: the real ones from ../shared/data
// when it is beside the repository (its small set unpacked once into .fixtures/), otherwise small
// generated ones of the same shape (POST entries, urn:uuid references, names, addresses, identifiers),
// so `npm test` also passes on a clone without ../shared.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

const FIXTURES = '.fixtures';
const SMALL = join(FIXTURES, 'synthea', 'small');
const ARCHIVE = join('..', 'shared', 'data', 'synthea-small.tar.zst');

function realBundles(count: number): string[] | undefined {
  if (!existsSync(SMALL) && existsSync(ARCHIVE)) {
    try {
      // Only the small set (as ../shared/data/unpack.sh would, which also marks it done).
      mkdirSync(FIXTURES, { recursive: true });
      execFileSync('bash', ['-c', `zstd -dc "${ARCHIVE}" | tar -x -C "${FIXTURES}" && touch "${FIXTURES}/.done-synthea-small"`], { stdio: 'ignore' });
    } catch {
      return undefined; // no zstd here: fall back to generated data
    }
  }
  if (!existsSync(SMALL)) return undefined;
  return readdirSync(SMALL).filter((f) => f.endsWith('.json')).sort().slice(0, count).map((f) => readFileSync(join(SMALL, f), 'utf8'));
}

const FAMILIES = ['Okonkwo', 'Lindqvist', 'Haddad', 'Castellanos', 'Nakamura', 'Brennan', 'Abernathy', 'Quispe'];
const GIVEN = ['Amara', 'Tobias', 'Leila', 'Mateo', 'Yuki', 'Siobhan', 'Ezekiel', 'Rosa'];

function generated(i: number): string {
  const p = `urn:uuid:${randomUUID()}`;
  const e = `urn:uuid:${randomUUID()}`;
  const patient = {
    resourceType: 'Patient',
    identifier: [{ system: 'http://hospital.smarthealthit.org', value: `MRN-${100000 + i * 7919}` }, { system: 'http://hl7.org/fhir/sid/us-ssn', value: `999-${10 + i}-${4000 + i}` }],
    name: [{ use: 'official', family: `${FAMILIES[i % 8]}${i}`, given: [`${GIVEN[i % 8]}${i}`] }],
    telecom: [{ system: 'phone', value: `555-${String(200 + i).padStart(3, '0')}-${String(1000 + i * 13).slice(-4)}`, use: 'home' }],
    gender: i % 2 ? 'male' : 'female',
    birthDate: `19${String(40 + (i % 50)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 9}`,
    address: [{ line: [`${100 + i} Juniper Hollow Rd`], city: `Marlborough${i}`, state: 'MA', postalCode: `01${String(700 + i).padStart(3, '0')}` }],
  };
  const encounter = { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: p }, period: { start: '2019-05-06T07:08:09Z', end: '2019-05-06T08:00:00Z' } };
  const obs = (code: string, value: number) => ({
    resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: p }, encounter: { reference: e },
    effectiveDateTime: '2019-05-06T07:30:00Z', valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  });
  const entry = (fullUrl: string, resource: object) => ({ fullUrl, resource, request: { method: 'POST', url: (resource as { resourceType: string }).resourceType } });
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [entry(p, patient), entry(e, encounter), entry(`urn:uuid:${randomUUID()}`, obs('29463-7', 60 + i)), entry(`urn:uuid:${randomUUID()}`, obs('8302-2', 150 + i))] });
}

/** `count` Synthea-shaped transaction Bundles as JSON text. */
export function syntheaBundles(count: number): string[] {
  return realBundles(count) ?? Array.from({ length: count }, (_, i) => generated(i));
}
