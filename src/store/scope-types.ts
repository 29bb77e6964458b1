// The resource types each scope context grants, computed once when a request's transaction opens and
// handed to the row-level security policies as settings (`fhirgate.types_<perms>_<contexts>`), so a
// statement no longer re-parses `fhirgate.scopes` with regular expressions in every policy InitPlan
// (measured: two InitPlans of ~0.4 ms each on a read by id). The rule is exactly ctx.scope_types in
// migrations/030_rls.sql; test/store/scope-types.test.ts proves the two agree.

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|c?r?u?d?s?)(\?.*)?$/;

/** Types (or `*`) granted for any of `perms` by scopes of the given contexts, sorted. */
export function scopeTypes(scopes: string, perms: string, contexts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const scope of scopes.split(/\s+/)) {
    const g = SCOPE.exec(scope);
    if (!g || !contexts.includes(g[1]) || g[3] === '') continue;
    // v1 `read`/`write`/`*` take no granular constraint.
    if ((g[3] === 'read' || g[3] === 'write' || g[3] === '*') && g[4] !== undefined) continue;
    const granted = g[3] === 'read' ? 'rs' : g[3] === 'write' ? 'cud' : g[3] === '*' ? 'cruds' : g[3];
    if ([...perms].some((p) => granted.includes(p))) out.add(g[2]);
  }
  return [...out].sort();
}

/** The (perms, contexts) pairs the policies of migrations 030/031 ask about, per database role. */
const ASKED: Record<string, string[][]> = {
  clinician: [['user'], ['patient']],
  system: [['system']],
  patient: [['patient', 'user']],
  researcher: [['user', 'system']],
};
const PERMS = ['rs', 'cu', 'ud'];

/** Setting name → value ('-' for none) for one role's transaction. */
export function scopeTypeSettings(role: string, scopes: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const contexts of ASKED[role] ?? []) {
    for (const perms of PERMS) {
      const types = scopeTypes(scopes, perms, contexts);
      out.push([`fhirgate.types_${perms}_${contexts.join('_')}`, types.length ? types.join(',') : '-']);
    }
  }
  return out;
}
