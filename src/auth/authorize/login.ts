// Password and TOTP sign-in with throttling (OWASP Authentication: slow down, then lock): after
// `slowAfter` failures each attempt waits longer; at `lockAfter` the username is locked for
// `lockSeconds` and no password is even checked. Unknown usernames are treated alike, so responses
// do not reveal which usernames exist.
import { verify as verifyTotp } from 'otplib';
import { clearFailures, getUserByName, lockState, recordFailure, useTotpStep, type UserRecord } from '../../store/auth-clients.js';
import { dummyHash, verifySecret } from '../passwords.js';
import type { AuthRuntime } from '../runtime.js';

export type LoginResult =
  | { kind: 'ok'; user: UserRecord }
  | { kind: 'otp'; user: UserRecord }
  | { kind: 'failed'; message: string; reason: FailReason };

/** Why a sign-in failed, for the audit event (the message is for the person at the keyboard). */
export type FailReason = 'incomplete' | 'locked' | 'password' | 'totp';

const LOCKED = 'Too many failed sign-ins: this account is locked for a while. Try again later.';
const FAILED = 'The username or password is not correct.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function throttle(rt: AuthRuntime, tenant: string, username: string): Promise<string | undefined> {
  const s = await lockState(rt.db, tenant, username);
  if (s.lockedSeconds > 0) return LOCKED;
  const over = s.failures - rt.settings.slowAfter + 1;
  if (over > 0) await sleep(Math.min(rt.settings.slowStepMs * over, 5000));
  return undefined;
}

async function fail(rt: AuthRuntime, tenant: string, username: string, message: string, reason: FailReason): Promise<LoginResult> {
  const s = await recordFailure(rt.db, tenant, username, rt.settings.lockAfter, rt.settings.lockSeconds);
  return s.lockedSeconds > 0 ? { kind: 'failed', message: LOCKED, reason: 'locked' } : { kind: 'failed', message, reason };
}

/** A valid code for the user's secret (±30 s), never one whose time step was already accepted (RFC 6238 §5.2). */
export async function checkTotp(rt: AuthRuntime, user: UserRecord, otp: string | undefined): Promise<boolean> {
  if (!user.totpSecret || !otp || !/^\d{6}$/.test(otp.trim())) return false;
  try {
    const r = await verifyTotp({ secret: user.totpSecret, token: otp.trim(), epochTolerance: 30 });
    if (!r.valid || !('epoch' in r)) return false;
    return await useTotpStep(rt.db, user.tenant, user.id, Math.floor(r.epoch / 30));
  } catch {
    return false;
  }
}

export async function passwordLogin(rt: AuthRuntime, tenant: string, username: string, password: string, otp?: string): Promise<LoginResult> {
  if (!username || !password) return { kind: 'failed', message: 'Enter a username and a password.', reason: 'incomplete' };
  const locked = await throttle(rt, tenant, username);
  if (locked) return { kind: 'failed', message: locked, reason: 'locked' };
  const user = await getUserByName(rt.db, tenant, username);
  const ok = await verifySecret(password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !ok) return fail(rt, tenant, username, FAILED, 'password');
  if (user.totpSecret) {
    if (otp === undefined || otp === '') return { kind: 'otp', user };
    if (!(await checkTotp(rt, user, otp))) return fail(rt, tenant, username, 'The one-time code is not correct.', 'totp');
  }
  await clearFailures(rt.db, tenant, username);
  return { kind: 'ok', user };
}

/** Second step for users with TOTP, after the password was accepted. */
export async function otpLogin(rt: AuthRuntime, user: UserRecord, otp: string | undefined): Promise<LoginResult> {
  const locked = await throttle(rt, user.tenant, user.username);
  if (locked) return { kind: 'failed', message: locked, reason: 'locked' };
  if (!(await checkTotp(rt, user, otp))) return fail(rt, user.tenant, user.username, 'The one-time code is not correct.', 'totp');
  await clearFailures(rt.db, user.tenant, user.username);
  return { kind: 'ok', user };
}
