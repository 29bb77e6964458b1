// SMART scope grammar (SMART App Launch 2.2 "Scopes and Launch Context"), pure: v2
// `(patient|user|system)/(Type|*).[c][r][u][d][s][?param=value&…]` and v1 `.read|.write|.*`
// (v1 `read` = v2 `rs`, `write` = `cud`, `*` = `cruds`), plus the launch/identity scopes.

export type Perm = 'c' | 'r' | 'u' | 'd' | 's';
export type ScopeContext = 'patient' | 'user' | 'system';

export interface ResourceScope {
  raw: string;
  context: ScopeContext;
  /** A resource type or `*`. */
  type: string;
  perms: Set<Perm>;
  /** Granular constraints (`?category=…|laboratory`): every pair must hold (AND). */
  constraints: Array<[string, string]>;
  version: 1 | 2;
}

/** Non-resource scopes the server understands. */
export const SPECIAL_SCOPES = new Set(['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access']);

const RESOURCE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)(\?(.*))?$/;
const V2_ORDER: Perm[] = ['c', 'r', 'u', 'd', 's'];

function v2Perms(s: string): Set<Perm> | undefined {
  // Letters in the fixed order c, r, u, d, s; each at most once; at least one.
  let at = 0;
  const out = new Set<Perm>();
  for (const ch of s) {
    const i = V2_ORDER.indexOf(ch as Perm, at);
    if (i < 0) return undefined;
    out.add(ch as Perm);
    at = i + 1;
  }
  return out.size ? out : undefined;
}

function parseConstraints(q: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  for (const part of q.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return undefined;
    try {
      out.push([decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))]);
    } catch {
      return undefined;
    }
  }
  return out;
}

export function parseResourceScope(raw: string): ResourceScope | undefined {
  const m = RESOURCE.exec(raw);
  if (!m) return undefined;
  const [, context, type, access, query, q] = m;
  let perms: Set<Perm> | undefined;
  let version: 1 | 2 = 2;
  if (access === 'read') { perms = new Set(['r', 's']); version = 1; }
  else if (access === 'write') { perms = new Set(['c', 'u', 'd']); version = 1; }
  else if (access === '*') { perms = new Set(V2_ORDER); version = 1; }
  else perms = v2Perms(access);
  if (!perms) return undefined;
  let constraints: Array<[string, string]> = [];
  if (query !== undefined) {
    // Granular constraints are a v2 feature.
    if (version === 1 || !q) return undefined;
    const parsed = parseConstraints(q);
    if (!parsed) return undefined;
    constraints = parsed;
  }
  return { raw, context: context as ScopeContext, type, perms, constraints, version };
}

export function splitScopes(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(/\s+/).filter(Boolean))];
}

export function isKnownScope(s: string): boolean {
  return SPECIAL_SCOPES.has(s) || parseResourceScope(s) !== undefined;
}

export function resourceScopes(scopes: readonly string[]): ResourceScope[] {
  const out: ResourceScope[] = [];
  for (const s of scopes) {
    const p = parseResourceScope(s);
    if (p) out.push(p);
  }
  return out;
}

function constraintsImply(narrow: Array<[string, string]>, wide: Array<[string, string]>): boolean {
  // `narrow` is at least as strict when it contains every pair of `wide`.
  return wide.every(([k, v]) => narrow.some(([k2, v2]) => k2 === k && v2 === v));
}

const CONTEXT_RANK: Record<ScopeContext, number> = { patient: 0, user: 1, system: 2 };

/**
 * Whether `inner` grants nothing beyond `outer`: same or narrower context (patient ⊂ user; system
 * only within system), covered type, subset of permissions, and at least outer's constraints.
 */
export function scopeWithin(inner: string, outer: string): boolean {
  if (inner === outer) return true;
  const a = parseResourceScope(inner);
  const b = parseResourceScope(outer);
  if (!a || !b) return false;
  if (a.context !== b.context) {
    if (a.context === 'system' || b.context === 'system') return false;
    if (CONTEXT_RANK[a.context] > CONTEXT_RANK[b.context]) return false;
  }
  if (b.type !== '*' && a.type !== b.type) return false;
  for (const p of a.perms) if (!b.perms.has(p)) return false;
  return constraintsImply(a.constraints, b.constraints);
}

/** Whether `scope` is covered by some scope in `allowed`. */
export function coveredBy(scope: string, allowed: readonly string[]): boolean {
  return allowed.some((o) => scopeWithin(scope, o));
}

/** The scopes of `requested` the server can grant from `allowed` (a client's registration). */
export function limitScopes(requested: readonly string[], allowed: readonly string[] | undefined): string[] {
  return requested.filter((s) => isKnownScope(s) && (!allowed || allowed.length === 0 || SPECIAL_SCOPES.has(s) || coveredBy(s, allowed)));
}

/** Every `(patient|user|system)/` scope uses the given context. */
export function onlyContext(scopes: readonly string[], context: ScopeContext): boolean {
  return resourceScopes(scopes).every((s) => s.context === context);
}
