// What reaches the server below the FHIR layer (node's parser, Express's router, the body reader) is
// answered with an OperationOutcome, promptly, and leaves the server serving (R4 http.html "Status
// codes"; RFC 9110, RFC 9112). Raw sockets: fetch would not send most of these requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { head, rawRequest, sendAndDrop, type RawReply, assertOutcome, countPatients } from './raw-http.js';

let server: TestServer;
let port: number;
before(async () => {
  // The default body limit (32 MB), as the issue names it.
  server = await startTestServer();
  port = Number(new URL(server.baseUrl).port);
});
after(async () => server?.stop());



async function stillServing() {
  const r = await rawRequest(port, [head('GET /fhir/metadata HTTP/1.1', { Connection: 'close' })]);
  assert.equal(r.status, 200);
  assert.equal(r.json?.resourceType, 'CapabilityStatement');
}

const PATIENT = '{"resourceType":"Patient"}';

test('a URL no route answers is a 404 OperationOutcome, not an HTML page', async () => {
  for (const line of ['GET //fhir//Patient HTTP/1.1', 'GET / HTTP/1.1', 'GET /nothing/here HTTP/1.1', 'OPTIONS * HTTP/1.1', 'POST /healthz HTTP/1.1']) {
    const r = await rawRequest(port, [head(line, { Connection: 'close' })]);
    assertOutcome(r, 404);
  }
});

test('CONNECT is a 405 OperationOutcome with Allow (RFC 9110 §9.3.6), not a dropped connection', async () => {
  for (const line of ['CONNECT example.org:443 HTTP/1.1', 'CONNECT /fhir/Patient HTTP/1.1']) {
    const r = await rawRequest(port, [head(line)]);
    assertOutcome(r, 405);
    assert.match(r.headers.allow ?? '', /GET/);
  }
  await stillServing();
});

test('an Expect other than 100-continue is a 417 OperationOutcome and nothing is written (RFC 9110 §10.1.1)', async () => {
  const before = await countPatients(server);
  const r = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Content-Length': PATIENT.length, Expect: 'teapot' }), PATIENT]);
  assertOutcome(r, 417);
  assert.equal(await countPatients(server), before);
  // 100-continue is honoured: an interim 100, then the answer.
  const ok = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Content-Length': PATIENT.length, Expect: '100-continue', Connection: 'close' }), PATIENT]);
  assert.deepEqual(ok.interim, [100]);
  assert.equal(ok.status, 201, ok.body);
});

test('HTTP/1.1 without Host is a 400 OperationOutcome (RFC 9112 §3.2); HTTP/1.0 needs none', async () => {
  assertOutcome(await rawRequest(port, ['GET /fhir/metadata HTTP/1.1\r\nConnection: close\r\n\r\n']), 400);
  const old = await rawRequest(port, ['GET /fhir/metadata HTTP/1.0\r\n\r\n']);
  assert.equal(old.status, 200);
});

test('a declared Content-Length over the limit is 413 at once, before the body arrives, and nothing is written', async () => {
  const before = await countPatients(server);
  const started = Date.now();
  // The client declares 40 MB and sends 26 bytes: the answer must not wait for the rest.
  const r = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Content-Length': 40 * 1024 * 1024 }), PATIENT], 3000);
  assertOutcome(r, 413);
  assert.ok(Date.now() - started < 3000);
  assert.equal(await countPatients(server), before);
  await stillServing();
});

test('a body of exactly 32 MB is read; one byte more is 413 and the server keeps serving', async () => {
  const limit = 32 * 1024 * 1024;
  const before = await countPatients(server);
  // Padding with whitespace outside the value: the parsed resource stays small.
  const atLimit = Buffer.alloc(limit, 0x20);
  atLimit.write(PATIENT, 0);
  const ok = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Content-Length': limit, Connection: 'close' }), atLimit], 9000);
  assert.equal(ok.status, 201, ok.body.slice(0, 300));
  const over = Buffer.alloc(limit + 1, 0x20);
  over.write(PATIENT, 0);
  const r = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Content-Length': limit + 1 }), over], 9000);
  assertOutcome(r, 413);
  assert.equal(await countPatients(server), before + 1);
  await stillServing();
});

test('hundreds of connections dropped mid-request write nothing and leave the server serving', async () => {
  const before = await countPatients(server);
  const cut = (i: number): Array<string | Buffer> => [
    [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Content-Length': 1000 }), '{"resourceType":"Patient","name":[{"family":"Cu'],
    ['GET /fhir/Patient HTTP/1.1\r\nHost: localhost\r\nAcc'],
    // A complete chunk, then the connection goes before the last chunk.
    [head('POST /fhir/Patient HTTP/1.1', { 'Content-Type': 'application/fhir+json', 'Transfer-Encoding': 'chunked' }), `${PATIENT.length.toString(16)}\r\n${PATIENT}\r\n`],
  ][i % 3]!;
  await Promise.all(Array.from({ length: 300 }, (_, i) => sendAndDrop(port, cut(i), 10 + (i % 20))));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await countPatients(server), before);
  await stillServing();
});
