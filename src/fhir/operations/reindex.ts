// $reindex (fhirgate operation, capability/operations/reindex.json): activates the tenant's stored custom
// SearchParameter resources (R4 searchparameter.html: code, base, type, expression, target, component) and
// rebuilds the search index of a type ([type]/$reindex) or one resource ([type]/[id]/$reindex), so the new
// parameters become searchable without a schema change or a restart.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Handler, Services } from '../services.js';
import { withTx, type Tx } from '../../store/session.js';
import { readCurrent } from '../../store/resources.js';
import { readStoredSearchParameters, activateCustomParams } from '../../store/search-params-custom.js';
import { reindexResources } from '../../store/search-index.js';
import { builtInDefinition, getSearchParam, isResourceType, type SearchParamDefinition, type SearchParamType } from '../../registry/search-params.js';
import { dbContextOf } from '../interactions/search.js';
import { notFound } from '../../errors.js';

const TYPES = new Set(['number', 'date', 'string', 'token', 'reference', 'composite', 'quantity', 'uri', 'special']);

type Json = Record<string, unknown>;

/** A stored SearchParameter → a definition, or the reason it cannot be activated. */
export function toDefinition(sp: Json): SearchParamDefinition | string {
  const url = typeof sp.url === 'string' ? sp.url : `SearchParameter/${String(sp.id)}`;
  const code = sp.code;
  if (typeof code !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(code)) return `${url}: code is missing or not a plain name`;
  if (sp.status === 'retired') return `${url}: retired`;
  if (typeof sp.type !== 'string' || !TYPES.has(sp.type)) return `${url}: type is missing or unknown`;
  const base = Array.isArray(sp.base) ? (sp.base as unknown[]).filter((b): b is string => typeof b === 'string') : [];
  if (base.length === 0 || base.some((b) => !isResourceType(b) && b !== 'Resource' && b !== 'DomainResource')) return `${url}: base must list resource types`;
  if (typeof sp.expression !== 'string' || sp.expression.trim() === '') return `${url}: expression is missing`;
  if (builtInDefinition(url)) return `${url}: a built-in parameter`;
  const clash = base.find((b) => isResourceType(b) && getSearchParam(b, code)?.custom === undefined && getSearchParam(b, code));
  if (clash) return `${url}: ${clash} already has a parameter '${code}'`;
  const def: SearchParamDefinition = { url, code, type: sp.type as SearchParamType, base, expression: sp.expression };
  if (Array.isArray(sp.target)) def.target = (sp.target as unknown[]).filter((t): t is string => typeof t === 'string');
  if (Array.isArray(sp.component)) {
    def.component = (sp.component as Json[]).filter((c) => typeof c?.definition === 'string' && typeof c?.expression === 'string')
      .map((c) => ({ definition: c.definition as string, expression: c.expression as string }));
  }
  if (typeof sp.description === 'string') def.description = sp.description.slice(0, 400);
  return def;
}

export async function reindexInTx(req: FhirRequest, tx: Tx, _svc: Services): Promise<FhirResponse> {
  const tenant = req.ctx.tenant;
  const type = req.segments[0];
  const id = req.segments.length === 3 ? req.segments[1] : undefined;
  if (!isResourceType(type)) throw notFound(`resource type '${type.slice(0, 64)}' is not supported`);
  if (id !== undefined) {
    const cur = await readCurrent(tx, type, id);
    if (!cur || cur.deleted) throw notFound(`${type}/${id} is not known`);
  }
  const defs: SearchParamDefinition[] = [];
  const skipped: string[] = [];
  for (const sp of await readStoredSearchParameters(tx, tenant)) {
    const d = toDefinition(sp as Json);
    if (typeof d === 'string') skipped.push(d);
    else defs.push(d);
  }
  await activateCustomParams(tx, tenant, defs);
  const count = await reindexResources(tx, tenant, type, id);
  return {
    status: 200,
    body: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resourcesReindexed', valueInteger: count },
        { name: 'customSearchParameters', valueInteger: defs.length },
        ...defs.map((d) => ({ name: 'active', valueString: `${d.code} (${d.base.join(', ')}): ${d.url}` })),
        ...skipped.map((s) => ({ name: 'skipped', valueString: s })),
      ],
    },
  };
}

export const reindexType: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => reindexInTx(req, tx, svc));
export const reindexInstance: Handler = reindexType;
