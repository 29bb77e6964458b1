// A 405 carries an Allow header listing the methods the URL takes (RFC 9110 §15.5.6: "The origin server
// MUST generate an Allow header field in a 405 response"), and every method it lists is really routed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server?.stop());

interface Raw { status: number; allow?: string; json: { resourceType?: string } }

/** node:http rather than fetch: fetch refuses TRACE, and may add an Origin that turns OPTIONS into CORS. */
function raw(method: string, path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.fhirBase}/${path}`, { method, headers: { accept: 'application/fhir+json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, json: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end();
  });
}

const methods = (allow: string | undefined) => (allow ?? '').split(',').map((m) => m.trim()).filter(Boolean).sort();

const CASES: Array<[method: string, path: string, allowed: string[]]> = [
  ['POST', 'Patient/123', ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']],
  ['OPTIONS', 'Patient/123', ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']],
  ['TRACE', 'Patient/123', ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']],
  ['OPTIONS', 'Patient', ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT']],
  ['PUT', '', ['GET', 'HEAD', 'POST']],
  ['OPTIONS', '', ['GET', 'HEAD', 'POST']],
  ['POST', 'metadata', ['GET', 'HEAD']],
  ['DELETE', '_history', ['GET', 'HEAD']],
  ['POST', 'Patient/_history', ['GET', 'HEAD']],
  ['PUT', 'Patient/123/_history', ['GET', 'HEAD']],
  ['DELETE', 'Patient/123/_history/1', ['GET', 'HEAD']],
  ['GET', 'Patient/_search', ['POST']],
  ['GET', '_search', ['POST']],
  ['PUT', 'Patient/123/Observation', ['GET', 'HEAD']],
  ['GET', 'Patient/$validate', ['POST']],
  ['DELETE', 'Patient/123/$everything', ['GET', 'HEAD', 'POST']],
  // AuditEvents are written by the server only: reads are all that is left.
  ['POST', 'AuditEvent', ['GET', 'HEAD']],
  ['PUT', 'AuditEvent/1', ['GET', 'HEAD']],
];

test('every 405 has an Allow header with the methods of that URL, and an OperationOutcome', async () => {
  for (const [method, path, allowed] of CASES) {
    const r = await raw(method, path);
    assert.equal(r.status, 405, `${method} /${path}`);
    assert.equal(r.json.resourceType, 'OperationOutcome', `${method} /${path}`);
    assert.deepEqual(methods(r.allow), allowed, `${method} /${path}: Allow ${r.allow}`);
  }
});

test('the methods Allow lists are routed: none of them answers 405', async () => {
  const body = { resourceType: 'Patient', id: 'allow-1' };
  for (const [path, m] of [['Patient/allow-1', 'PUT'], ['Patient/allow-1', 'GET'], ['Patient/allow-1', 'HEAD'], ['Patient/allow-1', 'PATCH'],
    ['Patient/allow-1', 'DELETE'], ['Patient', 'GET'], ['Patient', 'POST'], ['', 'GET'], ['metadata', 'GET'], ['metadata', 'HEAD'],
    ['_history', 'GET'], ['Patient/_search', 'POST']] as const) {
    const r = await call(server.fhirBase, m, path, m === 'PUT' || m === 'POST' ? (path === 'Patient/_search' ? undefined : body) : undefined);
    assert.notEqual(r.status, 405, `${m} /${path}: ${r.text}`);
  }
});

test('an answer other than 405 has no Allow header', async () => {
  const r = await call(server.fhirBase, 'GET', 'Patient/does-not-exist');
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('allow'), null);
});
