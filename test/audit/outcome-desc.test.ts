// outcomeDesc of refused and failed REST accesses (src/audit/outcome-desc.ts): what went wrong, without the
// values the request carried (IHE BALP 1:52.4.1.3.1 minimal AuditEvent; the query's values live only in
// the base64 entity[query].query).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureDescription } from '../../src/audit/outcome-desc.js';
import { restAuditRows } from '../../src/audit/request.js';

test('quoted values and query strings are cut; the message around them stays', () => {
  const cases: Array<[number, string, string]> = [
    [400, "parameter birthdate: 'Smith' is not a date (yyyy, yyyy-mm, yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss][zone])", "400 parameter birthdate: '…' is not a date (yyyy, yyyy-mm, yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss][zone])"],
    [400, "the body's id 'Jane Doe' does not match the URL's 'p1'", "400 the body's id '…' does not match the URL's '…'"],
    [400, "parameter identifier: a token is [system]|[code], not 'urn:ssn|123-45-6789|x'", "400 parameter identifier: a token is [system]|[code], not '…'"],
    [400, 'entry 0 (PUT Patient?identifier=urn:ssn|123-45-6789): Patient.birthDate is not a valid date', '400 entry 0 (PUT Patient?…): Patient.birthDate is not a valid date'],
    [412, 'conditional reference Patient?… matched more than one resource', '412 conditional reference Patient?… matched more than one resource'],
    [403, "the access token's scopes do not allow read on Patient", "403 the access token's scopes do not allow read on Patient"],
    [404, 'Observation/o1 is not known', '404 Observation/o1 is not known'],
    [500, 'internal error', '500 internal error'],
    [400, "start must be a date (yyyy, yyyy-mm or yyyy-mm-dd), not 'Ann O\u2019Neil'", "400 start must be a date (yyyy, yyyy-mm or yyyy-mm-dd), not '…'"],
  ];
  for (const [status, message, want] of cases) assert.equal(failureDescription(status, message), want);
  assert.equal(failureDescription(401, undefined), '401');
  assert.equal(failureDescription(400, 'x'.repeat(800)).length, 500);
});

test('a failed search records its values only in the base64 query, not in outcomeDesc', () => {
  const [row] = restAuditRows({
    actor: { tenant: 't', role: 'clinician', clientId: 'c', userId: 'u' }, method: 'GET', segments: ['Patient'], params: [['birthdate', 'Smith']],
    interaction: 'search', type: 'Patient', status: 400, message: "parameter birthdate: 'Smith' is not a date",
  }, { observer: 'fhirgate' });
  const e = JSON.parse(row.content);
  assert.equal(e.outcomeDesc, "400 parameter birthdate: '…' is not a date");
  assert.ok(!row.content.includes('Smith'));
  assert.equal(Buffer.from(e.entity[0].query, 'base64').toString(), 'GET Patient?birthdate=Smith');
});
