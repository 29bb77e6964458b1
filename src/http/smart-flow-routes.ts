// The browser side of the authorization server (SMART App Launch 2.2 "Obtain authorization code"):
// /auth/authorize (GET and POST) validates and parks the request, then /auth/flow shows whichever
// page is next — sign-in, TOTP, patient picker, consent — each form posting back and redirecting
// (303) to /auth/flow until the code goes back to the app. Every refusal answered here (error page or
// error redirect, the user's deny, a failed or locked sign-in) leaves one AuditEvent.
import express, { type Express, type Request, type Response } from 'express';
import { checkAuthorizeRequest } from '../auth/authorize/request.js';
import { choosePatient, finish, nextStep, type FlowState } from '../auth/authorize/flow.js';
import { otpLogin, passwordLogin } from '../auth/authorize/login.js';
import type { AuthRuntime } from '../auth/runtime.js';
import { randomToken, sha256 } from '../auth/secrets.js';
import { getUserById, type UserRecord } from '../store/auth-clients.js';
import { createPending, createSession, deletePending, deleteSession, updatePendingState } from '../store/auth-sessions.js';
import { consentPage, patientPage } from './pages/consent.js';
import { errorPage, loginPage, otpPage } from './pages/login.js';
import { browserId, html, many, params, pendingOf, redirect, SESSION_COOKIE, sessionUser, setCookie, type Pending } from './smart-http.js';
import { log } from '../log.js';
import { authActor, recordAuthEvent, tryRecordAuthEvent } from '../auth/auth-audit.js';
import { auditAuthorizeRefusal, type AuthorizeRefusal } from '../auth/authorize/audit.js';

type Handler = (req: Request, res: Response) => Promise<void>;

/** Wraps a page handler: a thrown error becomes an error page, never a stack trace or a redirect. */
export function page(fn: Handler): Handler {
  return async (req, res) => {
    try {
      await fn(req, res);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'sign-in page error');
      html(res, 400, errorPage((e as Error).message.startsWith('this sign-in') ? (e as Error).message : 'The request could not be processed.'));
    }
  };
}

export async function startSession(rt: AuthRuntime, res: Response, user: UserRecord): Promise<void> {
  const sid = randomToken(32);
  await createSession(rt.db, sha256(sid), user.tenant, user.id);
  setCookie(rt, res, SESSION_COOKIE, sid);
}

/**
 * The sign-in's AuditEvent (DCM 110114 / 110122 Login): who (the user, else the name typed), for which
 * app, from where. A success must be recorded before the session starts; a failure is recorded best-effort.
 */
export async function auditSignIn(rt: AuthRuntime, req: Request, p: Pending, r: { user: UserRecord; via?: string } | { failed: string; username?: string; user?: UserRecord }): Promise<void> {
  const clientId = p.flow.kind === 'authorize' ? p.flow.clientId : undefined;
  const u = r.user;
  const actor = authActor(p.tenant, {
    clientId, address: req.ip, role: u?.role, userId: u?.id, fhirUser: u?.fhirUser,
    username: u?.username ?? ('username' in r ? r.username?.slice(0, 128) || undefined : undefined),
  });
  if ('failed' in r) return tryRecordAuthEvent(rt, { kind: 'login', status: 401, reason: `sign-in failed: ${r.failed}`, actor });
  await recordAuthEvent(rt, { kind: 'login', status: 200, reason: `signed in with ${r.via ?? 'password'}`, actor });
}

/** A refusal on these pages: its AuditEvent (auth/authorize/audit.ts), with the caller's address and X-Request-Id. */
function refused(rt: AuthRuntime, req: Request, r: Omit<AuthorizeRefusal, 'address' | 'requestId'>): Promise<void> {
  const id = req.headers['x-request-id'];
  return auditAuthorizeRefusal(rt, { ...r, address: req.ip, requestId: typeof id === 'string' ? id : undefined });
}

const flowUrl = (id: string) => `/auth/flow?req=${encodeURIComponent(id)}`;
const expired = 'This sign-in has expired or was started in another browser. Start again from the application.';

export async function startPending(rt: AuthRuntime, req: Request, res: Response, flow: unknown): Promise<string> {
  const id = randomToken(32);
  await createPending(rt.db, sha256(id), rt.tenant, sha256(browserId(rt, req, res)), flow, rt.settings.pendingSeconds);
  return id;
}

async function show(rt: AuthRuntime, req: Request, res: Response, p: Pending, user: UserRecord | undefined, error?: string): Promise<void> {
  const step = await nextStep(rt, p.flow, p.state, user);
  if ((step.kind === 'redirect' && step.refusal) || step.kind === 'error') {
    const clientId = p.flow.kind === 'authorize' ? p.flow.clientId : undefined;
    await refused(rt, req, { tenant: p.tenant, status: step.kind === 'error' ? 400 : 303, reason: step.refusal ?? '', clientId, user });
  }
  switch (step.kind) {
    case 'login':
      return html(res, error ? 401 : 200, loginPage({ req: p.id, error, ssoLabel: rt.federation?.settings.label, appName: p.flow.kind === 'authorize' ? p.flow.clientId : undefined }));
    case 'otp':
      return html(res, error ? 401 : 200, otpPage({ req: p.id, error }));
    case 'patient':
      return html(res, error ? 400 : 200, patientPage({ req: p.id, patients: step.patients, error }));
    case 'consent':
      return html(res, 200, consentPage({ req: p.id, clientId: step.clientId, items: step.items, patient: step.patient }));
    case 'redirect':
      await deletePending(rt.db, sha256(p.id));
      return redirect(res, step.location);
    case 'error':
      return html(res, 400, errorPage(step.message));
  }
}

export function mountFlow(app: Express, rt: AuthRuntime): void {
  const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 500 });

  const authorize = page(async (req, res) => {
    const p = params(req.method === 'GET' ? req.query : req.body);
    const checked = await checkAuthorizeRequest(rt, rt.tenant, p);
    if (checked.kind !== 'ok') await refused(rt, req, { tenant: rt.tenant, status: checked.kind === 'page' ? 400 : 303, reason: checked.refusal, clientId: checked.clientId });
    if (checked.kind === 'page') return html(res, 400, errorPage(checked.message));
    if (checked.kind === 'redirect') return redirect(res, checked.location);
    redirect(res, flowUrl(await startPending(rt, req, res, checked.request)));
  });
  app.get('/auth/authorize', authorize);
  app.post('/auth/authorize', form, authorize);

  app.get('/auth/flow', page(async (req, res) => {
    const p = await pendingOf(rt, req, typeof req.query.req === 'string' ? req.query.req : undefined);
    if (!p) return html(res, 400, errorPage(expired));
    await show(rt, req, res, p, (await sessionUser(rt, req))?.user);
  }));

  app.post('/auth/login', form, page(async (req, res) => {
    const b = params(req.body);
    const p = await pendingOf(rt, req, b.req);
    if (!p) return html(res, 400, errorPage(expired));
    const r = await passwordLogin(rt, p.tenant, b.username ?? '', b.password ?? '', b.otp);
    if (r.kind === 'failed') await auditSignIn(rt, req, p, { failed: r.reason, username: b.username });
    if (r.kind === 'failed') return show(rt, req, res, { ...p, state: { ...p.state, otpUserId: undefined } }, undefined, r.message);
    const state: FlowState = { ...p.state, otpUserId: r.kind === 'otp' ? r.user.id : undefined };
    await updatePendingState(rt.db, sha256(p.id), state);
    if (r.kind === 'ok') await auditSignIn(rt, req, p, { user: r.user, via: b.otp ? 'password and one-time code' : 'password' });
    if (r.kind === 'ok') await startSession(rt, res, r.user);
    redirect(res, flowUrl(p.id));
  }));

  app.post('/auth/otp', form, page(async (req, res) => {
    const b = params(req.body);
    const p = await pendingOf(rt, req, b.req);
    if (!p || !p.state.otpUserId) return html(res, 400, errorPage(expired));
    const user = await getUserById(rt.db, p.tenant, p.state.otpUserId);
    if (!user) return html(res, 400, errorPage(expired));
    const r = await otpLogin(rt, user, b.otp);
    if (r.kind === 'failed') await auditSignIn(rt, req, p, { failed: r.reason, user });
    if (r.kind !== 'ok') return show(rt, req, res, p, undefined, r.kind === 'failed' ? r.message : undefined);
    await auditSignIn(rt, req, p, { user, via: 'password and one-time code' });
    await updatePendingState(rt.db, sha256(p.id), { ...p.state, otpUserId: undefined });
    await startSession(rt, res, user);
    redirect(res, flowUrl(p.id));
  }));

  app.post('/auth/patient', form, page(async (req, res) => {
    const b = params(req.body);
    const p = await pendingOf(rt, req, b.req);
    const s = await sessionUser(rt, req);
    if (!p) return html(res, 400, errorPage(expired));
    if (!s) return show(rt, req, res, p, undefined);
    if (!(await choosePatient(rt, s.user, b.patient))) return show(rt, req, res, p, s.user, 'Choose a patient from the list.');
    await updatePendingState(rt.db, sha256(p.id), { ...p.state, patient: b.patient });
    redirect(res, flowUrl(p.id));
  }));

  app.post('/auth/consent', form, page(async (req, res) => {
    const p = await pendingOf(rt, req, typeof req.body?.req === 'string' ? req.body.req : undefined);
    const s = await sessionUser(rt, req);
    if (!p || p.flow.kind !== 'authorize') return html(res, 400, errorPage(expired));
    // Consent counts only when every earlier step is done (a forged post cannot skip sign-in).
    const step = await nextStep(rt, p.flow, p.state, s?.user);
    if (!s || step.kind !== 'consent') return show(rt, req, res, p, s?.user);
    const done = await finish(rt, p.id, p.flow, p.state, s.user, many(req.body, 'scope'), req.body?.deny !== undefined);
    if (done.refusal) await refused(rt, req, { tenant: p.tenant, status: 303, reason: done.refusal, clientId: p.flow.clientId, user: s.user, patient: done.patient });
    redirect(res, done.location);
  }));

  app.post('/auth/logout', form, page(async (req, res) => {
    const s = await sessionUser(rt, req);
    if (s) await deleteSession(rt.db, sha256(s.sid));
    if (s) {
      const u = s.user;
      await tryRecordAuthEvent(rt, { kind: 'logout', status: 200, actor: authActor(u.tenant, { role: u.role, userId: u.id, fhirUser: u.fhirUser, username: u.username, address: req.ip }) });
    }
    setCookie(rt, res, SESSION_COOKIE, '', { maxAge: 0 });
    html(res, 200, errorPage('You are signed out.'));
  }));
}
