// Sign-in through the hospital's OpenID Connect provider (/auth/sso/*) and the clinician's EHR
// launcher (/auth/launcher). The SSO round trip is tied to the pending request by a short-lived
// cookie and checked with state, nonce and PKCE; the launcher only sends browsers to the origin of
// a registered redirect URI, so it is no open redirect.
import express, { type Express } from 'express';
import { mintLaunch } from '../auth/launch.js';
import type { AuthRuntime } from '../auth/runtime.js';
import { sha256 } from '../auth/secrets.js';
import { allRedirectUris, getUserByName } from '../store/auth-clients.js';
import { listPatients, patientExists, updatePendingState } from '../store/auth-sessions.js';
import { launcherPage } from './pages/launcher.js';
import { errorPage } from './pages/login.js';
import { auditSignIn, page, startPending, startSession } from './smart-flow-routes.js';
import { cookies, html, params, pendingOf, redirect, sessionUser, setCookie } from './smart-http.js';

const SSO_COOKIE = 'fhirgate_sso';

export function mountSsoAndLauncher(app: Express, rt: AuthRuntime): void {
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  app.post('/auth/sso/start', form, page(async (req, res) => {
    const b = params(req.body);
    const p = await pendingOf(rt, req, b.req);
    if (!rt.federation || !p) return html(res, 400, errorPage('Single sign-on is not available for this request.'));
    const s = await rt.federation.start();
    await updatePendingState(rt.db, sha256(p.id), { ...p.state, sso: { verifier: s.verifier, state: s.state, nonce: s.nonce } });
    setCookie(rt, res, SSO_COOKIE, p.id, { maxAge: 600, path: '/auth/sso' });
    redirect(res, s.url);
  }));

  app.get('/auth/sso/callback', page(async (req, res) => {
    const p = await pendingOf(rt, req, cookies(req)[SSO_COOKIE]);
    if (!rt.federation || !p?.state.sso) return html(res, 400, errorPage('This sign-in has expired. Start again from the application.'));
    setCookie(rt, res, SSO_COOKIE, '', { maxAge: 0, path: '/auth/sso' });
    let username: string;
    try {
      username = await rt.federation.finish(new URL(req.originalUrl, rt.config.publicUrl), p.state.sso);
    } catch {
      await auditSignIn(rt, req, p, { failed: 'single sign-on not confirmed by the provider' });
      return html(res, 401, errorPage('The single sign-on provider did not confirm who you are.'));
    }
    const user = await getUserByName(rt.db, p.tenant, username);
    if (!user) await auditSignIn(rt, req, p, { failed: 'single sign-on account has no login', username });
    if (!user) return html(res, 403, errorPage('Your hospital account has no login on this server. Ask an administrator.'));
    await auditSignIn(rt, req, p, { user, via: 'single sign-on' });
    await updatePendingState(rt.db, sha256(p.id), { ...p.state, sso: undefined, otpUserId: undefined });
    await startSession(rt, res, user);
    redirect(res, `/auth/flow?req=${encodeURIComponent(p.id)}`);
  }));

  app.get('/auth/launcher', page(async (req, res) => {
    const s = await sessionUser(rt, req);
    if (!s) return redirect(res, `/auth/flow?req=${encodeURIComponent(await startPending(rt, req, res, { kind: 'launcher' }))}`);
    if (s.user.role !== 'clinician') return html(res, 403, errorPage('Only clinicians can launch apps for a patient.'));
    const patients = await listPatients(rt.db, s.user.tenant, s.user.id, 500);
    html(res, 200, launcherPage({ csrf: sha256(`${s.sid}:launcher`), username: s.user.username, patients: patients.map((x) => ({ id: x.id, label: x.id })) }));
  }));

  app.post('/auth/launcher', form, page(async (req, res) => {
    const s = await sessionUser(rt, req);
    const b = params(req.body);
    if (!s || b.csrf !== sha256(`${s.sid}:launcher`) || s.user.role !== 'clinician') return html(res, 403, errorPage('Sign in again to launch an app.'));
    let target: URL;
    try {
      target = new URL(b.launch_url ?? '');
    } catch {
      return html(res, 400, errorPage('The launch URL is not a URL.'));
    }
    const origins = new Set((await allRedirectUris(rt.db, s.user.tenant)).map((u) => { try { return new URL(u).origin; } catch { return ''; } }));
    if (!origins.has(target.origin)) return html(res, 400, errorPage('The launch URL is not on the site of a registered application.'));
    if (!b.patient || !(await patientExists(rt.db, s.user.tenant, s.user.id, b.patient))) return html(res, 400, errorPage('Choose a patient.'));
    const launch = await mintLaunch(rt.db, { tenant: s.user.tenant, patient: b.patient, encounter: b.encounter || undefined, username: s.user.username }, rt.settings.launchSeconds);
    target.searchParams.set('iss', rt.fhirBase);
    target.searchParams.set('launch', launch);
    redirect(res, target.toString());
  }));
}
