// What scopes grant beyond yes or no (SMART App Launch 2.2 scopes-and-launch-context.html):
// - `patient/` scopes confine the request to the launch patient's compartment: the request then runs
//   under the database's patient role, so row-level security enforces it (also for _include, chains, _has);
// - granular scopes (`patient/Observation.rs?category=…|laboratory`) narrow what may be read: searches get
//   the constraint added, and a read of a resource outside every granted constraint is refused.
import type { FhirRequest } from './types.js';
import type { Services } from './services.js';
import type { Tx } from '../store/session.js';
import type { Matched } from './routes.js';
import { accessFor, assertAllowed } from '../auth/enforce.js';
import { insufficientScope } from '../auth/bearer-challenge.js';
import { matchCriteria } from './interactions/search.js';

export interface Narrowed {
  req: FhirRequest;
  /** Granular alternatives a read must satisfy (one of them, every pair of it). */
  anyOf?: Array<Array<[string, string]>>;
}

export function narrow(req: FhirRequest, m: Matched): Narrowed {
  const access = accessFor(req.ctx, m.interaction, m.type);
  if (!access) {
    assertAllowed(req.ctx, m.interaction, m.type);
    throw insufficientScope('access denied');
  }
  let out = req;
  if (access.patient && (req.ctx.role === 'clinician' || req.ctx.role === 'system')) {
    out = { ...out, ctx: { ...out.ctx, role: 'patient', patient: access.patient } };
  }
  const anyOf = access.anyOf;
  if (!anyOf || !m.type) return { req: out };
  if (m.interaction === 'search') out = { ...out, params: [...out.params, ...searchConstraint(anyOf)] };
  return { req: out, anyOf };
}

/** The granted alternatives as search parameters: one alternative as is; several on one parameter as an OR list. */
function searchConstraint(anyOf: Array<Array<[string, string]>>): Array<[string, string]> {
  if (anyOf.length === 1) return anyOf[0];
  const names = new Set(anyOf.map((alt) => (alt.length === 1 ? alt[0][0] : '')));
  if (names.size === 1 && !names.has('')) {
    const [name] = names;
    return [[name, anyOf.map((alt) => alt[0][1]).join(',')]];
  }
  throw insufficientScope('the granted granular scopes cannot be combined into one search; search with one of them');
}

/** A read or vread answered 200: the resource must satisfy one granted alternative, else 403. */
export async function assertGranularRead(tx: Tx, svc: Services, type: string, id: string, anyOf: Array<Array<[string, string]>>): Promise<void> {
  for (const alt of anyOf) {
    // A researcher reads the de-identified copy by pseudonym (interactions/deid-read.ts): the constraint is
    // checked there too, as its searches are (deid-search.ts); the researcher role cannot read schema fhir.
    const hit = await matchCriteria(tx, svc, tx.ctx.tenant, type, [['_id', id], ...alt], 1, tx.ctx.role === 'researcher' ? 'deid' : 'fhir');
    if (hit.length > 0) return;
  }
  throw insufficientScope(`the access token's scopes do not cover this ${type}`);
}
