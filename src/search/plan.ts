// A search request's parameters → SearchRequest (R4 search.html): filters resolved against the registry,
// and the result parameters _sort, _count, _total, _summary, _elements, _include/_revinclude (:iterate),
// _contained/_containedType (contained.ts). Unknown or unsupported parameters are collected to be reported
// (or refused when strict).
import { paramError, DEFAULT_COUNT, MAX_COUNT, type Expr, type SearchRequest, type SortKey, type IncludeSpec, type TotalMode, type SummaryMode } from './model.js';
import { resolveParam, paramSet, hasParts, UnknownParam, type ResolveCtx } from './resolve.js';
import { parseFilter } from './filter.js';
import { checkContained } from './contained.js';
import { conditionCount, tooManyConditions, MAX_CONDITIONS } from './limits.js';
import { orValues, unescape } from './escape.js';
import { getSearchParam, isResourceType } from '../registry/search-params.js';
import { FhirError } from '../errors.js';

export interface PlanInput {
  types: string[];
  params: Array<[string, string]>;
  compartment?: { type: 'Patient'; id: string };
  strict?: boolean;
  tenant?: string;
}

/** Handled by the HTTP layer or by paging; accepted silently. */
const PASSIVE = new Set(['_format', '_pretty', '_cursor', '_type']);
const NOT_SORTABLE = new Set(['composite', 'special']);

function parseSort(value: string, types: string[], ctx: ResolveCtx): SortKey[] {
  return value.split(',').map((raw) => {
    const desc = raw.startsWith('-');
    const name = desc ? raw.slice(1) : raw;
    if (name === '_id') return { name, desc, column: 'id' as const };
    if (name === '_lastUpdated') return { name, desc, column: 'last_updated' as const };
    const ps = name ? paramSet(types, name, '_sort', ctx) : undefined;
    if (!ps) throw paramError('_sort', `'${name.slice(0, 60)}' is not a search parameter of ${types.slice(0, 5).join(', ')}`);
    if (NOT_SORTABLE.has(ps.type)) throw paramError('_sort', `'${name}' (a ${ps.type} parameter) cannot be sorted on`);
    return { name, desc, ps };
  });
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw paramError('_count', `must be a whole number from 0 to ${MAX_COUNT}, not '${value.slice(0, 20)}'`);
  return Math.min(Number(value), MAX_COUNT);
}

function parseInclude(name: string, value: string, types: string[], ctx: ResolveCtx): IncludeSpec {
  const [base, mod] = name.split(':');
  const rev = base === '_revinclude';
  if (mod !== undefined && mod !== 'iterate' && mod !== 'recurse') throw paramError(name, `unknown modifier :${mod}`);
  const iterate = mod !== undefined;
  if (value === '*') return { source: '*', iterate, rev, name };
  const [source, param, target] = value.split(':');
  if (!isResourceType(source)) throw paramError(name, `'${value.slice(0, 80)}' does not start with a resource type`);
  if (param === undefined || param === '*') return { source, iterate, rev, name, ...(target ? { target } : {}) };
  const sp = getSearchParam(source, param, ctx.tenant);
  if (!sp || sp.type !== 'reference') throw paramError(name, `${source}.${param} is not a reference parameter`);
  if (target !== undefined && !sp.targets.includes(target)) throw paramError(name, `${source}.${param} cannot refer to ${target}`);
  if (!rev && !iterate && !types.includes(source) && types.length > 0) {
    throw paramError(name, `${source} is not a type being searched (use :iterate to include from included resources)`);
  }
  return { source, param, iterate, rev, name, ...(target ? { target } : {}) };
}

export function plan(input: PlanInput): SearchRequest {
  const { types } = input;
  const ctx: ResolveCtx = { tenant: input.tenant };
  const req: SearchRequest = { types, where: [], sort: [], count: DEFAULT_COUNT, include: [], ignored: [], strict: input.strict ?? false };
  if (input.compartment) req.compartment = input.compartment;
  let contained: 'false' | 'true' | 'both' = 'false';
  let containedType: 'container' | 'contained' = 'container';
  let conditions = 0;
  /** Adds a filter, or refuses the search when it would hold more conditions than it may (limits.ts). */
  const add = (name: string, e: Expr): void => {
    conditions += conditionCount(e);
    if (conditions > MAX_CONDITIONS) throw tooManyConditions(name);
    req.where.push(e);
  };
  for (const [name, value] of input.params) {
    try {
      const base = name.split(':')[0];
      if (PASSIVE.has(name)) {
        if (name === '_cursor') req.cursor = value;
        continue;
      }
      // search.html#errors: "Empty parameters are not an error - they are just ignored by the server", result
      // parameters too (`_count=`, `_sort=` from a form left blank were 400s); reported like any ignored one.
      if (value === '') {
        if (base === '_has' && name !== '_has') hasParts(name); // a malformed _has name is still a 400
        req.ignored.push({ name, reason: 'empty value' });
        continue;
      }
      switch (base) {
        case '_count': req.count = parseCount(value); continue;
        case '_sort': req.sort = parseSort(value, types, ctx); continue;
        case '_total':
          if (!['none', 'estimate', 'accurate'].includes(value)) throw paramError('_total', 'must be none, estimate or accurate');
          req.total = value as TotalMode; continue;
        case '_summary':
          if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw paramError('_summary', 'must be true, text, data, count or false');
          req.summary = value as SummaryMode; continue;
        case '_elements': req.elements = [...(req.elements ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)]; continue;
        case '_include': case '_revinclude':
          for (const v of value.split(',')) req.include.push(parseInclude(name, v, types, ctx));
          continue;
        case '_contained':
          if (!['false', 'true', 'both'].includes(value)) throw paramError('_contained', 'must be false, true or both');
          contained = value as 'false' | 'true' | 'both'; continue;
        case '_containedType':
          if (!['container', 'contained'].includes(value)) throw paramError('_containedType', 'must be container or contained');
          containedType = value as 'container' | 'contained'; continue;
        case '_list':
          add(name, { k: 'list', name, ids: orValues(value).map(unescape) }); continue;
        case '_filter': add(name, parseFilter(value, types, ctx)); continue;
        // search.html#query: "Servers processing search requests SHALL refuse to process a search request if
        // they do not recognize the _query parameter value" (and this server defines no named queries).
        case '_query':
          throw new FhirError(400, 'not-supported', `parameter _query: the named query '${value.slice(0, 60)}' is not known to this server`,
            { expression: ['_query'] });
      }
      add(name, resolveParam(name, name, value, types, ctx));
    } catch (e) {
      if (e instanceof UnknownParam) req.ignored.push({ name: e.param, reason: e.reason });
      else throw e;
    }
  }
  if (req.summary === 'text' && req.include.length) {
    // search.html#summary: "the _include and _revinclude parameters cannot be mixed with _summary=text": they are
    // not applied, and reported as ignored (so also left out of the self link), or refused when strict.
    for (const name of new Set(req.include.map((i) => i.name))) req.ignored.push({ name, reason: 'cannot be combined with _summary=text' });
    req.include = [];
  }
  if (contained !== 'false') req.contained = { mode: contained, returns: containedType };
  checkContained(req);
  if (req.strict && req.ignored.length) {
    const first = req.ignored[0];
    throw paramError(first.name, `${first.reason} (Prefer: handling=strict)`);
  }
  return req;
}

export type { Expr };
