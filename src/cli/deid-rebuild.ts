// `fhirgate deid rebuild`: rewrites the tenant's de-identified copy and its search index from the
// identified resources (issue "Compliance", de-identification as a boundary). Needed once after upgrading
// to migration 040 (existing copies have no index rows), after a `$reindex` or an extraction change, and
// after rotating the pseudonym key. Idempotent; one transaction per tenant.
import type { CliDeps } from './main.js';
import { rebuildDeid } from '../deid/copy.js';
import { loadDeidSettings } from '../deid/settings.js';

export async function run(_args: string[], deps: CliDeps): Promise<Record<string, unknown>> {
  return { tenant: deps.tenant, ...(await rebuildDeid(deps.db, deps.tenant, loadDeidSettings(process.env, deps.config.dataDir))) };
}
