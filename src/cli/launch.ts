// `fhirgate launch --patient ID [--encounter ID] [--user U]` (../shared/CONTRACT.md): mint an EHR
// launch context; prints {"launch":"…"} for the app's launch URL `?iss=<FHIR base>&launch=…`.
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { getUserByName } from '../store/auth-clients.js';
import { mintLaunch } from '../auth/launch.js';
import { parseFlags } from './auth-args.js';

export async function run(args: string[], deps: { db: Db; config: Config; tenant?: string }): Promise<Record<string, unknown>> {
  const { one } = parseFlags(args, { single: ['patient', 'encounter', 'user', 'tenant'] });
  if (!one.patient) throw new Error('--patient is required');
  const tenant = one.tenant ?? deps.tenant ?? 'default';
  if (one.user !== undefined && !(await getUserByName(deps.db, tenant, one.user))) throw new Error(`no user ${one.user}`);
  const launch = await mintLaunch(deps.db, { tenant, patient: one.patient, encounter: one.encounter, username: one.user });
  return { launch };
}
