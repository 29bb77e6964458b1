// A chunked body (no Content-Length) over the limit is refused with 413 as soon as it crosses the limit
// (RFC 9110 §15.5.14) and the rest is not read: the answer closes the connection (RFC 9112 §9.6), so an
// endless body no longer holds a socket until node's requestTimeout. At the limit it is still read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { head, rawRequest, type RawReply, assertOutcome, countPatients } from './raw-http.js';

const LIMIT = 256 * 1024;
let server: TestServer;
let port: number;
before(async () => {
  server = await startTestServer({ env: { MAX_BODY_BYTES: String(LIMIT) } });
  port = Number(new URL(server.baseUrl).port);
});
after(async () => server?.stop());

const PATIENT = '{"resourceType":"Patient"}';
const CHUNKED = { 'Content-Type': 'application/fhir+json', 'Transfer-Encoding': 'chunked' };
const chunk = (b: Buffer | string) => Buffer.concat([Buffer.from(`${Buffer.byteLength(b).toString(16)}\r\n`), Buffer.from(b), Buffer.from('\r\n')]);



/**
 * Sends a chunked body that never ends, 16 kB at a time, as fast as the server takes it. Resolves with the
 * answer's head and whether the server closed the connection, or rejects after `timeoutMs` (the hang).
 */
function endlessChunked(timeoutMs: number): Promise<{ head: string; closed: boolean; sent: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let sent = 0;
    let closed = false;
    const piece = chunk(Buffer.alloc(16 * 1024, 0x20));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer and no close within ${timeoutMs} ms (sent ${sent} bytes): ${data.slice(0, 200)}`)); }, timeoutMs);
    const pump = () => {
      while (!socket.destroyed && socket.writable) {
        sent += piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
    };
    socket.on('connect', () => { socket.write(head('POST /fhir/Patient HTTP/1.1', CHUNKED)); socket.write(chunk(PATIENT)); pump(); });
    socket.on('data', (c) => { data += c.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ head: data, closed, sent });
    });
  });
}

test('an endless chunked body is 413 as soon as it crosses the limit, and the server closes the connection', async () => {
  const before = await countPatients(server);
  const started = Date.now();
  const r = await endlessChunked(5000);
  assert.ok(Date.now() - started < 5000);
  assert.match(r.head, /^HTTP\/1\.1 413 /, r.head.slice(0, 200));
  assert.match(r.head, /\r\nconnection: close\r\n/i);
  assert.match(r.head, /"resourceType":"OperationOutcome"/);
  assert.ok(r.closed);
  // The server stopped reading: what the client got out is the limit plus what the socket buffers hold.
  assert.ok(r.sent < LIMIT + 16 * 1024 * 1024, `sent ${r.sent}`);
  assert.equal(await countPatients(server), before);
  const ok = await rawRequest(port, [head('GET /fhir/metadata HTTP/1.1', { Connection: 'close' })]);
  assert.equal(ok.status, 200);
});

test('a chunked body of exactly the limit is read; one byte more is 413 and nothing is written', async () => {
  const before = await countPatients(server);
  const atLimit = Buffer.alloc(LIMIT, 0x20);
  atLimit.write(PATIENT, 0);
  const ok = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { ...CHUNKED, Connection: 'close' }), chunk(atLimit.subarray(0, 1000)), chunk(atLimit.subarray(1000)), '0\r\n\r\n']);
  assert.equal(ok.status, 201, ok.body);
  const over = Buffer.alloc(LIMIT + 1, 0x20);
  over.write(PATIENT, 0);
  const r = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', CHUNKED), chunk(over), '0\r\n\r\n']);
  assertOutcome(r, 413);
  assert.equal(await countPatients(server), before + 1);
});

test('a coded body is held to the limit once decoded; its coding is still read', async () => {
  const before = await countPatients(server);
  const big = Buffer.alloc(LIMIT + 1, 0x20);
  big.write(PATIENT, 0);
  const r = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { ...CHUNKED, 'Content-Encoding': 'gzip' }), chunk(gzipSync(big)), '0\r\n\r\n']);
  assertOutcome(r, 413);
  const small = await rawRequest(port, [head('POST /fhir/Patient HTTP/1.1', { ...CHUNKED, 'Content-Encoding': 'gzip', Connection: 'close' }), chunk(gzipSync(Buffer.alloc(LIMIT, 0x20).fill(PATIENT, 0, PATIENT.length))), '0\r\n\r\n']);
  assert.equal(small.status, 201, small.body);
  assert.equal(await countPatients(server), before + 1);
});
