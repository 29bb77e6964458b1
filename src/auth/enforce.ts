// Scope enforcement for every FHIR interaction (SMART App Launch 2.2 "Scopes for requesting FHIR
// resources"): read/vread need `r`, search/history `s`, create `c`, update/patch `u`, delete `d`.
// A scope that does not cover the interaction and type is a 403 OperationOutcome, never an empty Bundle,
// with RFC 6750 §3.1's `WWW-Authenticate: Bearer error="insufficient_scope"`.
import { insufficientScope } from './bearer-challenge.js';
import type { AuthContext } from './context.js';
import { resourceScopes, type Perm, type ResourceScope } from './scopes.js';

export type Interaction = 'read' | 'vread' | 'search' | 'create' | 'update' | 'patch' | 'delete' | 'history' | 'operation';

// History lists versions: instance history is read-like, type/system history search-like; either serves.
const PERM: Record<Interaction, Perm[]> = {
  read: ['r'], vread: ['r'], search: ['s'], history: ['r', 's'], create: ['c'], update: ['u'], patch: ['u'], delete: ['d'], operation: ['r'],
};

/** What a request may touch once allowed. */
export interface Access {
  /**
   * Set when only `patient/` scopes cover the request: every interaction, _include, _revinclude,
   * chain and _has is confined to this patient's compartment.
   */
  patient?: string;
  /**
   * Granular constraints to AND into the search (or to check a read against): the resource must
   * satisfy every pair of at least one entry. Undefined = unconstrained.
   */
  anyOf?: Array<Array<[string, string]>>;
}

function covering(ctx: AuthContext, perms: Perm[], type: string | undefined): ResourceScope[] {
  return resourceScopes(ctx.scopes).filter((s) => {
    if (!perms.some((p) => s.perms.has(p))) return false;
    if (s.type !== '*' && s.type !== type) return false;
    // patient/ scopes mean nothing without a patient in context.
    if (s.context === 'patient' && !ctx.patient) return false;
    return true;
  });
}

/** The access a request gets, or undefined when no scope covers it. */
export function accessFor(ctx: AuthContext, interaction: Interaction, resourceType: string | undefined): Access | undefined {
  // "No other role reads AuditEvent" (CONTRACT.md roles): no access for any other role, whatever its scopes,
  // rather than an empty answer (a researcher's search ran over the de-identified copy, which has none).
  if (resourceType === 'AuditEvent' && ctx.role !== 'auditor') return undefined;
  const scopes = covering(ctx, PERM[interaction], resourceType);
  if (scopes.length === 0) return undefined;
  const wide = scopes.filter((s) => s.context !== 'patient');
  const chosen = wide.length ? wide : scopes;
  // A patient-role user is confined to its own compartment whatever the scope says (the database's
  // row-level security enforces the same).
  const patient = !wide.length || ctx.role === 'patient' ? ctx.patient : undefined;
  if (chosen.some((s) => s.constraints.length === 0)) return { patient };
  return { patient, anyOf: chosen.map((s) => s.constraints) };
}

/** Throws 403 (OperationOutcome `forbidden`, insufficient_scope) unless a granted scope covers the interaction on the type. */
export function assertAllowed(ctx: AuthContext, interaction: Interaction, resourceType: string | undefined): void {
  if (!accessFor(ctx, interaction, resourceType)) {
    const what = resourceType ?? 'system-level';
    throw insufficientScope(`the access token's scopes do not allow ${interaction} on ${what}`);
  }
}

/**
 * The granular search constraints to AND into a search of `resourceType` (after assertAllowed):
 * undefined when a covering scope is unconstrained, else alternatives of name=value pairs.
 */
export function searchConstraints(ctx: AuthContext, resourceType: string, interaction: Interaction = 'search'): Array<Array<[string, string]>> | undefined {
  return accessFor(ctx, interaction, resourceType)?.anyOf;
}
