// What the signed-in user still has to do before an authorization code is issued (SMART App Launch
// 2.2 "Obtain authorization code"): sign in (and TOTP), pick a patient when the app asks for a
// patient context and the user is not a patient, then consent scope by scope; deny = access_denied.
import { getClient, type UserRecord } from '../../store/auth-clients.js';
import { createCode } from '../../store/auth-grants.js';
import { deletePending, listPatients, patientExists } from '../../store/auth-sessions.js';
import type { DbRole } from '../../store/session.js';
import type { CodeData } from '../issue.js';
import type { AuthRuntime } from '../runtime.js';
import { coveredBy, isKnownScope, parseResourceScope } from '../scopes.js';
import { randomToken, sha256 } from '../secrets.js';
import type { GrantData } from '../tokens.js';
import { errorRedirect, type AuthorizeRequest } from './request.js';

export type PendingFlow = AuthorizeRequest | { kind: 'launcher' };
export interface FlowState { otpUserId?: string; patient?: string; sso?: { verifier: string; state: string; nonce: string } }

export interface ConsentItem { scope: string; checked: boolean; narrower: string[] }
export type Step =
  | { kind: 'login' }
  | { kind: 'otp' }
  | { kind: 'patient'; patients: Array<{ id: string; label: string }> }
  | { kind: 'consent'; clientId: string; items: ConsentItem[]; patient?: string }
  | { kind: 'redirect'; location: string; refusal?: string }
  | { kind: 'error'; message: string; refusal: string };

function needsPatient(r: AuthorizeRequest): boolean {
  return !r.launch && (r.scopes.includes('launch/patient') || r.scopes.some((s) => s.startsWith('patient/')));
}

function ownPatient(u: UserRecord): string | undefined {
  return u.role === 'patient' && u.fhirUser?.startsWith('Patient/') ? u.fhirUser.slice('Patient/'.length) : undefined;
}

function patientLabel(content: string, id: string): string {
  try {
    const p = JSON.parse(content) as { name?: Array<{ text?: string; given?: string[]; family?: string }>; birthDate?: string };
    const n = p.name?.[0];
    const name = n?.text ?? [...(n?.given ?? []), n?.family ?? ''].join(' ').trim();
    return [name || id, p.birthDate, `(${id})`].filter(Boolean).join(' ');
  } catch {
    return id;
  }
}

/** The next step for this browser's pending request, given who is signed in. */
export async function nextStep(rt: AuthRuntime, flow: PendingFlow, state: FlowState, user: UserRecord | undefined): Promise<Step> {
  if (!user || (flow.kind === 'authorize' && flow.launch?.username && flow.launch.username !== user.username)) {
    return state.otpUserId ? { kind: 'otp' } : { kind: 'login' };
  }
  if (flow.kind === 'launcher') return { kind: 'redirect', location: `${rt.config.publicUrl}/auth/launcher` };
  const back = (d: string): Step => ({ kind: 'redirect', location: errorRedirect(flow.redirectUri, flow.state, 'access_denied', d), refusal: `access_denied: ${d}` });
  const client = await getClient(rt.db, user.tenant, flow.clientId);
  if (!client) return { kind: 'error', message: 'The application is no longer registered.', refusal: 'invalid_client: the client is no longer registered' };
  if (client.role && client.role !== 'system' && client.role !== user.role) return back(`this application is for ${client.role} users`);
  let patient = flow.launch?.patient ?? ownPatient(user) ?? state.patient;
  if (user.role === 'patient' && !ownPatient(user)) return back('this patient login is not linked to a Patient record');
  if (user.role === 'patient' && flow.launch && flow.launch.patient !== ownPatient(user)) return back('the launch is for another patient');
  if (!patient && needsPatient(flow)) {
    if (user.role !== 'clinician') return back(`a ${user.role} cannot select a patient`);
    const rows = await listPatients(rt.db, user.tenant, user.id, 500);
    return { kind: 'patient', patients: rows.map((r) => ({ id: r.id, label: patientLabel(r.content, r.id) })) };
  }
  return { kind: 'consent', clientId: client.id, items: consentItems(flow.scopes), patient };
}

export async function choosePatient(rt: AuthRuntime, user: UserRecord, id: string | undefined): Promise<boolean> {
  return !!id && /^[A-Za-z0-9\-.]{1,64}$/.test(id) && user.role === 'clinician' && patientExists(rt.db, user.tenant, user.id, id);
}

// Sub-resource scopes a user may grant instead of a whole type (US Core category codes).
const OBS = 'http://terminology.hl7.org/CodeSystem/observation-category';
const COND = 'http://terminology.hl7.org/CodeSystem/condition-category';
const USCORE = 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category';
const USCOND = 'http://hl7.org/fhir/us/core/CodeSystem/condition-category';
const CATEGORIES: Record<string, string[]> = {
  Observation: ['laboratory', 'vital-signs', 'social-history', 'survey', 'exam', 'imaging', 'procedure', 'therapy', 'activity']
    .map((c) => `${OBS}|${c}`).concat(`${USCORE}|sdoh`, `${USCORE}|functional-status`, `${USCORE}|disability-status`, `${USCORE}|cognitive-status`),
  Condition: [`${COND}|encounter-diagnosis`, `${COND}|problem-list-item`, `${USCOND}|health-concern`, `${USCORE}|sdoh`],
};

export function consentItems(scopes: string[]): ConsentItem[] {
  return scopes.map((scope) => {
    const p = parseResourceScope(scope);
    let narrower: string[] = [];
    if (p && p.constraints.length === 0 && CATEGORIES[p.type]) {
      const letters = ['r', 's'].filter((x) => p.perms.has(x as 'r' | 's')).join('');
      if (letters) narrower = CATEGORIES[p.type].map((cat) => `${p.context}/${p.type}.${letters}?category=${cat}`);
    }
    return { scope, checked: true, narrower };
  });
}

/**
 * Consent given (or denied): issue the single-use code and send the browser back to the app. A denial
 * comes back with its `refusal` (and the patient it concerned) for the AuditEvent.
 */
export async function finish(rt: AuthRuntime, pendingId: string, flow: AuthorizeRequest, state: FlowState, user: UserRecord, submitted: string[], deny: boolean): Promise<{ location: string; refusal?: string; patient?: string }> {
  if (!(await deletePending(rt.db, sha256(pendingId)))) throw new Error('this sign-in was already completed');
  const patient = flow.launch?.patient ?? ownPatient(user) ?? state.patient;
  const denied = (d: string) => ({ location: errorRedirect(flow.redirectUri, flow.state, 'access_denied', d), refusal: `access_denied: ${d}`, patient });
  if (deny) return denied('the user denied access');
  // Only what was asked for, or narrower (a sub-resource scope of a requested scope).
  const granted = [...new Set(submitted)].filter((s) => isKnownScope(s) && (flow.scopes.includes(s) || coveredBy(s, flow.scopes)));
  if (granted.length === 0) return denied('no scope was granted');
  const client = await getClient(rt.db, user.tenant, flow.clientId);
  const grant: GrantData = {
    tenant: user.tenant, clientId: flow.clientId, role: ((client?.role && client.role !== 'system' ? client.role : user.role) as DbRole), scopes: granted,
    userId: user.id, fhirUser: user.fhirUser, patient,
    encounter: flow.launch?.encounter, ehrLaunch: !!flow.launch, authTime: Math.floor(Date.now() / 1000),
  };
  const code = randomToken(32);
  const data: CodeData = { grant, redirectUri: flow.redirectUri, codeChallenge: flow.codeChallenge, nonce: flow.nonce };
  await createCode(rt.db, sha256(code), user.tenant, flow.clientId, data, rt.settings.codeSeconds);
  const u = new URL(flow.redirectUri);
  u.searchParams.set('code', code);
  if (flow.state !== undefined) u.searchParams.set('state', flow.state);
  return { location: u.toString() };
}
