// reference parameters (R4 search.html#reference): [id], [type]/[id], an absolute URL (local when under
// this server's base, else matched as the URL), canonical URLs (with or without |version); :[type]
// restricts the target type; :identifier matches Reference.identifier as a token. Chains: plan.ts/compile.ts.
import { sql, or, type Frag } from '../sql.js';
import type { Expr } from '../model.js';
import { paramError } from '../model.js';
import { unescape } from '../escape.js';
import { isResourceType } from '../../registry/search-params.js';
import { tokenKeys } from './token.js';
import { inKeys, paramKeys, type Ctx, type IndexCond } from './common.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

export interface RefTarget { type?: string; id: string }

/** What a reference search value points at: a type (when known) and an id (or a whole URL). */
export function parseRefValue(value: string, base: string, name: string): RefTarget {
  let v = unescape(value);
  if (v === '') throw paramError(name, 'a reference value is empty');
  if (base && v.startsWith(`${base}/`)) v = v.slice(base.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(v)) return { id: v }; // absolute URL elsewhere, urn, canonical
  const parts = v.split('/');
  if (parts.length === 1) return { id: parts[0] };
  if ((parts.length === 2 || (parts.length === 4 && parts[2] === '_history')) && isResourceType(parts[0]) && parts[1] !== '') {
    return { type: parts[0], id: parts[1] };
  }
  throw paramError(name, `'${value.slice(0, 80)}' is not a reference ([type]/[id], [id] or a URL)`);
}

export function referenceCondition(e: ValueExpr, x: Frag, ctx: Ctx): IndexCond {
  if (e.modifier === 'identifier') {
    const keys = e.ps.params.flatMap((p) => e.values.flatMap((v) => tokenKeys(`${p.key}:identifier`, v, e.name)));
    return { table: 'sp_token', where: sql`${inKeys(sql`${x}.h`, keys)}` };
  }
  if (e.modifier !== undefined && !isResourceType(e.modifier)) throw paramError(e.name, `the modifier :${e.modifier} is not supported on reference parameters`);
  const forced = e.modifier;
  const targets = new Set(e.ps.params.flatMap((p) => p.targets));
  const only = targets.size === 1 ? [...targets][0] : undefined;
  const named = e.values.map((v): RefTarget => {
    const t = parseRefValue(v, ctx.base, e.name);
    if (forced && t.type && t.type !== forced) throw paramError(e.name, `the value names ${t.type} but the modifier restricts to ${forced}`);
    return { type: t.type ?? forced ?? (/^[a-z][a-z0-9+.-]*:/i.test(t.id) ? undefined : only), id: t.id };
  });
  // A local reference '#id' names a contained resource only inside its own container (references.html#contained);
  // its index rows (extract-rows.ts) serve chains, so a search value '#id' (or Type/#id) names no resource.
  const conds = named.map(({ type, id }) => (id.startsWith('#') ? sql`false` : type ? sql`(${x}.tid = ${id} and ${x}.ttype = ${type})` : sql`${x}.tid = ${id}`));
  return { table: 'sp_reference', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${or(conds)}`, targets: named.map((t) => t.type) };
}
