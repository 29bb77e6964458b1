// Everything beyond the core interactions, registered in one place: batch/transaction at the base,
// operations. The CapabilityStatement is generated from capability/ and lists only what is here.
import { addRoute } from './routes.js';
import { bundle } from './interactions/bundle.js';

let done = false;

export function registerAll(): void {
  if (done) return;
  done = true;
  addRoute({ method: 'POST', pattern: '', interaction: 'create', handler: { plain: bundle }, noScopeCheck: true });
}
