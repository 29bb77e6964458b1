// Researchers' search (R4 http.html#search, search.html) over the de-identified copy only (CONTRACT.md
// "Roles": de-identified data only, never an identified row; rls-audit-deid-patterns.md §0.4, §4). The
// same planner and compiler as interactions/search.ts, with schema deid: matches, _include/_revinclude,
// chains, _has, counts and pages all come from deid.resource and deid.sp_* (migrations/040), whose rows
// were extracted from the de-identified resources. Ids, fullUrls and references are pseudonyms; paging
// cursors carry deid rids (never the identified rid). The researcher role has no privilege on schema
// fhir, so a slip that named an identified table would fail in the database (403), not leak.
// Built-in search parameters only: a tenant's custom SearchParameters are defined in schema fhir.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Services } from '../services.js';
import type { Tx } from '../../store/session.js';
import { typeScope, systemScope, compartmentScope, runSearch, type Scope } from './search.js';

/** System (`[base]?…`), type (`[type]?…`) or compartment (`Patient/[id]/[type]?…`) search, GET or POST …/_search. */
function scopeOf(req: FhirRequest): Scope {
  const n = req.segments.length - (req.segments[req.segments.length - 1] === '_search' ? 1 : 0);
  return n === 0 ? systemScope(req) : n === 1 ? typeScope(req) : compartmentScope(req);
}

/** A searchset Bundle of de-identified resources (the researcher's handler for every search route). */
export function deidSearch(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  return runSearch(req, tx, svc, scopeOf(req), 'deid');
}
