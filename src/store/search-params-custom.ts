// Custom SearchParameters per tenant (R4 searchparameter.html): activated by $reindex, recorded in
// fhir.search_param_custom, and installed into the registry's per-tenant overlay on first use in a process.
import type { Tx } from './session.js';
import { customParamsLoaded, setCustomParams, type SearchParamDefinition } from '../registry/search-params.js';

/** Loads the tenant's active custom parameters into the registry once per process. */
export async function ensureCustomParams(tx: Tx, tenant: string): Promise<void> {
  if (customParamsLoaded(tenant)) return;
  const r = await tx.query<{ definition: string }>('select definition from fhir.search_param_custom where tenant = $1 order by url', [tenant]);
  setCustomParams(tenant, r.rows.map((row) => JSON.parse(row.definition) as SearchParamDefinition));
}

/** Records definitions as active for the tenant (replacing same-url ones) and refreshes the overlay. */
export async function activateCustomParams(tx: Tx, tenant: string, defs: SearchParamDefinition[]): Promise<void> {
  for (const d of defs) {
    await tx.query(
      `insert into fhir.search_param_custom (tenant, url, code, definition) values ($1, $2, $3, $4)
       on conflict (tenant, url) do update set code = excluded.code, definition = excluded.definition, activated_at = now()`,
      [tenant, d.url, d.code, JSON.stringify(d)],
    );
  }
  const r = await tx.query<{ definition: string }>('select definition from fhir.search_param_custom where tenant = $1 order by url', [tenant]);
  setCustomParams(tenant, r.rows.map((row) => JSON.parse(row.definition) as SearchParamDefinition));
}

/** Current SearchParameter resources of the tenant (candidates for activation by $reindex). */
export async function readStoredSearchParameters(tx: Tx, tenant: string): Promise<unknown[]> {
  const r = await tx.query<{ content: string }>(
    "select content from fhir.resource where tenant = $1 and type = 'SearchParameter' and not deleted order by rid", [tenant]);
  return r.rows.map((row) => JSON.parse(row.content) as unknown);
}
