// SMART scope grammar and enforcement (SMART App Launch 2.2 "Scopes"), and PKCE S256 (RFC 7636
// Appendix B's example): pure functions, no database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coveredBy, limitScopes, parseResourceScope, scopeWithin } from '../../src/auth/scopes.js';
import { accessFor, assertAllowed, searchConstraints } from '../../src/auth/enforce.js';
import { s256, validChallenge, verifyPkce } from '../../src/auth/pkce.js';
import type { AuthContext } from '../../src/auth/context.js';
import { FhirError } from '../../src/errors.js';

const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

test('v1 and v2 resource scopes parse into context, type and permissions', () => {
  const v1 = parseResourceScope('patient/*.read')!;
  assert.deepEqual([v1.context, v1.type, [...v1.perms].sort().join(''), v1.version], ['patient', '*', 'rs', 1]);
  assert.deepEqual([...parseResourceScope('user/Observation.write')!.perms].sort().join(''), 'cdu');
  assert.deepEqual([...parseResourceScope('system/*.*')!.perms].sort().join(''), 'cdrsu');
  assert.deepEqual([...parseResourceScope('user/*.cruds')!.perms].sort().join(''), 'cdrsu');
  const g = parseResourceScope(`patient/Observation.rs?category=${LAB}`)!;
  assert.deepEqual(g.constraints, [['category', LAB]]);
  for (const bad of ['patient/Observation.sr', 'patient/Observation.rr', 'patient/Observation.', 'patient/observation.rs', 'group/*.rs', 'patient/*.read?x=1', 'patient/Observation.rs?', 'patient/Observation.rs?category']) {
    assert.equal(parseResourceScope(bad), undefined, bad);
  }
});

test('scopeWithin: narrower context, type, permissions and added constraints are within; wider is not', () => {
  assert.ok(scopeWithin('patient/Observation.rs', 'patient/*.read'));
  assert.ok(scopeWithin('patient/Observation.r', 'user/Observation.rs'));
  assert.ok(scopeWithin(`patient/Observation.rs?category=${LAB}`, 'patient/Observation.rs'));
  assert.ok(!scopeWithin('patient/Observation.rs', `patient/Observation.rs?category=${LAB}`));
  assert.ok(!scopeWithin('user/Observation.rs', 'patient/Observation.rs'));
  assert.ok(!scopeWithin('system/Observation.rs', 'user/*.cruds'));
  assert.ok(!scopeWithin('patient/Observation.cruds', 'patient/Observation.rs'));
  assert.ok(!scopeWithin('patient/Condition.rs', 'patient/Observation.rs'));
  assert.ok(coveredBy('system/Patient.read', ['system/*.rs']));
  assert.deepEqual(limitScopes(['openid', 'patient/*.rs', 'patient/Patient.rs', 'bogus'], ['patient/Patient.rs']), ['openid', 'patient/Patient.rs']);
});

const ctx = (scopes: string[], extra: Partial<AuthContext> = {}): AuthContext => ({ tenant: 'default', role: 'clinician', scopes, ...extra });

test('assertAllowed: each interaction needs its permission on the type; otherwise 403 forbidden', () => {
  const c = ctx(['user/Patient.rs', 'user/Observation.c']);
  assertAllowed(c, 'read', 'Patient');
  assertAllowed(c, 'search', 'Patient');
  assertAllowed(c, 'create', 'Observation');
  for (const [i, t] of [['read', 'Observation'], ['update', 'Patient'], ['delete', 'Patient'], ['search', 'Condition'], ['search', undefined]] as const) {
    assert.throws(() => assertAllowed(c, i, t), (e: unknown) => e instanceof FhirError && e.status === 403 && e.issues[0].code === 'forbidden');
  }
  assertAllowed(ctx(['user/*.read']), 'history', 'Encounter');
  assertAllowed(ctx(['system/*.cruds'], { role: 'system' }), 'operation', undefined);
});

test('patient/ scopes need a launch patient and confine access to it; user/ scopes do not', () => {
  assert.equal(accessFor(ctx(['patient/Observation.rs']), 'read', 'Observation'), undefined);
  assert.deepEqual(accessFor(ctx(['patient/Observation.rs'], { patient: 'p1' }), 'read', 'Observation'), { patient: 'p1' });
  assert.deepEqual(accessFor(ctx(['patient/Observation.rs', 'user/Observation.rs'], { patient: 'p1' }), 'read', 'Observation'), { patient: undefined });
  // A patient-role user stays in its own compartment whatever its scopes say.
  assert.deepEqual(accessFor(ctx(['user/*.rs'], { role: 'patient', patient: 'p9' }), 'search', 'Observation'), { patient: 'p9' });
});

test('granular scopes give the search constraints to AND in; an unconstrained scope lifts them', () => {
  const vital = 'http://terminology.hl7.org/CodeSystem/observation-category|vital-signs';
  const c = ctx([`patient/Observation.rs?category=${LAB}`, `patient/Observation.rs?category=${vital}`], { patient: 'p1' });
  assert.deepEqual(searchConstraints(c, 'Observation'), [[['category', LAB]], [['category', vital]]]);
  assert.equal(searchConstraints(ctx([...c.scopes, 'patient/Observation.s'], { patient: 'p1' }), 'Observation'), undefined);
  assert.throws(() => assertAllowed(c, 'search', 'Condition'));
});

test('PKCE S256 (RFC 7636 Appendix B) and its refusals', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  assert.equal(s256(verifier), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  assert.ok(verifyPkce('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', verifier));
  assert.ok(!verifyPkce('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', undefined));
  assert.ok(!verifyPkce('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
  assert.ok(!verifyPkce('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'short'));
  assert.ok(validChallenge('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'));
  assert.ok(!validChallenge('plain-text-challenge'));
});
