// `fhirgate launch --patient ID [--encounter ID] [--user U]` (../shared/CONTRACT.md): mint an EHR
// launch context; prints {"launch":"…"} for the app's launch URL `?iss=<FHIR base>&launch=…`.
// The context names resources the app reads at once (SMART App Launch 2.2 scopes-and-launch-context:
// `patient` "indicating that the app was launched in the context of FHIR Patient 123. If the app has any
// patient-level scopes, they will be scoped to Patient 123"): a patient not stored in the tenant (never
// written, deleted, or another tenant's), or an encounter not in that patient's compartment, is reported
// on stderr. It is still minted (exit 0, the contract's output unchanged): the contract mints a context for
// any id, and an operator may launch before the data is loaded; the app's reads then find nothing.
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { getUserByName } from '../store/auth-clients.js';
import { launchContextStored } from '../store/auth-sessions.js';
import { mintLaunch } from '../auth/launch.js';
import { parseFlags } from './auth-args.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export async function run(args: string[], deps: { db: Db; config: Config; tenant?: string; warn?: (line: string) => void }): Promise<Record<string, unknown>> {
  const warn = deps.warn ?? ((line: string) => void process.stderr.write(`warning: ${line}\n`));
  const { one } = parseFlags(args, { single: ['patient', 'encounter', 'user', 'tenant'] });
  if (!one.patient) throw new Error('--patient is required');
  if (!ID.test(one.patient)) throw new Error('--patient must be a FHIR id');
  if (one.encounter !== undefined && !ID.test(one.encounter)) throw new Error('--encounter must be a FHIR id');
  const tenant = one.tenant ?? deps.tenant ?? 'default';
  // Refusals first: a failed command prints its one error line on stderr, not a warning before it.
  if (one.user !== undefined && !(await getUserByName(deps.db, tenant, one.user))) throw new Error(`no user ${one.user}`);
  const stored = await launchContextStored(deps.db, tenant, one.patient, one.encounter);
  if (!stored.patient) warn(`no Patient/${one.patient} in tenant ${tenant} (never stored, or deleted)`);
  else if (!stored.encounter) warn(`no Encounter/${one.encounter} of Patient/${one.patient} in tenant ${tenant}`);
  const launch = await mintLaunch(deps.db, { tenant, patient: one.patient, encounter: one.encounter, username: one.user });
  return { launch };
}
