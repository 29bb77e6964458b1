// Server-driven content negotiation (R4 http.html#mime: "Servers SHALL support server-driven content
// negotiation as described in section 12 of the HTTP specification"): Accept weighed by q-values (RFC 9110
// §12.4.2, §12.5.1), _format held to the same fhirVersion rule as Accept, text/json answered as asked, and
// bodies declared in a character set other than UTF-8 refused ("FHIR uses UTF-8 for all request and response bodies").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';
import { negotiate, bodyKind } from '../../src/http/negotiate.js';
import { FhirError } from '../../src/errors.js';

function status(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (e) {
    return e instanceof FhirError ? e.status : 500;
  }
}

test('q=0 makes a media type unacceptable', () => {
  assert.equal(status(() => negotiate('application/fhir+json;q=0', undefined)), 406);
  assert.equal(negotiate('application/fhir+json;q=0, application/json', undefined), 'application/json');
  // The most specific range decides: */* does not bring back a type refused by name.
  assert.equal(negotiate('application/fhir+json;q=0, application/json;q=0, */*', undefined), 'text/json');
  assert.equal(status(() => negotiate('*/*;q=0', undefined)), 406);
});

test('the highest q wins, whatever the order in Accept', () => {
  assert.equal(negotiate('application/json;q=0.5, application/fhir+json', undefined), 'application/fhir+json');
  assert.equal(negotiate('application/fhir+json;q=0.2, application/json;q=0.9', undefined), 'application/json');
  assert.equal(negotiate('application/fhir+xml;q=1.0, application/fhir+json;q=0.5', undefined), 'application/fhir+json');
  // A type named beats the same q reached through a wildcard; wildcards alone get the FHIR type.
  assert.equal(negotiate('application/json, */*', undefined), 'application/json');
  assert.equal(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined), 'application/fhir+json');
  assert.equal(negotiate('application/*', undefined), 'application/fhir+json');
});

test('text/json is answered as text/json (http.html#mime implementation note)', () => {
  assert.equal(negotiate('text/json', undefined), 'text/json');
  assert.equal(negotiate('text/*', undefined), 'text/json');
});

test('_format with another fhirVersion is 406, as the same type in Accept is', () => {
  assert.equal(status(() => negotiate(undefined, 'application/fhir+json;fhirVersion=3.0')), 406);
  assert.equal(negotiate(undefined, 'application/fhir+json;fhirVersion=4.0'), 'application/fhir+json');
});

test('a body in another charset than UTF-8 is 415; UTF-8 in any spelling is read', () => {
  assert.equal(status(() => bodyKind('application/fhir+json; charset=ISO-8859-1')), 415);
  assert.equal(status(() => bodyKind('application/fhir+json; charset="windows-1252"')), 415);
  assert.equal(bodyKind('application/fhir+json; charset=UTF-8'), 'json');
  assert.equal(bodyKind('application/fhir+json;charset="utf-8"'), 'json');
});

let server: TestServer;
before(async () => {
  server = await startTestServer();
  assert.equal((await call(server.fhirBase, 'PUT', 'Patient/nq-1', { resourceType: 'Patient', id: 'nq-1' })).status, 201);
});
after(async () => server?.stop());

test('over HTTP: q-values, text/json, _format (repeated, fhirVersion) and charset', async () => {
  const b = server.fhirBase;
  const refused = await call(b, 'GET', 'Patient/nq-1', undefined, { accept: 'application/fhir+json;q=0' });
  assert.equal(refused.status, 406);
  assert.equal(refused.json.resourceType, 'OperationOutcome');
  const json = await call(b, 'GET', 'Patient/nq-1', undefined, { accept: 'application/json;q=0.5, application/fhir+json' });
  assert.match(json.headers.get('content-type')!, /^application\/fhir\+json; charset=utf-8$/);
  const text = await call(b, 'GET', 'Patient/nq-1', undefined, { accept: 'text/json' });
  assert.equal(text.status, 200);
  assert.match(text.headers.get('content-type')!, /^text\/json/);
  assert.equal(text.json.id, 'nq-1');
  assert.equal((await call(b, 'GET', `Patient/nq-1?_format=${encodeURIComponent('application/fhir+json;fhirVersion=3.0')}`)).status, 406);
  // A repeated _format is read, not ignored in favour of Accept.
  assert.equal((await call(b, 'GET', 'Patient/nq-1?_format=xml&_format=xml')).status, 406);
  const latin1 = await call(b, 'POST', 'Patient', Buffer.from('{"resourceType":"Patient","name":[{"family":"M\xfcller"}]}', 'latin1'), { 'content-type': 'application/fhir+json; charset=ISO-8859-1' });
  assert.equal(latin1.status, 415);
  assert.equal(latin1.json.resourceType, 'OperationOutcome');
  const utf8 = await call(b, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Müller' }] }, { 'content-type': 'application/fhir+json; charset=utf-8' });
  assert.equal(utf8.status, 201);
  assert.equal(utf8.json.name[0].family, 'Müller');
});
