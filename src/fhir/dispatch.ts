// Runs one FHIR request: route it, check the caller's scopes for the interaction and type, then run the
// handler in one transaction under the caller's database role and context (../shared/STYLE.md pipeline).
import type { FhirRequest, FhirResponse } from './types.js';
import type { Services } from './services.js';
import type { AuthContext } from '../auth/context.js';
import { withTx, type DbContext, type Tx } from '../store/session.js';
import { assertAllowed } from '../auth/enforce.js';
import { match } from './routes.js';
import { FhirError } from '../errors.js';

export function dbContext(ctx: AuthContext): DbContext {
  return { tenant: ctx.tenant, role: ctx.role, patient: ctx.patient, scopes: ctx.scopes.join(' '), actor: ctx.userId ?? ctx.clientId };
}

export async function dispatch(req: FhirRequest, svc: Services): Promise<FhirResponse> {
  const m = match(req);
  if (!m.noScopeCheck) assertAllowed(req.ctx, m.interaction, m.type);
  if ('plain' in m.handler) return m.handler.plain(req, svc);
  const handler = m.handler.tx;
  // HOOK(audit): an AuditEvent for this access is appended inside this transaction on success; a refusal
  // or failure is recorded in its own transaction after the rollback (issue: compliance).
  return withTx(svc.db, dbContext(req.ctx), (tx) => handler(req, tx, svc));
}

/** Inside a transaction Bundle: the same routing and checks, in the Bundle's transaction. */
export async function dispatchInTx(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const m = match(req);
  assertAllowed(req.ctx, m.interaction, m.type);
  if ('plain' in m.handler) {
    throw new FhirError(400, 'not-supported', `this request cannot be part of a transaction: ${req.method} /${req.segments.join('/')}`);
  }
  return m.handler.tx(req, tx, svc);
}
