// $validate (resource-operation-validate.html): 200 + OperationOutcome with the findings ("All OK" when
// none); a Parameters body or a bare resource; modes; refusals the operation cannot perform (400). Cases
// that read the database (modes delete and profile, SearchParameters) are in validate-operation-db.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateInTx } from '../../../src/fhir/operations/validate.js';
import { developmentContext } from '../../../src/auth/context.js';
import { FhirError } from '../../../src/errors.js';
import type { FhirRequest } from '../../../src/fhir/types.js';
import type { Services } from '../../../src/fhir/services.js';
import type { Tx } from '../../../src/store/session.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const svc = {} as Services;
// These cases never reach the database: a query would fail on this empty Tx.
const tx = {} as Tx;
const validate = (r: FhirRequest) => validateInTx(r, tx, svc);
const req = (segments: string[], body: unknown, params: Array<[string, string]> = []): FhirRequest =>
  ({ method: 'POST', segments, params, headers: {}, body, ctx: developmentContext() });
const codes = (body: unknown) => (body as Json).issue.map((i: Json) => `${i.severity} ${i.code} ${i.expression?.[0] ?? i.diagnostics}`);

test('a valid resource: 200, one information issue "All OK"', async () => {
  const r = await validate(req(['Patient', '$validate'], { resourceType: 'Patient', gender: 'female' }));
  assert.equal(r.status, 200);
  assert.deepEqual(codes(r.body), ['information informational All OK']);
  assert.equal((r.body as Json).resourceType, 'OperationOutcome');
});

test('an invalid resource: 200 with one error per problem', async () => {
  const r = await validate(req(['Patient', '$validate'], { resourceType: 'Patient', gender: 'x', foo: true }));
  assert.equal(r.status, 200);
  assert.deepEqual(codes(r.body).sort(), ['error code-invalid Patient.gender', 'error structure Patient.foo']);
});

test('a Parameters body with resource and mode; mode in the URL', async () => {
  const params = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Observation' } }, { name: 'mode', valueCode: 'create' }] };
  const r = await validate(req(['Observation', '$validate'], params));
  assert.deepEqual(codes(r.body).sort(), ['error required Observation.code', 'error required Observation.status']);
  // create mode ignores a malformed id (http.html#create: the server ignores it).
  const created = await validate(req(['Patient', '$validate'], { resourceType: 'Patient', id: 'not ok' }, [['mode', 'create']]));
  assert.deepEqual(codes(created.body), ['information informational All OK']);
  // Validating a Parameters resource itself.
  const own = await validate(req(['Parameters', '$validate'], { resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] }));
  assert.deepEqual(codes(own.body), ['information informational All OK']);
});

test('a vendor type or another type than the URL is an error finding', async () => {
  const r = await validate(req(['Patient', '$validate'], { resourceType: 'Project' }));
  assert.deepEqual(codes(r.body).sort(), ['error invalid resourceType', 'error not-supported resourceType']);
  const other = await validate(req(['Patient', '$validate'], { resourceType: 'Observation', status: 'final', code: { text: 'x' } }));
  assert.deepEqual(codes(other.body), ['error invalid resourceType']);
});

test('instance level: mode update needs the URL id in the body', async () => {
  const ok = await validate(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient', id: 'p1' }, [['mode', 'update']]));
  assert.deepEqual(codes(ok.body), ['information informational All OK']);
  const wrong = await validate(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient', id: 'p2' }, [['mode', 'update']]));
  assert.deepEqual(codes(wrong.body), ['error invalid Patient.id']);
  const missing = await validate(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient' }, [['mode', 'update']]));
  assert.deepEqual(codes(missing.body), ['error invalid Patient.id']);
});

test('what the operation cannot do is 400', async () => {
  const refused = async (p: Promise<unknown>, pattern: RegExp) => {
    await assert.rejects(p, (e: unknown) => e instanceof FhirError && e.status === 400 && pattern.test(e.message));
  };
  await refused(validate(req(['Patient', '$validate'], undefined)), /needs a resource/);
  await refused(validate(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['mode', 'update']])), /instance level/);
  await refused(validate(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['mode', 'nonsense']])), /mode must be/);
  await refused(validate(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['profile', 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient']])), /base R4 profile/);
  const base = await validate(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['profile', 'http://hl7.org/fhir/StructureDefinition/Patient']]));
  assert.deepEqual(codes(base.body), ['information informational All OK']);
});

test('malformed inputs and misplaced modes are 400, never 500', async () => {
  const refused = async (r: FhirRequest, pattern: RegExp) => {
    await assert.rejects(validate(r), (e: unknown) => e instanceof FhirError && e.status === 400 && pattern.test(e.message));
  };
  const params = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient' } }, ...parameter] });
  // A profile that is not a string crashed on .split (500).
  await refused(req(['Patient', '$validate'], params({ name: 'profile', valueCanonical: 5 })), /profile must be/);
  await refused(req(['Patient', '$validate'], params({ name: 'mode', valueCode: 5 })), /mode must be/);
  await refused(req(['Patient', '$validate'], { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'create' }] }), /needs a resource/);
  // resource-validation-mode "profile: The server checks an existing resource (must be nominated by id, not provided as a parameter)".
  await refused(req(['Patient', '$validate'], undefined, [['mode', 'profile']]), /instance level/);
  await refused(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient' }, [['mode', 'profile']]), /stored resource/);
  await refused(req(['Patient', '$validate'], undefined, [['mode', 'delete']]), /instance level/);
});

test('the level comes from the URL', async () => {
  const type = await validate(req(['Patient', '$validate'], { resourceType: 'Patient', id: 'other' }, [['mode', 'create']]));
  assert.deepEqual(codes(type.body), ['information informational All OK']);
  const inst = await validate(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient', id: 'other' }, [['mode', 'update']]));
  assert.deepEqual(codes(inst.body), ['error invalid Patient.id']);
});
