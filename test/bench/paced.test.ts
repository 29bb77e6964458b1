// bench/paced.ts: the lean client's HTTP/1.1 framing (RFC 9112 §6) and one paced run against a real server.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { answerEnd, paced, pacedInChild, shapeOf } from '../../bench/paced.js';

test('an answer ends after Content-Length bytes, after the last chunk, or after the head when it has no body', () => {
  const a = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1');
  assert.equal(answerEnd(a), a.indexOf('HTTP/1.1', 1));
  assert.equal(answerEnd(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell')), -1);
  assert.equal(answerEnd(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n')), -1);
  const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n';
  assert.equal(answerEnd(Buffer.from(`${chunked}next`)), Buffer.byteLength(chunked));
  assert.equal(answerEnd(Buffer.from(chunked.slice(0, -2))), -1);
  const empty = 'HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n';
  assert.equal(answerEnd(Buffer.from(empty)), empty.length);
});

test('a shape is the path with its parameter names, values left out', () => {
  assert.equal(shapeOf('/fhir/Observation?patient=p1&code=8302-2'), '/fhir/Observation?patient&code');
  assert.equal(shapeOf('/fhir/Patient?name=Sm%26ith&birthdate=1970-01'), '/fhir/Patient?name&birthdate');
  assert.equal(shapeOf('/fhir/Patient/p1'), '/fhir/Patient/p1');
});

test('a paced run sends every request once, counts non-200 answers as errors, and charges latency from the due time', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url!);
    const fail = req.url!.endsWith('7');
    // Every 4th answer chunked, so both framings are read on the same connections.
    if (seen.length % 4 === 0) { res.writeHead(fail ? 404 : 200); res.write('{"a":'); res.end('1}'); }
    else { res.writeHead(fail ? 404 : 200, { 'content-length': 7 }); res.end('{"a":1}'); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  let i = 0;
  // Two shapes: even requests carry ?a=…&b=…, odd ones ?a=… only.
  const r = await paced(`http://127.0.0.1:${port}`, () => { const k = i++; return k % 2 ? `/x?a=${k}` : `/x?a=${k}&b=1`; }, { rate: 200, seconds: 0.5, connections: 3 });
  server.close();
  assert.equal(i, 100);
  assert.deepEqual([...seen].sort(), Array.from({ length: 100 }, (_, k) => (k % 2 ? `/x?a=${k}` : `/x?a=${k}&b=1`)).sort());
  assert.equal(r.errors, 10); // /x?a=7, /x?a=17, … /x?a=97: all of the one-parameter shape
  assert.equal(r.total, 90);
  assert.deepEqual(Object.keys(r.byShape).sort(), ['/x?a', '/x?a&b']);
  assert.equal(r.byShape['/x?a&b'].total, 50);
  assert.equal(r.byShape['/x?a'].total, 40);
  assert.ok(r.byShape['/x?a'].p99ms >= r.byShape['/x?a'].p50ms);
  assert.ok(r.p50ms > 0 && r.p50ms < 50 && r.p99ms >= r.p50ms, JSON.stringify(r));
});

test('pacedInChild offers the given paths in order from a process of its own', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => { seen.push(req.url!); res.writeHead(200, { 'content-length': 2 }); res.end('{}'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const paths = Array.from({ length: 40 }, (_, k) => `/y/${k}`);
  const r = await pacedInChild(`http://127.0.0.1:${port}`, paths, { rate: 100, seconds: 0.4, connections: 1 });
  server.close();
  assert.deepEqual(seen, paths); // one connection: answered in the order sent
  assert.equal(r.total, 40);
  assert.equal(r.errors, 0);
});
