// Write-time index rows of contained resources (R4 search.html#contained, 3.1.1.5.5; references.html#contained).
// "By default, search results only include resources that are not contained in other resources": so each entry
// of Resource.contained is indexed with its own type's parameters under '#'-prefixed identities (keys.ts
// containedParam), which no top-level search asks for, and carries its position cx in the `contained` array,
// so a _contained search matches every condition on one contained resource (not on siblings). The store writes
// these rows under the container's rid and type (row-level security treats them as part of the container) and
// lists each contained resource in fhir.sp_contained (migrations/014_search_contained.sql).
import { searchParamsOf, isResourceType, type SearchParam } from '../registry/search-params.js';
import { startResource } from './path.js';
import { containedParam, CONTAINED_SLOTS } from './keys.js';
import { Builder, containedTypes, emptyRows, extractParam, isIndexed, type RowSet } from './extract-rows.js';

/** At most this many contained resources of one resource are indexed (the rest are not searchable). */
export const MAX_CONTAINED = CONTAINED_SLOTS - 1;

export interface ContainedIndex extends RowSet {
  /** Position in the container's `contained` array. */
  cx: number;
  /** The contained resource's type and its id (local to the container). */
  type: string;
  id: string;
}

const plans = new Map<string, SearchParam[]>();
/** The indexed parameters of a type, under their contained identities. */
function containedParamsOf(type: string): SearchParam[] {
  let plan = plans.get(type);
  if (!plan) plans.set(type, (plan = searchParamsOf(type).filter(isIndexed).map(containedParam)));
  return plan;
}

/**
 * Adds rows for `params` (already contained identities) of one contained resource; `locals`: its container's
 * contained resources by id, which its local references '#id' name (references.html#contained).
 */
export function containedRowsInto(ci: RowSet, contained: object, params: SearchParam[], locals: Map<string, string>): void {
  startResource(contained);
  const b = new Builder(ci, locals);
  for (const sp of params) extractParam(b, sp, contained);
}

/** One entry per contained resource that has a known type and an id (dom-3: contained resources are referred to by id). */
export function extractContained(resource: object): ContainedIndex[] | undefined {
  const list = (resource as { contained?: unknown }).contained;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: ContainedIndex[] = [];
  const n = Math.min(list.length, MAX_CONTAINED);
  const locals = containedTypes(resource);
  for (let cx = 0; cx < n; cx++) {
    const c = list[cx] as { resourceType?: unknown; id?: unknown } | null;
    if (!c || typeof c !== 'object' || typeof c.resourceType !== 'string' || !isResourceType(c.resourceType)) continue;
    if (typeof c.id !== 'string' || c.id === '') continue;
    const ci: ContainedIndex = { cx, type: c.resourceType, id: c.id, ...emptyRows() };
    containedRowsInto(ci, c, containedParamsOf(c.resourceType), locals);
    out.push(ci);
  }
  return out.length ? out : undefined;
}

/** A tenant's custom parameters of the contained resources' types, added where the tenant is known (the store). */
export function extractContainedMore(resource: object, contained: ContainedIndex[], paramsOf: (type: string) => SearchParam[]): void {
  const list = (resource as { contained?: unknown[] }).contained ?? [];
  const locals = containedTypes(resource);
  for (const ci of contained) {
    const extra = paramsOf(ci.type).filter(isIndexed).map(containedParam);
    const c = list[ci.cx];
    if (extra.length && c && typeof c === 'object') containedRowsInto(ci, c, extra, locals);
  }
}
