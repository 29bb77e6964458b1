// Bytes the server cannot read as the standards define them are refused, not guessed at: a query with
// a broken percent-escape or escapes that are not UTF-8 (RFC 3986 §2.1, §2.5), a JSON body that is not
// UTF-8 (RFC 8259 §8.1). Content-Encoding is decoded or refused with 415 (RFC 9110 §8.4), never garbled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { head, rawRequest, type RawReply, assertOutcome, countPatients } from './raw-http.js';

let server: TestServer;
let port: number;
before(async () => {
  server = await startTestServer();
  port = Number(new URL(server.baseUrl).port);
});
after(async () => server?.stop());



const get = (target: string) => rawRequest(port, [head(`GET ${target} HTTP/1.1`, { Connection: 'close' })]);
const post = (path: string, body: Buffer, headers: Record<string, string> = {}) =>
  rawRequest(port, [head(`POST ${path} HTTP/1.1`, { 'Content-Type': 'application/fhir+json', 'Content-Length': body.length, Connection: 'close', ...headers }), body]);

test('a query with a broken percent-escape or escapes that are not UTF-8 is 400, as in the path', async () => {
  for (const q of ['name=%C3%28', 'name=%ZZ', 'name=100%', '%C3%28=x', 'name=%ff']) {
    assertOutcome(await get(`/fhir/Patient?${q}`), 400);
  }
  const form = Buffer.from('name=%C3%28');
  assertOutcome(await post('/fhir/Patient/_search', form, { 'Content-Type': 'application/x-www-form-urlencoded' }), 400);
  // Well-formed escapes, '+' and unicode still read as before.
  const ok = await get('/fhir/Patient?name=%E2%98%83+x&_count=1&');
  assert.equal(ok.status, 200, ok.body);
});

test('a JSON body that is not UTF-8 is 400 and writes nothing; a UTF-8 byte order mark is ignored', async () => {
  const before = await countPatients(server);
  const bad = Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);
  const r = await post('/fhir/Patient', bad);
  assertOutcome(r, 400);
  assert.match(r.json.issue[0].diagnostics, /UTF-8/);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"resourceType":"Patient"}', 'utf16le')]);
  assertOutcome(await post('/fhir/Patient', utf16), 400);
  assert.equal(await countPatients(server), before);
  const bom = await post('/fhir/Patient', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"resourceType":"Patient","name":[{"family":"Bom"}]}')]));
  assert.equal(bom.status, 201, bom.body);
  assert.equal(bom.json.name[0].family, 'Bom');
});

test('gzip, deflate and br bodies are decoded; stacked or unknown codings are 415; a corrupt one is 400', async () => {
  const text = '{"resourceType":"Patient","name":[{"family":"Zipped"}]}';
  for (const [coding, body] of [['gzip', gzipSync(text)], ['deflate', deflateSync(text)], ['br', brotliCompressSync(text)]] as const) {
    const r = await post('/fhir/Patient', body, { 'Content-Encoding': coding });
    assert.equal(r.status, 201, `${coding}: ${r.body}`);
    assert.equal(r.json.name[0].family, 'Zipped');
  }
  const before = await countPatients(server);
  assertOutcome(await post('/fhir/Patient', gzipSync(gzipSync(text)), { 'Content-Encoding': 'gzip, gzip' }), 415);
  assertOutcome(await post('/fhir/Patient', Buffer.from(text), { 'Content-Encoding': 'zstd' }), 415);
  assertOutcome(await post('/fhir/Patient', Buffer.from(text), { 'Content-Encoding': 'gzip' }), 400);
  assert.equal(await countPatients(server), before);
});
