// The HTTP application: middleware in one readable order. Health, CORS, SMART endpoints, then the FHIR
// API: refuse a declared oversize body → read body (read-body.ts) → negotiate → authenticate → FhirRequest → dispatch → send. Errors end in one handler.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import type { Logger } from '../log.js';
import type { AuthContext } from '../auth/context.js';
import type { Services } from '../fhir/services.js';
import type { FhirRequest } from '../fhir/types.js';
import { developmentContext, anonymousContext } from '../auth/context.js';
import { auditRefused, dispatch } from '../fhir/dispatch.js';
import { refusedRequest, toFhirRequest } from './fhir-request.js';
import { send } from './fhir-response.js';
import { negotiate } from './negotiate.js';
import { errorMiddleware, noSuchEndpoint } from './error-middleware.js';
import { refuseDeclaredOversize, requireHost } from './request-guards.js';
import { readBody } from './read-body.js';
import { cors } from './cors.js';
import { withAllow } from './allow.js';
import { FhirError, unauthorized } from '../errors.js';
import { authActor, tryRecordAuthEvent } from '../auth/auth-audit.js';

export interface AppDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** Readiness: migrations applied and the database answering. */
  ready: () => Promise<boolean>;
  /** Bearer verification for /fhir (absent only with AUTH=off). */
  authenticate?: (authorization: string | undefined, address: string | undefined) => Promise<AuthContext>;
  /** Extra routers mounted before the FHIR API (SMART endpoints, pages). */
  mounts?: Array<(app: Express) => void>;
}

/** FHIR URLs that need no token (CONTRACT.md "FHIR API"). */
function isPublic(path: string): boolean {
  return path === '/metadata' || path.startsWith('/.well-known/');
}

/**
 * Bearer verification. A refusal (401: no, malformed, expired, revoked token) happens before dispatch,
 * so it is audited here (IHE ITI-72 Incorporate Access Token, outcome 4) in its own short transaction
 * under tenant 'default', role 'system'; the caller is unknown, so the event names its address. An audit
 * failure is logged and the 401 still answered. The success path does no extra work.
 */
async function authenticate(deps: AppDeps, req: Request): Promise<AuthContext> {
  try {
    if (!deps.authenticate) throw unauthorized('no authorization server is configured');
    return await deps.authenticate(req.headers.authorization, req.ip);
  } catch (e) {
    const status = e instanceof FhirError ? e.status : 500;
    const requestId = req.headers['x-request-id'];
    await tryRecordAuthEvent(deps, {
      kind: 'bearer-refusal', status, reason: `${status} ${e instanceof FhirError ? e.message : 'internal error'}; ${req.method} ${req.baseUrl}${req.path}`.slice(0, 300),
      requestId: typeof requestId === 'string' ? requestId.slice(0, 200) : undefined,
      actor: authActor('default', { address: req.ip }),
    });
    throw e;
  }
}

export function createApp(deps: AppDeps): Express {
  const { config, db, log } = deps;
  const svc: Services = { db, config };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', 'loopback');
  app.use(requireHost);
  app.get('/healthz', async (_req, res) => {
    const ok = await deps.ready();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'starting' });
  });
  app.use(cors);
  for (const mount of deps.mounts ?? []) mount(app);

  const fhir = express.Router();
  fhir.use(refuseDeclaredOversize(config.maxBodyBytes));
  fhir.use(readBody(config.maxBodyBytes));
  fhir.use(async (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    let fr: FhirRequest | undefined;
    try {
      // A repeated _format (a list under Express's query parser) is read as its first value, not dropped.
      const f = req.query._format;
      const format = typeof f === 'string' ? f : Array.isArray(f) && typeof f[0] === 'string' ? f[0] : undefined;
      const flavour = negotiate(req.headers.accept, format);
      let ctx: AuthContext;
      if (config.authOff) ctx = { ...developmentContext(), address: req.ip };
      else if (isPublic(req.path)) ctx = { ...anonymousContext(), address: req.ip };
      else ctx = await authenticate(deps, req);
      try {
        fr = toFhirRequest(req, ctx);
      } catch (e) {
        await auditRefused(refusedRequest(req, ctx), e, svc);
        throw e;
      }
      const out = await dispatch(fr, svc);
      send(res, out, flavour, { pretty: req.query._pretty === 'true', head: req.method === 'HEAD' });
      log.debug({ method: req.method, status: out.status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'fhir');
    } catch (e) {
      // A 405 names the methods this URL does take (RFC 9110 §15.5.6), from the same route table.
      next(fr ? withAllow(e, fr) : e);
    }
  });
  app.use('/fhir', fhir);
  app.use(noSuchEndpoint);
  app.use(errorMiddleware(log));
  return app;
}

