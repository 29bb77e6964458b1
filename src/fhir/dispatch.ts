// Runs one FHIR request: route it, check the caller's scopes for the interaction and type, then run the
// handler in one transaction under the caller's database role and context (../shared/STYLE.md pipeline).
// Every access is audited (issue "Audit"): on success the AuditEvent is the transaction's last statement
// ("no audit row, no data": if it fails, nothing is committed or sent); a refusal or failure is recorded
// in its own transaction after the rollback.
import type { FhirRequest, FhirResponse } from './types.js';
import type { Services } from './services.js';
import type { AuthContext } from '../auth/context.js';
import { withTx, type DbContext, type Tx } from '../store/session.js';
import { withGroupTx } from '../store/group-tx.js';
import { assertAllowed } from '../auth/enforce.js';
import { match, type Matched } from './routes.js';
import { FhirError } from '../errors.js';
import { log } from '../log.js';
import { restAuditRows, type AuditServer, type RestAccess } from '../audit/request.js';
import { takeTouched } from '../audit/touched.js';
import { appendAudit, appendAuditAlone } from '../store/audit.js';
import { researcherHandler } from './interactions/deid-read.js';
import { narrow, assertGranularRead } from './granular.js';

export function dbContext(ctx: AuthContext): DbContext {
  return { tenant: ctx.tenant, role: ctx.role, patient: ctx.patient, scopes: ctx.scopes.join(' '), actor: ctx.userId ?? ctx.clientId };
}

/** Requests whose AuditEvent a plain handler already appended in its own transaction (withAuditedTx). */
const audited = new WeakSet<FhirRequest>();

function server(svc: Services): AuditServer {
  return { observer: 'fhirgate', address: svc.config.fhirBase };
}

function bundleType(req: FhirRequest): string | undefined {
  if (req.segments.length !== 0 || req.method !== 'POST') return undefined;
  const t = (req.body as { type?: unknown } | undefined)?.type;
  return t === 'transaction' || t === 'batch' ? t : 'transaction';
}

function access(req: FhirRequest, m: Matched | undefined, status: number, extra: Partial<RestAccess> = {}): RestAccess {
  return {
    actor: req.ctx, method: req.method === 'HEAD' ? 'GET' : req.method, segments: req.segments, params: req.params,
    interaction: m?.interaction, type: m?.type, status, requestId: req.headers['x-request-id'], bundleType: bundleType(req), ...extra,
  };
}

/** The success event, appended in `tx`: patients from the handler, else written ones plus those served. */
async function auditSuccess(tx: Tx, req: FhirRequest, m: Matched | undefined, res: FhirResponse, svc: Services, text?: string): Promise<void> {
  if (svc.config.audit === false) return;
  const touched = takeTouched(tx);
  const raw = text ?? res.raw ?? (res.body !== undefined ? JSON.stringify(res.body) : undefined);
  const rows = restAuditRows(access(req, m, res.status, {
    headers: res.headers, raw, entity: res.audit?.entity, patients: res.audit?.patients, touched,
  }), server(svc));
  await appendAudit(tx, rows);
}

/** A refusal or failure: its own transaction (the request's was rolled back). Never masks the error. */
async function auditFailure(req: FhirRequest, m: Matched | undefined, e: unknown, svc: Services): Promise<void> {
  if (svc.config.audit === false) return;
  const fe = e instanceof FhirError ? e : undefined;
  try {
    await appendAuditAlone(svc.db, dbContext(req.ctx), restAuditRows(access(req, m, fe?.status ?? 500, { message: fe?.message ?? 'internal error' }), server(svc)));
  } catch (err) {
    log.error({ err: { code: (err as { code?: string }).code, name: (err as Error).name }, status: fe?.status ?? 500 }, 'audit: a refused or failed request could not be recorded');
  }
}

/**
 * A request refused before dispatch, while it was being read (its body is not JSON, say): recorded like any
 * other refusal ("every … refusal writes one AuditEvent"), under the route its URL names if it names one.
 */
export async function auditRefused(req: FhirRequest, e: unknown, svc: Services): Promise<void> {
  let m: Matched | undefined;
  try {
    m = match(req);
  } catch {
    // no route: the event names the path alone
  }
  await auditFailure(req, m, e, svc);
}

export async function dispatch(req: FhirRequest, svc: Services): Promise<FhirResponse> {
  let m: Matched | undefined;
  try {
    m = match(req);
    let anyOf: Array<Array<[string, string]>> | undefined;
    if (!m.noScopeCheck) ({ req, anyOf } = narrow(req, m));
    if ('plain' in m.handler) {
      const res = await m.handler.plain(req, svc);
      // A Bundle not yet audited by withAuditedTx: recorded after it committed (its batch entries are
      // each audited by their own dispatch).
      if (req.segments.length === 0 && req.method === 'POST' && !audited.has(req)) {
        const matched = m;
        await withTx(svc.db, dbContext(req.ctx), (tx) => auditSuccess(tx, req, matched, res, svc));
      }
      return res;
    }
    const handler = req.ctx.role === 'researcher' ? researcherHandler(m.interaction) : m.handler.tx;
    const matched = m;
    // Reads and searches only read: they may share a transaction, and its COMMIT, with concurrent ones
    // (group commit, src/store/group-tx.ts). Everything else runs in a transaction of its own.
    return await withGroupTx(svc.db, dbContext(req.ctx), m.shared, async (tx) => {
      const res = await handler(req, tx, svc);
      if (anyOf && (matched.interaction === 'read' || matched.interaction === 'vread') && res.status === 200) {
        await assertGranularRead(tx, svc, matched.type!, req.segments[1], anyOf);
      }
      // HOOK(audit): the AuditEvent of this access, last in the transaction.
      await auditSuccess(tx, req, matched, res, svc);
      return res;
    });
  } catch (e) {
    await auditFailure(req, m, e, svc);
    throw e;
  }
}

/**
 * A transaction Bundle's transaction with its AuditEvent inside it (bundle.ts should call this instead of
 * withTx: `withAuditedTx(req, svc, (tx) => transaction(…), (parts) => parts.join(','))`). `text` gives
 * the response text scanned for patients, besides those the write path reports.
 */
export async function withAuditedTx<T>(req: FhirRequest, svc: Services, fn: (tx: Tx) => Promise<T>, text: (result: T) => string | undefined = () => undefined): Promise<T> {
  const result = await withTx(svc.db, dbContext(req.ctx), async (tx) => {
    const r = await fn(tx);
    await auditSuccess(tx, req, undefined, { status: 200 }, svc, text(r));
    return r;
  });
  audited.add(req);
  return result;
}

/** Inside a transaction Bundle: the same routing and checks, in the Bundle's transaction. */
export async function dispatchInTx(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const m = match(req);
  assertAllowed(req.ctx, m.interaction, m.type);
  if ('plain' in m.handler) {
    throw new FhirError(400, 'not-supported', `this request cannot be part of a transaction: ${req.method} /${req.segments.join('/')}`);
  }
  const handler = req.ctx.role === 'researcher' ? researcherHandler(m.interaction) : m.handler.tx;
  return handler(req, tx, svc);
}
