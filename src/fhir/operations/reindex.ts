// $reindex (fhirgate operation, capability/operations/reindex.json): makes the tenant's current custom
// SearchParameter resources its active set (R4 searchparameter.html: code, base, type, expression, target,
// component; the rules in registry/custom-search-param.ts), deactivating retired, deleted and conflicting
// ones, and rebuilds the search index of a type ([type]/$reindex) or one resource ([type]/[id]/$reindex),
// so the changes take effect without a schema change or a restart.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Handler, Services } from '../services.js';
import { withTx, type Tx } from '../../store/session.js';
import { readCurrent } from '../../store/resources.js';
import { readStoredSearchParameters, activateCustomParams } from '../../store/search-params-custom.js';
import { reindexResources } from '../../store/search-index.js';
import { isResourceType } from '../../registry/search-params.js';
import { selectActive } from '../../registry/custom-search-param.js';
import { dbContextOf } from '../interactions/search.js';
import { notFound } from '../../errors.js';

export async function reindexInTx(req: FhirRequest, tx: Tx, _svc: Services): Promise<FhirResponse> {
  const tenant = req.ctx.tenant;
  const type = req.segments[0];
  const id = req.segments.length === 3 ? req.segments[1] : undefined;
  if (!isResourceType(type)) throw notFound(`resource type '${type.slice(0, 64)}' is not supported`);
  if (id !== undefined) {
    const cur = await readCurrent(tx, type, id);
    if (!cur || cur.deleted) throw notFound(`${type}/${id} is not known`);
  }
  // The tenant's whole set is replaced: a SearchParameter retired, deleted or now in conflict since the
  // last $reindex stops being searchable here (its rows in this type's index go with the rewrite below).
  const { defs, skipped } = selectActive(await readStoredSearchParameters(tx, tenant));
  const deactivated = await activateCustomParams(tx, tenant, defs);
  const count = await reindexResources(tx, tenant, type, id);
  return {
    status: 200,
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resourcesReindexed', valueInteger: count },
        { name: 'customSearchParameters', valueInteger: defs.length },
        ...defs.map((d) => ({ name: 'active', valueString: `${d.code} (${d.base.join(', ')}): ${d.url}` })),
        ...deactivated.map((u) => ({ name: 'deactivated', valueString: u })),
        ...skipped.map((s) => ({ name: 'skipped', valueString: s })),
      ],
    },
  };
}

export const reindexType: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => reindexInTx(req, tx, svc));
export const reindexInstance: Handler = reindexType;
