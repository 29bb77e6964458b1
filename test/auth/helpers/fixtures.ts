// Registrations and data every auth integration test starts from, made the way an operator would:
// `fhirgate client add` / `user add` (the CLI's run functions) and FHIR writes with a backend
// services token (client_credentials + private_key_jwt), so the setup itself exercises both.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from 'otplib';
import { run as clientAdd } from '../../../src/cli/client-add.js';
import { run as userAdd } from '../../../src/cli/user-add.js';
import type { SmartServer } from './smart-server.js';
import { assertion, clientKey, postForm, type ClientKey } from './oauth.js';

export const SECRET = 'conf-secret-value';
export const PASSWORD = 'correct horse battery staple';
const OBS = 'http://terminology.hl7.org/CodeSystem/observation-category';

export interface Fixture {
  redirect: string;
  rs384: ClientKey;
  es384: ClientKey;
  totpSecret: string;
  systemToken: string;
}

export async function systemToken(s: SmartServer, clientId: string, key: ClientKey, scope: string): Promise<string> {
  const r = await postForm(s.tokenUrl, {
    grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await assertion(clientId, key, s.tokenUrl),
  });
  if (r.status !== 200) throw new Error(`system token: ${r.status} ${r.text}`);
  return r.json.access_token as string;
}

const RESOURCES = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Alpha', given: ['Ann'] }], birthDate: '1970-01-01' },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Beta', given: ['Bob'] }] },
  { resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Doctor', given: ['Dana'] }] },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Observation', id: 'o-lab', status: 'final', category: [{ coding: [{ system: OBS, code: 'laboratory' }] }], code: { text: 'x' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Observation', id: 'o-vital', status: 'final', category: [{ coding: [{ system: OBS, code: 'vital-signs' }] }], code: { text: 'y' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' }, code: { text: 'z' } },
  { resourceType: 'Observation', id: 'o-p2', status: 'final', category: [{ coding: [{ system: OBS, code: 'laboratory' }] }], code: { text: 'w' }, subject: { reference: 'Patient/p2' } },
];

export async function seed(s: SmartServer, redirect: string): Promise<Fixture> {
  const deps = { db: s.db, config: s.config };
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-auth-'));
  const rs384 = await clientKey('RS384');
  const es384 = await clientKey('ES384');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [rs384.publicJwk, es384.publicJwk] }));
  await clientAdd(['--id', 'backend', '--jwks-file', jwksFile, '--scope', 'system/*.cruds'], deps);
  await clientAdd(['--id', 'reader', '--jwks-file', jwksFile, '--scope', 'system/Patient.rs system/Observation.rs'], deps);
  await clientAdd(['--id', 'conf', '--secret', SECRET, '--redirect-uri', redirect], deps);
  await clientAdd(['--id', 'public', '--redirect-uri', redirect], deps);
  await clientAdd(['--id', 'asym', '--jwks-file', jwksFile, '--redirect-uri', redirect], deps);
  await clientAdd(['--id', 'limited', '--secret', SECRET, '--redirect-uri', redirect, '--scope', 'openid fhirUser launch/patient offline_access patient/Patient.rs patient/Observation.rs'], deps);
  const totpSecret = generateSecret();
  await userAdd(['--username', 'doc', '--password', PASSWORD, '--role', 'clinician', '--fhir-user', 'Practitioner/dr1'], deps);
  await userAdd(['--username', 'pat', '--password', PASSWORD, '--role', 'patient', '--fhir-user', 'Patient/p1'], deps);
  await userAdd(['--username', 'otp', '--password', PASSWORD, '--role', 'clinician', '--fhir-user', 'Practitioner/dr1', '--totp-secret', totpSecret], deps);
  const token = await systemToken(s, 'backend', rs384, 'system/*.cruds');
  for (const r of RESOURCES) {
    const res = await fetch(`${s.fhirBase}/${r.resourceType}/${r.id}`, {
      method: 'PUT', body: JSON.stringify(r), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    });
    if (res.status >= 300) throw new Error(`seed ${r.resourceType}/${r.id}: ${res.status} ${await res.text()}`);
  }
  return { redirect, rs384, es384, totpSecret, systemToken: token };
}

export async function fhirGet(s: SmartServer, path: string, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${s.fhirBase}/${path}`, { headers: { accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, headers: res.headers };
}
