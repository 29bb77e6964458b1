// The SMART authorization server's HTTP surface (SMART App Launch 2.2, SMART Backend Services):
// discovery (/fhir/.well-known/smart-configuration, /fhir/.well-known/openid-configuration),
// JWKS, smart_style_url, and the JSON endpoints token / introspect / revoke (form bodies in,
// RFC 6749 JSON out, Cache-Control: no-store), plus the browser pages (smart-flow-routes.ts).
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { startAuthRuntime, type AuthRuntime } from '../auth/runtime.js';
import type { AuthSettings } from '../auth/settings.js';
import { openidConfiguration, smartConfiguration } from '../auth/smart-configuration.js';
import { tokenRequest } from '../auth/token-endpoint.js';
import { introspect, revoke } from '../auth/introspect.js';
import { invalidRequest } from '../auth/oauth-error.js';
import { authActor, claimedClient, refusalOf, tryRecordAuthEvent } from '../auth/auth-audit.js';
import { cors, noStore, oauthFailure, params } from './smart-http.js';
import { mountFlow } from './smart-flow-routes.js';
import { mountSsoAndLauncher } from './smart-sso-routes.js';

const STYLE = {
  color_background: '#edeae3', color_error: '#9e2d2d', color_highlight: '#69b5ce', color_modal_backdrop: '',
  color_success: '#498e49', color_text: '#303030', dim_border_radius: '6px', dim_font_size: '13px', dim_spacing_size: '20px',
  font_family_body: "Georgia, Times, 'Times New Roman', serif", font_family_heading: "'HelveticaNeue-Light', Helvetica, Arial, sans-serif",
};

function json(res: Response, body: unknown, cache = 'public, max-age=300'): void {
  cors(res);
  res.status(200).set({ 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': cache }).send(JSON.stringify(body));
}

/** Mounts every /auth route and the two discovery documents; returns the runtime verifyBearer needs. */
export async function mountSmart(app: Express, deps: { db: Db; config: Config; settings?: Partial<AuthSettings> }): Promise<AuthRuntime> {
  const rt = await startAuthRuntime(deps);
  mountSmartRoutes(app, rt);
  return rt;
}

/**
 * The same with a runtime made beforehand (createAuthRuntime), for synchronous mount lists: until
 * rt.start() has completed (after migrations), these endpoints answer 503.
 */
export function mountSmartRoutes(app: Express, rt: AuthRuntime): void {
  app.use(['/auth', '/fhir/.well-known'], (_req: Request, res: Response, next: NextFunction) => {
    if (rt.isReady()) return next();
    res.status(503).set({ 'Retry-After': '1', 'Cache-Control': 'no-store' }).json({ error: 'temporarily_unavailable', error_description: 'starting' });
  });
  const smart = smartConfiguration(rt.config);
  const openid = openidConfiguration(rt.config);

  app.get('/fhir/.well-known/smart-configuration', (_req, res) => json(res, smart));
  app.get('/fhir/.well-known/openid-configuration', (_req, res) => json(res, openid));
  app.get('/auth/jwks', (_req, res) => json(res, rt.keys.publicJwks(), 'public, max-age=300'));
  app.get('/auth/smart-style.json', (_req, res) => json(res, STYLE));
  app.options(['/fhir/.well-known/smart-configuration', '/fhir/.well-known/openid-configuration', '/auth/jwks', '/auth/smart-style.json',
    '/auth/token', '/auth/introspect', '/auth/revoke'], (_req, res) => {
    cors(res);
    res.status(204).end();
  });

  const parseForm = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 100 });
  // A body the parser refuses (too large, too many parameters, an unknown charset, bad gzip) is the OAuth
  // error RFC 6749 §5.2 defines, invalid_request as JSON with no-store, not the FHIR API's OperationOutcome.
  const form = (req: Request, res: Response, next: (err?: unknown) => void) => parseForm(req, res, (err?: unknown) => {
    if (!err) return next();
    cors(res);
    oauthFailure(res, invalidRequest('the request body could not be read as a form'));
  });
  const endpoint = (fn: (req: Request, body: Record<string, string>) => Promise<unknown>) => async (req: Request, res: Response) => {
    cors(res);
    try {
      if (!req.is('application/x-www-form-urlencoded')) throw invalidRequest('the body must be application/x-www-form-urlencoded');
      const out = await fn(req, params(req.body));
      noStore(res);
      if (out === undefined) res.status(200).end();
      else res.status(200).json(out);
    } catch (e) {
      oauthFailure(res, e);
    }
  };
  // Introspection and revocation calls are audited too (who asked, from where, answered how; never the token).
  const audited = (kind: 'token-introspect' | 'token-revoke', fn: (req: Request, b: Record<string, string>) => Promise<Record<string, unknown> | void>) =>
    async (req: Request, b: Record<string, string>) => {
      const actor = authActor(rt.tenant, { clientId: claimedClient(req.headers.authorization, b), address: req.ip });
      try {
        const out = await fn(req, b);
        await tryRecordAuthEvent(rt, { kind, status: 200, actor, reason: out && 'active' in out ? `active=${String(out.active)}` : undefined });
        return out;
      } catch (e) {
        await tryRecordAuthEvent(rt, { kind, actor, ...refusalOf(e) });
        throw e;
      }
    };
  app.post('/auth/token', form, endpoint((req, b) => tokenRequest(rt, rt.tenant, req.headers.authorization, b, req.ip)));
  app.post('/auth/introspect', form, endpoint(audited('token-introspect', (req, b) => introspect(rt, rt.tenant, req.headers.authorization, b))));
  app.post('/auth/revoke', form, endpoint(audited('token-revoke', (req, b) => revoke(rt, rt.tenant, req.headers.authorization, b))));

  mountFlow(app, rt);
  mountSsoAndLauncher(app, rt);
}
