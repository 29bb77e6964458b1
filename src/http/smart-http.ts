// HTTP helpers shared by the SMART routes: form/query parameters, cookies (HttpOnly, SameSite=Lax,
// Secure on https), HTML responses with a no-script CSP, OAuth error responses, the browser's
// session user and its pending authorization request (bound to this browser by a cookie).
import type { Request, Response } from 'express';
import { OAuthError, invalidRequest } from '../auth/oauth-error.js';
import type { AuthRuntime } from '../auth/runtime.js';
import { randomToken, sha256 } from '../auth/secrets.js';
import type { FlowState, PendingFlow } from '../auth/authorize/flow.js';
import { getUserById, type UserRecord } from '../store/auth-clients.js';
import { getPending, touchSession } from '../store/auth-sessions.js';
import { PAGE_CSP, esc } from './pages/layout.js';
import { log } from '../log.js';
import { CONTROL } from '../fhir/validation/control-chars.js';

export const SESSION_COOKIE = 'fhirgate_sid';
export const BROWSER_COOKIE = 'fhirgate_b';

/** Single-valued parameters; a repeated one is invalid_request (RFC 6749 §3.1). */
export function params(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((source ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(v)) throw invalidRequest(`parameter ${k} is repeated`);
    // A NUL in client_id reached PostgreSQL (error 22021) and came back as a 500.
    if (typeof v === 'string' && CONTROL.test(v)) throw invalidRequest(`parameter ${k.replace(CONTROL, '?')} holds a control character`);
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** All values of a (possibly repeated) form field. */
export function many(source: unknown, name: string): string[] {
  const v = (source as Record<string, unknown> | undefined)?.[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

export function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    // A cookie the client edited (bad percent-encoding, a control character) is no cookie of ours.
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      continue;
    }
    if (!CONTROL.test(value)) out[part.slice(0, eq).trim()] = value;
  }
  return out;
}

export function setCookie(rt: AuthRuntime, res: Response, name: string, value: string, o: { maxAge?: number; path?: string } = {}): void {
  const secure = rt.config.publicUrl.startsWith('https:') ? '; Secure' : '';
  const age = o.maxAge !== undefined ? `; Max-Age=${o.maxAge}` : '';
  res.append('Set-Cookie', `${name}=${encodeURIComponent(value)}; Path=${o.path ?? '/auth'}; HttpOnly; SameSite=Lax${secure}${age}`);
}

/** The browser-binding cookie, created on first use. */
export function browserId(rt: AuthRuntime, req: Request, res: Response): string {
  let b = cookies(req)[BROWSER_COOKIE];
  if (!b || !/^[A-Za-z0-9_-]{43}$/.test(b)) {
    b = randomToken(32);
    setCookie(rt, res, BROWSER_COOKIE, b);
  }
  return b;
}

export function html(res: Response, status: number, body: string): void {
  res.status(status).set({
    'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store', Pragma: 'no-cache', 'Referrer-Policy': 'no-referrer', 'X-Content-Type-Options': 'nosniff',
  }).send(body);
}

export function redirect(res: Response, location: string): void {
  res.status(303).set({ Location: location, 'Cache-Control': 'no-store' }).send(`See <a href="${esc(location)}">${esc(location)}</a>`);
}

export function noStore(res: Response): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

export function cors(res: Response): void {
  res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept', 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Max-Age': '600' });
}

/** OAuth errors as RFC 6749 §5.2 JSON; anything else is a logged 500 server_error. */
export function oauthFailure(res: Response, e: unknown): void {
  noStore(res);
  if (e instanceof OAuthError) {
    res.status(e.status).set(e.headers).json(e.body());
    return;
  }
  log.error({ err: (e as Error).message }, 'authorization server error');
  res.status(500).json({ error: 'server_error', error_description: 'internal error' });
}

export async function sessionUser(rt: AuthRuntime, req: Request): Promise<{ user: UserRecord; sid: string } | undefined> {
  const sid = cookies(req)[SESSION_COOKIE];
  if (!sid) return undefined;
  const s = await touchSession(rt.db, sha256(sid), rt.settings.sessionIdleSeconds);
  if (!s) return undefined;
  const user = await getUserById(rt.db, s.tenant, s.userId);
  return user ? { user, sid } : undefined;
}

export interface Pending { id: string; flow: PendingFlow; state: FlowState; tenant: string }

/** The pending request named by `req`, only in the browser that started it. */
export async function pendingOf(rt: AuthRuntime, req: Request, id: string | undefined): Promise<Pending | undefined> {
  if (!id || id.length > 100) return undefined;
  const p = await getPending<PendingFlow, FlowState>(rt.db, sha256(id));
  const b = cookies(req)[BROWSER_COOKIE];
  if (!p || !b || p.browser !== sha256(b)) return undefined;
  return { id, flow: p.request, state: p.state ?? {}, tenant: p.tenant };
}
