// search (R4 http.html#search, search.html): on a type (GET [type]?…, POST [type]/_search), on the whole
// system (GET [base]?_type=…), and in a Patient compartment (GET Patient/[id]/[type]?…). Parameters are
// planned against the registry (src/search/plan.ts), compiled to SQL (src/search/query.ts) and run in the
// request's transaction; the answer is a searchset Bundle with keyset-cursor paging links.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Handler, Services } from '../services.js';
import { withTx, type Tx, type DbContext } from '../../store/session.js';
import { runPage, runCount, runEstimate, runIncludes, runTargets } from '../../store/search.js';
import { ensureCustomParams } from '../../store/search-params-custom.js';
import { plan } from '../../search/plan.js';
import { pageQuery, countQuery, fastCountQuery, matchQuery, type QueryOptions } from '../../search/query.js';
import { resolveChains } from '../../search/chain-targets.js';
import { decodeCursor, encodeCursor, sortFingerprint, type Cursor } from '../../search/cursor.js';
import { paramError, type SearchRequest } from '../../search/model.js';
import type { SearchSchema } from '../../search/params/common.js';
import { isResourceType, resourceTypes } from '../../registry/search-params.js';
import { patientCompartmentTypes } from '../../registry/compartments.js';
import { searchsetText, searchUrl, type BundleEntry } from './search-bundle.js';
import type { Subsetting } from '../summary.js';
import type { AuthContext } from '../../auth/context.js';

export interface Scope { types: string[]; compartment?: { type: 'Patient'; id: string }; path: string }

export function dbContextOf(ctx: AuthContext): DbContext {
  return { tenant: ctx.tenant, role: ctx.role, patient: ctx.patient, scopes: ctx.scopes.join(' '), actor: ctx.userId ?? ctx.clientId };
}

/** `Prefer: handling=strict` (search.html#errors): unknown or unsupported parameters become a 400. */
export const strictOf = (req: FhirRequest): boolean => /(?:^|[;,\s])handling\s*=\s*"?strict/i.test(req.headers['prefer'] ?? '');

function typesParam(req: FhirRequest): string[] | undefined {
  const v = req.params.filter(([k]) => k === '_type').flatMap(([, x]) => x.split(',')).map((s) => s.trim()).filter(Boolean);
  if (v.length === 0) return undefined;
  for (const t of v) if (!isResourceType(t)) throw paramError('_type', `'${t.slice(0, 64)}' is not a resource type`);
  return [...new Set(v)];
}

/** The planned search with its forward chains' targets listed in this transaction (search/chain-targets.ts). */
const withChainTargets = (tx: Tx, svc: Services, sr: SearchRequest, opts: QueryOptions): Promise<SearchRequest> =>
  resolveChains(sr, opts, (q) => runTargets(tx, q), svc.config.chainTargets);

/** Plans, runs and renders one search in a transaction (the core every entry point shares). */
export async function runSearch(req: FhirRequest, tx: Tx, svc: Services, scope: Scope, schema: SearchSchema = 'fhir'): Promise<FhirResponse> {
  const tenant = req.ctx.tenant;
  const deid = schema === 'deid';
  // The de-identified copy (researchers, deid-search.ts): built-in parameters only, since a tenant's custom
  // SearchParameters live in schema fhir and their index rows are not copied; contained resources are not
  // indexed there, so _contained is refused rather than answered as a top-level search.
  if (!deid) await ensureCustomParams(tx, tenant);
  const params = req.params;
  const planned = plan({ types: scope.types, params, compartment: scope.compartment, strict: strictOf(req), tenant: deid ? undefined : tenant });
  if (deid && (planned as { contained?: unknown }).contained) throw paramError('_contained', 'is not available on the de-identified copy');
  const opts: QueryOptions = { tenant, base: svc.config.fhirBase, now: Date.now(), ...(deid ? { schema } : {}) };
  const sr = await withChainTargets(tx, svc, planned, opts);
  const warnings = sr.ignored.map((i) => `${i.name}: ${i.reason}`);
  const ignoredNames = new Set(sr.ignored.map((i) => i.name));
  // The self link states the search as performed: a _count over the maximum reads as the capped one.
  const selfParams = params.filter(([k]) => !ignoredNames.has(k)).map(([k, v]): [string, string] => (k === '_count' ? [k, String(sr.count)] : [k, v]));
  const base = svc.config.fhirBase;
  // Index-only counting skips fhir.resource; the index tables carry the same row-level security policies
  // (migrations/030_rls.sql), so the caller still counts only rows it may see.
  const count = async (): Promise<number> => runCount(tx, fastCountQuery(sr, opts) ?? countQuery(sr, opts));

  if (sr.summary === 'count' || sr.count === 0) {
    // The count is the whole answer here (search.html#summary "just return a count"; #count: _count=0 "reports
    // the total number of resources that match in Bundle.total"), so _total=none does not drop it.
    const total = sr.total === 'estimate' ? await runEstimate(tx, matchQuery(sr, opts)) : await count();
    const links = [{ relation: 'self', url: searchUrl(base, scope.path, selfParams, {}) }];
    return ok(searchsetText({ base, total, links, entries: [], warnings }));
  }

  const fingerprint = sortFingerprint(sr.sort);
  const cursor: Cursor | undefined = sr.cursor ? decodeCursor(sr.cursor, fingerprint) : undefined;
  const q = pageQuery(sr, opts, sr.count + 1, cursor);
  let rows = await runPage(tx, q.sql, sr.sort.length);
  const more = rows.length > sr.count;
  rows = rows.slice(0, sr.count);
  if (cursor?.dir === 'prev') rows.reverse();
  const hasNext = cursor?.dir === 'prev' ? true : more;
  const hasPrev = cursor?.dir === 'prev' ? more : cursor !== undefined;

  let total: number | undefined;
  if (sr.total === 'accurate') total = await count();
  // An estimate is never below what this page already proves: its rows, and one more each way it links.
  else if (sr.total === 'estimate') total = Math.max(await runEstimate(tx, matchQuery(sr, opts)), rows.length + (hasNext ? 1 : 0) + (hasPrev ? 1 : 0));
  else if (sr.total === undefined && !cursor && !more) total = rows.length;

  const entries: BundleEntry[] = rows.map((r) => ({ type: r.type, id: r.id, content: r.content, mode: 'match' }));
  if (sr.include.length && rows.length) {
    for (const inc of await runIncludes(tx, rows, sr.include, tenant, 3, 2000, schema)) entries.push({ type: inc.type, id: inc.id, content: inc.content, mode: 'include' });
  }

  const links = [{ relation: 'self', url: searchUrl(base, scope.path, selfParams, {}) }];
  if (hasNext && rows.length) {
    const last = rows[rows.length - 1];
    links.push({ relation: 'next', url: searchUrl(base, scope.path, selfParams, { _cursor: encodeCursor({ dir: 'next', values: last.sortValues, rid: last.rid, sort: fingerprint }) }) });
  }
  if (hasPrev && rows.length) {
    const first = rows[0];
    links.push({ relation: 'previous', url: searchUrl(base, scope.path, selfParams, { _cursor: encodeCursor({ dir: 'prev', values: first.sortValues, rid: first.rid, sort: fingerprint }) }) });
  }
  const matchSubset = subsetting(sr, true);
  return ok(searchsetText({ base, total, links, entries, warnings, matchSubset, includeSubset: subsetting(sr, false) }));
}

function subsetting(sr: SearchRequest, match: boolean): Subsetting | undefined {
  const summary = sr.summary === 'false' ? undefined : sr.summary;
  const elements = match ? sr.elements : undefined;
  if (!summary && !elements) return undefined;
  return { ...(summary ? { summary } : {}), ...(elements ? { elements } : {}) } as Subsetting;
}

const ok = (raw: string): FhirResponse => ({ status: 200, raw });

/** GET [type]?… and POST [type]/_search. */
export function typeScope(req: FhirRequest): Scope {
  const type = req.segments[0];
  return { types: [type], path: type };
}

/** GET [base]?… and POST [base]/_search: _type, or every type (then only common parameters apply). */
export function systemScope(req: FhirRequest): Scope {
  return { types: typesParam(req) ?? resourceTypes(), path: '' };
}

/** GET Patient/[id]/[type]?… (or Patient/[id]/* for every type in the compartment). */
export function compartmentScope(req: FhirRequest): Scope {
  const [ctype, id, type] = req.segments;
  if (ctype !== 'Patient') throw paramError('compartment', `only the Patient compartment is supported, not ${ctype.slice(0, 40)}`);
  const types = type === '*' ? (typesParam(req) ?? patientCompartmentTypes()) : [type];
  for (const t of types) if (!isResourceType(t)) throw paramError('compartment', `'${t.slice(0, 64)}' is not a resource type`);
  return { types, compartment: { type: 'Patient', id }, path: `Patient/${id}/${type}` };
}

/**
 * Current resources of `type` matching search criteria, for conditional create/update/delete/patch (R4
 * http.html#cond-update): at most `limit` rows (2 tells none/one/many). Unknown parameters are refused
 * (strict), since ignoring one would widen what a conditional write touches.
 */
export async function matchCriteria(tx: Tx, svc: Services, tenant: string, type: string, params: Array<[string, string]>, limit = 2,
  schema: SearchSchema = 'fhir'): Promise<Array<{ rid: string; type: string; id: string; content: string }>> {
  // schema deid: a researcher's granular read check (../granular.ts), over the copy as runSearch does it.
  const deid = schema === 'deid';
  if (!deid) await ensureCustomParams(tx, tenant);
  const planned = plan({ types: [type], params: params.filter(([k]) => !['_count', '_sort', '_format', '_pretty'].includes(k)), strict: true, tenant: deid ? undefined : tenant });
  const opts: QueryOptions = { tenant, base: svc.config.fhirBase, now: Date.now(), ...(deid ? { schema } : {}) };
  const sr = await withChainTargets(tx, svc, planned, opts);
  const rows = await runPage(tx, pageQuery(sr, opts, limit).sql, 0);
  return rows.map((r) => ({ rid: r.rid, type: r.type, id: r.id, content: r.content }));
}

// Entry points for the route table: in the dispatcher's transaction ({ tx: … }) or opening their own (Handler).
export const searchTypeInTx = (req: FhirRequest, tx: Tx, svc: Services) => runSearch(req, tx, svc, typeScope(req));
export const searchSystemInTx = (req: FhirRequest, tx: Tx, svc: Services) => runSearch(req, tx, svc, systemScope(req));
export const searchCompartmentInTx = (req: FhirRequest, tx: Tx, svc: Services) => runSearch(req, tx, svc, compartmentScope(req));

export const searchType: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => searchTypeInTx(req, tx, svc));
export const searchSystem: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => searchSystemInTx(req, tx, svc));
export const searchCompartment: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => searchCompartmentInTx(req, tx, svc));
