// `fhirgate user add --username U --password P --role clinician|patient|researcher|auditor|admin
// [--fhir-user Patient/ID|Practitioner/ID] [--totp-secret BASE32]` (../shared/CONTRACT.md):
// create or replace a login; the password is stored as scrypt, never in clear.
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { upsertUser } from '../store/auth-clients.js';
import { hashSecret } from '../auth/passwords.js';
import { randomToken } from '../auth/secrets.js';
import { parseFlags } from './auth-args.js';

const ROLES = ['clinician', 'patient', 'researcher', 'auditor', 'admin'];

export async function run(args: string[], deps: { db: Db; config: Config; tenant?: string }): Promise<Record<string, unknown>> {
  const { one } = parseFlags(args, { single: ['username', 'password', 'role', 'fhir-user', 'totp-secret', 'tenant'] });
  const { username, password, role } = one;
  if (!username || username.length > 128) throw new Error('--username is required');
  if (!password) throw new Error('--password is required');
  if (!role || !ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const fhirUser = one['fhir-user'];
  if (fhirUser !== undefined && !/^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)\/[A-Za-z0-9\-.]{1,64}$/.test(fhirUser)) {
    throw new Error('--fhir-user must be Patient/ID or Practitioner/ID');
  }
  if (role === 'patient' && !fhirUser?.startsWith('Patient/')) throw new Error('a patient login needs --fhir-user Patient/ID');
  const totp = one['totp-secret']?.replace(/\s+/g, '').toUpperCase();
  if (totp !== undefined && !/^[A-Z2-7]{16,}=*$/.test(totp)) throw new Error('--totp-secret must be base32 (at least 16 characters)');
  const tenant = one.tenant ?? deps.tenant ?? 'default';
  const u = await upsertUser(deps.db, {
    tenant, id: randomToken(12), username, passwordHash: await hashSecret(password), role, fhirUser, totpSecret: totp,
  });
  return { user: u.username, id: u.id, tenant, role: u.role, ...(u.fhirUser ? { fhirUser: u.fhirUser } : {}), totp: !!u.totpSecret };
}
