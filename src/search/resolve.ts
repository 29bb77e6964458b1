// Resolves one filter parameter of a search (name, value) against the registry into an Expr: parameter
// codes, modifiers, :missing, chains (several levels, :[type] where ambiguous) and _has (nested),
// following R4 search.html#chaining and #has. Errors a client can cause are 400s naming the parameter.
import { getSearchParam, type SearchParam } from '../registry/search-params.js';
import { paramError, type Expr, type ParamSet } from './model.js';
import { orValues, unescape } from './escape.js';
import { withCanonicalVersion } from './canonical.js';

export interface ResolveCtx { tenant?: string }

/** The parameter on every type, or undefined if no type knows it; a 400 when only some do. */
export function paramSet(types: string[], code: string, name: string, ctx: ResolveCtx): ParamSet | undefined {
  const found = types.map((t) => getSearchParam(t, code, ctx.tenant));
  const params = found.filter((p): p is SearchParam => p !== undefined);
  if (params.length === 0) return undefined;
  if (params.length !== types.length) {
    const missing = types.filter((_, i) => !found[i]);
    throw paramError(name, `not defined for ${missing.slice(0, 5).join(', ')} (parameters must be common to every type searched)`);
  }
  const type = params[0].type;
  if (params.some((p) => p.type !== type)) throw paramError(name, 'has different types on the types searched');
  return { code, type, params };
}

/** Thrown for parameters the server does not know: the caller ignores (or, strict, refuses) them. */
export class UnknownParam extends Error {
  constructor(readonly param: string, readonly reason: string) { super(reason); }
}

function splitHead(name: string): { code: string; modifier?: string; rest?: string } {
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const rest = dot < 0 ? undefined : name.slice(dot + 1);
  const colon = head.indexOf(':');
  return colon < 0 ? { code: head, rest } : { code: head.slice(0, colon), modifier: head.slice(colon + 1), rest };
}

/** The parts of `_has:[type]:[reference parameter]:[parameter…]`, or a 400 naming the parameter. */
export function hasParts(name: string, fullName = name): string[] {
  const parts = name.split(':');
  if (parts.length < 4 || parts[1] === '' || parts[2] === '' || parts[3] === '') {
    throw paramError(fullName, '_has is _has:[type]:[reference parameter]:[parameter]');
  }
  return parts;
}

/** `_has:Observation:patient:code` → source type, reference parameter, and the parameter on the source. */
function resolveHas(name: string, fullName: string, value: string, types: string[], ctx: ResolveCtx, depth: number): Expr {
  const parts = hasParts(name, fullName);
  const [, source, refCode] = parts;
  const ref = getSearchParam(source, refCode, ctx.tenant);
  if (!ref) throw paramError(fullName, `${source} has no parameter '${refCode}'`);
  if (ref.type !== 'reference') throw paramError(fullName, `${source}.${refCode} is not a reference parameter`);
  if (!types.some((t) => ref.targets.includes(t))) throw paramError(fullName, `${source}.${refCode} cannot refer to ${types.join(', ')}`);
  const inner = resolveParam(parts.slice(3).join(':'), fullName, value, [source], ctx, depth + 1);
  return { k: 'has', name: fullName, source, ref, inner };
}

export function resolveParam(name: string, fullName: string, value: string, types: string[], ctx: ResolveCtx, depth = 0): Expr {
  if (depth > 4) throw paramError(fullName, 'chains and _has nest at most 4 levels');
  if (name.startsWith('_has:')) return resolveHas(name, fullName, value, types, ctx, depth);
  const { code, modifier, rest } = splitHead(name);
  if (code === '_id' && rest === undefined) {
    if (modifier !== undefined) throw paramError(fullName, `the modifier :${modifier} is not supported on _id`);
    return { k: 'id', ids: orValues(value).map(unescape) };
  }
  if (code === '_lastUpdated' && rest === undefined) {
    if (modifier !== undefined) throw paramError(fullName, `the modifier :${modifier} is not supported on _lastUpdated`);
    return { k: 'lastUpdated', name: fullName, values: orValues(value) };
  }
  if ((code === '_text' || code === '_content') && rest === undefined) {
    // Like every other parameter here, a modifier this server does not implement is refused, not dropped
    // (a silently different result set; `_content:missing=true` searched for the word "true").
    if (modifier !== undefined) throw paramError(fullName, `the modifier :${modifier} is not supported on ${code}`);
    return { k: 'text', name: fullName, field: code === '_text' ? 'text' : 'content', values: orValues(value).map(unescape) };
  }
  const ps = paramSet(types, code, fullName, ctx);
  if (!ps) {
    if (depth > 0) throw paramError(fullName, `'${code}' is not a parameter of ${types.join(', ')}`);
    throw new UnknownParam(fullName, `unknown search parameter '${code}' for ${types.length > 3 ? 'the types searched' : types.join(', ')}`);
  }
  if (rest !== undefined) {
    if (ps.type !== 'reference') throw paramError(fullName, `'${code}' is not a reference parameter, so it cannot be chained`);
    let targets = [...new Set(ps.params.flatMap((p) => p.targets))];
    if (modifier !== undefined) {
      if (!targets.includes(modifier)) throw paramError(fullName, `'${code}' cannot refer to ${modifier}`);
      targets = [modifier];
    }
    const nextCode = splitHead(rest).code;
    if (nextCode.startsWith('_has')) throw paramError(fullName, '_has cannot follow a chain');
    const usable = nextCode === '_id' || nextCode === '_lastUpdated' ? targets : targets.filter((t) => getSearchParam(t, nextCode, ctx.tenant));
    if (usable.length === 0) throw paramError(fullName, `no target of '${code}' has a parameter '${nextCode}'`);
    const inner = resolveParam(rest, fullName, value, usable, ctx, depth + 1);
    return { k: 'chain', name: fullName, ps, targets: usable, inner };
  }
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw paramError(fullName, ':missing takes true or false');
    return { k: 'missing', name: fullName, ps, missing: value === 'true' };
  }
  const values = orValues(value);
  if (values.every((v) => v === '')) throw paramError(fullName, 'has no value');
  const versionOf = () => { try { return paramSet(types, 'version', fullName, ctx); } catch { return undefined; } };
  return withCanonicalVersion({ k: 'value', name: fullName, ps, modifier, values }, versionOf);
}
