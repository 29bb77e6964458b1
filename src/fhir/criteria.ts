// Conditional interactions (R4 http.html#cond-update, #ccreate, #cdelete) resolve their criteria with the
// ordinary search machinery; this is the one place they ask "which current resources match?".
import type { Tx } from '../store/session.js';
import type { StoredResource } from '../store/resources.js';
import { readByRids } from '../store/resources.js';
import { matchCriteria } from './interactions/search.js';
import type { Services } from './services.js';
import { badRequest } from '../errors.js';
import { filteringCriteria } from './conditional-criteria.js';

export function parseCriteria(query: string): Array<[string, string]> {
  const q = query.startsWith('?') ? query.slice(1) : query.includes('?') ? query.slice(query.indexOf('?') + 1) : query;
  const pairs = [...new URLSearchParams(q).entries()];
  if (pairs.length === 0) throw badRequest('conditional criteria are empty');
  return pairs;
}

/** Current, live resources of `type` matching the criteria (at most `limit`, enough to tell 0/1/many). */
export async function findMatches(tx: Tx, svc: Services | { fhirBase: string }, type: string, criteria: Array<[string, string]>, limit = 2): Promise<StoredResource[]> {
  // Matching needs only the FHIR base (absolute references in criteria); the importer has no Services.
  const services = 'fhirBase' in svc ? ({ config: { fhirBase: svc.fhirBase } } as Services) : svc;
  // Criteria that filter nothing would match every resource of the type (conditional-criteria.ts).
  const rows = await matchCriteria(tx, services, tx.ctx.tenant, type, filteringCriteria(criteria, 'conditional criteria'), limit);
  return readByRids(tx, rows.map((r) => r.rid));
}
