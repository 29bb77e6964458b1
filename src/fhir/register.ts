// Everything beyond the core interactions, registered in one place: metadata, batch/transaction at the
// base, operations. The CapabilityStatement is generated from capability/ and lists only what is here.
import { addOperation, addRoute } from './routes.js';
import { bundle } from './interactions/bundle.js';
import { metadata } from './operations/metadata.js';
import { validateOperation } from './operations/validate.js';

let done = false;

export function registerAll(): void {
  if (done) return;
  done = true;
  addRoute({ method: 'GET', pattern: 'metadata', interaction: 'read', handler: { plain: metadata }, noScopeCheck: true });
  addRoute({ method: 'POST', pattern: '', interaction: 'create', handler: { plain: bundle }, noScopeCheck: true });
  // $validate reads nothing it is not given and writes nothing: it needs the same access as a read.
  addOperation({ name: 'validate', levels: ['type', 'instance'], methods: ['POST'], handler: { plain: validateOperation }, interaction: 'read' });
}
