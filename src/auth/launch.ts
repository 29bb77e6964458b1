// EHR launch contexts (SMART App Launch 2.2 "EHR launch"): an opaque `launch` value bound to a
// patient, optionally an encounter and a user, handed to the app as `?iss=<FHIR base>&launch=…`
// and presented back in its authorization request. Stored as a hash; valid for an hour.
import type { Db } from '../store/session.js';
import { createLaunch } from '../store/auth-sessions.js';
import { randomToken, sha256 } from './secrets.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export async function mintLaunch(db: Db, l: { tenant: string; patient: string; encounter?: string; username?: string }, seconds = 3600): Promise<string> {
  if (!ID.test(l.patient)) throw new Error('patient must be a FHIR id');
  if (l.encounter !== undefined && !ID.test(l.encounter)) throw new Error('encounter must be a FHIR id');
  const launch = randomToken(24);
  await createLaunch(db, sha256(launch), l, seconds);
  return launch;
}
