// $validate (resource-operation-validate.html): 200 + OperationOutcome with the findings ("All OK" when
// none); a Parameters body or a bare resource; modes; refusals the operation cannot perform (400).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateInstance, validateOperation, validateType } from '../../../src/fhir/operations/validate.js';
import { developmentContext } from '../../../src/auth/context.js';
import { FhirError } from '../../../src/errors.js';
import type { FhirRequest } from '../../../src/fhir/types.js';
import type { Services } from '../../../src/fhir/services.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const svc = {} as Services;
const req = (segments: string[], body: unknown, params: Array<[string, string]> = []): FhirRequest =>
  ({ method: 'POST', segments, params, headers: {}, body, ctx: developmentContext() });
const codes = (body: unknown) => (body as Json).issue.map((i: Json) => `${i.severity} ${i.code} ${i.expression?.[0] ?? i.diagnostics}`);

test('a valid resource: 200, one information issue "All OK"', async () => {
  const r = await validateType(req(['Patient', '$validate'], { resourceType: 'Patient', gender: 'female' }), svc);
  assert.equal(r.status, 200);
  assert.deepEqual(codes(r.body), ['information informational All OK']);
  assert.equal((r.body as Json).resourceType, 'OperationOutcome');
});

test('an invalid resource: 200 with one error per problem', async () => {
  const r = await validateType(req(['Patient', '$validate'], { resourceType: 'Patient', gender: 'x', foo: true }), svc);
  assert.equal(r.status, 200);
  assert.deepEqual(codes(r.body).sort(), ['error code-invalid Patient.gender', 'error structure Patient.foo']);
});

test('a Parameters body with resource and mode; mode in the URL', async () => {
  const params = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Observation' } }, { name: 'mode', valueCode: 'create' }] };
  const r = await validateType(req(['Observation', '$validate'], params), svc);
  assert.deepEqual(codes(r.body).sort(), ['error required Observation.code', 'error required Observation.status']);
  // create mode ignores a malformed id (http.html#create: the server ignores it).
  const created = await validateType(req(['Patient', '$validate'], { resourceType: 'Patient', id: 'not ok' }, [['mode', 'create']]), svc);
  assert.deepEqual(codes(created.body), ['information informational All OK']);
  // Validating a Parameters resource itself.
  const own = await validateType(req(['Parameters', '$validate'], { resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] }), svc);
  assert.deepEqual(codes(own.body), ['information informational All OK']);
});

test('a vendor type or another type than the URL is an error finding', async () => {
  const r = await validateType(req(['Patient', '$validate'], { resourceType: 'Project' }), svc);
  assert.deepEqual(codes(r.body).sort(), ['error invalid resourceType', 'error not-supported resourceType']);
  const other = await validateType(req(['Patient', '$validate'], { resourceType: 'Observation', status: 'final', code: { text: 'x' } }), svc);
  assert.deepEqual(codes(other.body), ['error invalid resourceType']);
});

test('instance level: mode update needs the URL id in the body; delete ignores the content', async () => {
  const ok = await validateInstance(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient', id: 'p1' }, [['mode', 'update']]), svc);
  assert.deepEqual(codes(ok.body), ['information informational All OK']);
  const wrong = await validateInstance(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient', id: 'p2' }, [['mode', 'update']]), svc);
  assert.deepEqual(codes(wrong.body), ['error invalid Patient.id']);
  const missing = await validateInstance(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient' }, [['mode', 'update']]), svc);
  assert.deepEqual(codes(missing.body), ['error invalid Patient.id']);
  const del = await validateInstance(req(['Patient', 'p1', '$validate'], undefined, [['mode', 'delete']]), svc);
  assert.deepEqual(codes(del.body), ['information informational All OK']);
});

test('what the operation cannot do is 400', async () => {
  const refused = async (p: Promise<unknown>, pattern: RegExp) => {
    await assert.rejects(p, (e: unknown) => e instanceof FhirError && e.status === 400 && pattern.test(e.message));
  };
  await refused(validateType(req(['Patient', '$validate'], undefined), svc), /needs a resource/);
  await refused(validateType(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['mode', 'update']]), svc), /instance level/);
  await refused(validateType(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['mode', 'nonsense']]), svc), /mode must be/);
  await refused(validateType(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['profile', 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient']]), svc), /base R4 profile/);
  const base = await validateType(req(['Patient', '$validate'], { resourceType: 'Patient' }, [['profile', 'http://hl7.org/fhir/StructureDefinition/Patient']]), svc);
  assert.deepEqual(codes(base.body), ['information informational All OK']);
});

test('validateOperation picks the level from the URL', async () => {
  const type = await validateOperation(req(['Patient', '$validate'], { resourceType: 'Patient', id: 'other' }, [['mode', 'create']]), svc);
  assert.deepEqual(codes(type.body), ['information informational All OK']);
  const inst = await validateOperation(req(['Patient', 'p1', '$validate'], { resourceType: 'Patient', id: 'other' }, [['mode', 'update']]), svc);
  assert.deepEqual(codes(inst.body), ['error invalid Patient.id']);
});
