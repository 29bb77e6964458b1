// Custom SearchParameters per tenant (R4 searchparameter.html): checked when a SearchParameter is written,
// activated by $reindex, recorded in fhir.search_param_custom, and installed into the registry's per-tenant
// overlay on first use in a process. The rules themselves are registry/custom-search-param.ts.
import type { Tx } from './session.js';
import { FhirError, type Issue } from '../errors.js';
import { customParamsLoaded, setCustomParams, builtInDefinition, type SearchParamDefinition } from '../registry/search-params.js';
import { judgeSearchParameter, conflictBetween, labelOf, selectActive } from '../registry/custom-search-param.js';

type Json = Record<string, unknown>;

/**
 * Loads the tenant's active custom parameters into the registry once per process. Rows activated before
 * the current rules (an expression that does not compile would fail every write of its type) pass them
 * again here, so they are left out until the next $reindex replaces the set.
 */
export async function ensureCustomParams(tx: Tx, tenant: string): Promise<void> {
  if (customParamsLoaded(tenant)) return;
  const r = await tx.query<{ definition: string }>('select definition from fhir.search_param_custom where tenant = $1 order by url', [tenant]);
  const rows = r.rows.map((row) => ({ ...(JSON.parse(row.definition) as Json), resourceType: 'SearchParameter', status: 'active' }));
  setCustomParams(tenant, selectActive(rows).defs);
}

/**
 * Makes `defs` the tenant's whole set of active custom parameters: rows of definitions no longer among them
 * (retired, deleted, now refused) are removed, so their codes stop being searchable. Returns the removed urls.
 */
export async function activateCustomParams(tx: Tx, tenant: string, defs: SearchParamDefinition[]): Promise<string[]> {
  const removed = await tx.query<{ url: string }>(
    'delete from fhir.search_param_custom where tenant = $1 and not (url = any($2::text[])) returning url', [tenant, defs.map((d) => d.url)]);
  for (const d of defs) {
    await tx.query(
      `insert into fhir.search_param_custom (tenant, url, code, definition) values ($1, $2, $3, $4)
       on conflict (tenant, url) do update set code = excluded.code, definition = excluded.definition, activated_at = now()`,
      [tenant, d.url, d.code, JSON.stringify(d)],
    );
  }
  setCustomParams(tenant, defs);
  return removed.rows.map((r) => r.url).sort();
}

/** Current SearchParameter resources of the tenant (candidates for activation by $reindex). */
export async function readStoredSearchParameters(tx: Tx, tenant: string): Promise<Json[]> {
  const r = await tx.query<{ content: string }>(
    "select content from fhir.resource where tenant = $1 and type = 'SearchParameter' and not deleted order by rid", [tenant]);
  return r.rows.map((row) => JSON.parse(row.content) as Json);
}

/**
 * Why `sp` could not be activated next to the tenant's other current SearchParameters (empty when it
 * could): its own content (components may name the tenant's custom parameters), then, unless `conflicts`
 * is false, a url or a code it shares with one of them. `lock` serialises the tenant's SearchParameter
 * writes until commit, so two concurrent ones cannot both pass (READ COMMITTED: the query after the lock
 * sees what the previous holder committed).
 */
export async function searchParameterIssues(tx: Tx, sp: Json, opts: { lock?: boolean; conflicts?: boolean } = {}): Promise<Issue[]> {
  const tenant = tx.ctx.tenant;
  if (sp.status === 'retired') return [];
  if (opts.lock) await tx.query("select pg_advisory_xact_lock(hashtextextended('fhirgate.search-parameter/' || $1, 0))", [tenant]);
  const parts = Array.isArray(sp.component)
    ? (sp.component as Json[]).map((c) => c?.definition).filter((u): u is string => typeof u === 'string' && !builtInDefinition(u)) : [];
  const r = await tx.query<{ content: string }>(
    `select content from fhir.resource where tenant = $1 and type = 'SearchParameter' and not deleted and id <> $2
       and (content::jsonb->>'code' = $3 or content::jsonb->>'url' = $4 or content::jsonb->>'url' = any($5::text[]))`,
    [tenant, typeof sp.id === 'string' ? sp.id : '', String(sp.code ?? ''), String(sp.url ?? ''), parts]);
  const others = r.rows.map((row) => JSON.parse(row.content) as Json)
    // (their own components are taken as resolvable: only their url, code and base matter here)
    .map((o) => ({ o, v: judgeSearchParameter(o, (u) => builtInDefinition(u) ?? { url: u, code: u, type: 'token', base: [] }) }))
    .flatMap(({ o, v }) => (v.kind === 'usable' ? [{ def: v.def, label: labelOf(o) }] : []));
  const verdict = judgeSearchParameter(sp, (u) => builtInDefinition(u) ?? others.find((x) => x.def.url === u)?.def);
  if (verdict.kind === 'refused') return verdict.issues;
  if (verdict.kind === 'inert' || opts.conflicts === false) return [];
  return others.flatMap((x) => {
    const why = conflictBetween(verdict.def, x.def, x.label);
    return why ? [{ severity: 'error' as const, code: 'duplicate', diagnostics: why, expression: [why.startsWith('url') ? 'SearchParameter.url' : 'SearchParameter.code'] }] : [];
  });
}

/** The write path's check (create, update, patch, transaction entries): 422 naming every problem. */
export async function assertSearchParameterFits(tx: Tx, sp: Json): Promise<void> {
  const issues = await searchParameterIssues(tx, sp, { lock: true });
  if (issues.length === 0) return;
  const first = issues[0].diagnostics ?? 'the SearchParameter cannot be used';
  // http.html#create/#update: 422 "the proposed resource violated ... server business rules".
  throw new FhirError(422, issues[0].code, issues.length === 1 ? first : `${first} (and ${issues.length - 1} more)`, { issues });
}
