// _include and _revinclude (R4 search.html#include): the resources the page's matches refer to through a
// reference parameter (or all of them, `*`), and the resources referring to the matches. One query per
// round; :iterate rounds run on the resources included by the previous round (handler, at most 3 rounds).
import { sql, join, typed, render, raw, type Frag, type Sql } from './sql.js';
import type { IncludeSpec } from './model.js';
import { keyText, paramKey } from './hash.js';
import { searchParamsOf, resourceTypes, type SearchParam } from '../registry/search-params.js';
import { tbl, type SearchSchema } from './params/common.js';

export interface Found { rid: string; type: string; id: string }

function refParams(type: string): SearchParam[] {
  return searchParamsOf(type).filter((p) => p.type === 'reference');
}

/** Reference-parameter keys a forward include spec follows from resources of `types`. */
function forwardKeys(spec: IncludeSpec, types: Set<string>): string[] {
  const sources = spec.source === '*' ? [...types] : types.has(spec.source) ? [spec.source] : [];
  return sources.flatMap((t) => refParams(t).filter((p) => !spec.param || p.code === spec.param).map((p) => keyText(paramKey(p.key))));
}

/** Reference-parameter keys of resources that may point at `types` (reverse include). */
function reverseKeys(spec: IncludeSpec, types: Set<string>): string[] {
  const sources = spec.source === '*' ? resourceTypes() : [spec.source];
  return sources.flatMap((t) => refParams(t).filter((p) => (!spec.param || p.code === spec.param) && p.targets.some((x) => types.has(x)))
    .map((p) => keyText(paramKey(p.key))));
}

/** The resources to include for `from` (rows of <schema>.resource: rid, type, id, content), or undefined when none can be. */
export function includeQuery(specs: IncludeSpec[], from: Found[], tenant: string, schema: SearchSchema = 'fhir'): Sql | undefined {
  const s = { schema };
  if (specs.length === 0 || from.length === 0) return undefined;
  const types = new Set(from.map((f) => f.type));
  const parts: Frag[] = [];
  for (const spec of specs) {
    if (!spec.rev) {
      const keys = forwardKeys(spec, types);
      if (keys.length === 0) continue;
      const rids = from.filter((f) => spec.source === '*' || f.type === spec.source).map((f) => f.rid);
      // LATERAL: one unique-index lookup per reference (a page refers to few resources; never hash all of them).
      // (limit 1: (tenant, type, id) is unique, and it keeps the planner from flattening this into a hash join.)
      parts.push(sql`select t.rid from ${tbl(s, 'sp_reference')} x cross join lateral (select t.rid from ${tbl(s, 'resource')} t
          where t.tenant = x.tenant and t.type = x.ttype and t.id = x.tid and not t.deleted limit 1) t
        where x.tenant = ${tenant} and x.rid = any(${typed(rids, 'int8[]')}) and x.p = any(${typed([...new Set(keys)], 'int8[]')})
        ${spec.target ? sql`and x.ttype = ${spec.target}` : raw('')}`);
    } else {
      const keys = reverseKeys(spec, types);
      if (keys.length === 0) continue;
      parts.push(sql`select x.rid from ${tbl(s, 'sp_reference')} x join unnest(${typed(from.map((f) => f.type), 'text[]')}, ${typed(from.map((f) => f.id), 'text[]')}) as m(ty, id)
        on x.ttype = m.ty and x.tid = m.id where x.tenant = ${tenant} and x.p = any(${typed([...new Set(keys)], 'int8[]')})`);
    }
  }
  if (parts.length === 0) return undefined;
  return render(sql`select r.rid, r.type, r.id, r.content from ${tbl(s, 'resource')} r where r.tenant = ${tenant} and not r.deleted
    and r.rid in (${join(parts, ' union ')}) and r.rid <> all(${typed(from.map((f) => f.rid), 'int8[]')}) order by r.rid limit 5000`);
}
