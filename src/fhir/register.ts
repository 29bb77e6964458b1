// Everything beyond the core interactions, registered in one place: metadata, search, batch/transaction
// at the base, operations. The CapabilityStatement is generated from capability/ and lists only what is
// registered here.
import { addOperation, addRoute, listOperations } from './routes.js';
import { bundle } from './interactions/bundle.js';
import { metadata } from './operations/metadata.js';
import { validateInTx } from './operations/validate.js';
import { searchTypeInTx, searchSystemInTx, searchCompartmentInTx } from './interactions/search.js';
import { patientEverythingInTx } from './operations/everything.js';
import { reindexInTx } from './operations/reindex.js';
import { auditSearch } from './interactions/audit-search.js';
import { readOwnDefinition, servedDefinitionIds } from './operations/operation-definitions.js';
import type { TxHandler } from './routes.js';

/** AuditEvent searches run over the append-only audit store (auditor role only). */
const searchTypeOrAudit: TxHandler = (req, tx, svc) => (req.segments[0] === 'AuditEvent' ? auditSearch(req, tx, svc) : searchTypeInTx(req, tx, svc));

let done = false;

export function registerAll(): void {
  if (done) return;
  done = true;
  addRoute({ method: 'GET', pattern: 'metadata', interaction: 'read', handler: { plain: metadata }, noScopeCheck: true });
  // search (R4 http.html#search): GET, or POST …/_search with a form body; type, system and compartment.
  addRoute({ method: 'GET', pattern: ':type', interaction: 'search', handler: { tx: searchTypeOrAudit }, shared: 'search' });
  addRoute({ method: 'POST', pattern: ':type/_search', interaction: 'search', handler: { tx: searchTypeOrAudit }, shared: 'search' });
  addRoute({ method: 'GET', pattern: '', interaction: 'search', handler: { tx: searchSystemInTx }, shared: 'search' });
  addRoute({ method: 'POST', pattern: '_search', interaction: 'search', handler: { tx: searchSystemInTx }, shared: 'search' });
  addRoute({ method: 'GET', pattern: ':type/:id/:ctype', interaction: 'search', handler: { tx: searchCompartmentInTx }, shared: 'search' });
  addRoute({ method: 'POST', pattern: ':type/:id/:ctype/_search', interaction: 'search', handler: { tx: searchCompartmentInTx }, shared: 'search' });
  addRoute({ method: 'POST', pattern: '', interaction: 'create', handler: { plain: bundle }, noScopeCheck: true });
  // $validate writes nothing and reads only the instance it names (modes delete, profile) and the tenant's
  // SearchParameters (a SearchParameter's uniqueness): it needs the same access as a read.
  addOperation({ name: 'validate', levels: ['type', 'instance'], methods: ['POST'], handler: { tx: validateInTx }, interaction: 'read' });
  addOperation({ name: 'everything', levels: ['instance'], types: ['Patient'], methods: ['GET', 'POST'], handler: { tx: patientEverythingInTx }, interaction: 'read' });
  // $reindex rewrites index rows: it needs write access to the type.
  addOperation({ name: 'reindex', levels: ['type', 'instance'], methods: ['POST'], handler: { tx: reindexInTx }, interaction: 'update' });
  // The OperationDefinitions of the operations this server defines and declares (GET /metadata names them by
  // their read URL): public conformance data like /metadata, read-only, at ids reserved for the server.
  for (const id of servedDefinitionIds(listOperations().map((op) => op.name))) {
    addRoute({ method: 'GET', pattern: `OperationDefinition/${id}`, interaction: 'read', handler: { plain: readOwnDefinition }, noScopeCheck: true, owns: true });
  }
}
