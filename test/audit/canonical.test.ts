// Canonical JSON (src/audit/canonical.ts): the fast path (JSON.stringify of a value already in canonical
// order) must give exactly the walk's text, and every AuditEvent shape balp.ts and auth-events.ts build
// must take it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, inCanonicalOrder } from '../../src/audit/canonical.js';
import { restAuditRows } from '../../src/audit/request.js';
import { authAuditRows, type AuthEventKind } from '../../src/audit/auth-events.js';

test('values out of canonical order are sorted; values in order come out the same', () => {
  const unsorted = { b: 1, a: [{ d: 'x', c: null }, true, 2.5], e: undefined, '10': 'ten', '9': 'nine' };
  const text = '{"10":"ten","9":"nine","a":[{"c":null,"d":"x"},true,2.5],"b":1}';
  assert.equal(inCanonicalOrder(unsorted), false);
  assert.equal(canonicalJson(unsorted), text);
  // Integer-like keys: objects list them first, in numeric order ("9" before "10"), which is not canonical.
  assert.equal(inCanonicalOrder(JSON.parse(text)), false);
  assert.equal(canonicalJson(JSON.parse(text)), text);
  const plain = '{"a":[{"c":null,"d":"x"},true,2.5],"b":1,"z":{"y":"é","ÿ":-0}}';
  assert.equal(inCanonicalOrder(JSON.parse(plain)), true);
  assert.equal(canonicalJson(JSON.parse(plain)), plain.replace('-0', '0'));
  // Not plain data: the walk decides (a Date is an object without keys there, a string for JSON.stringify).
  assert.equal(inCanonicalOrder({ at: new Date(0) }), false);
  assert.equal(canonicalJson({ at: new Date(0) }), '{"at":{}}');
  assert.equal(canonicalJson([undefined, 1]), '[null,1]');
  assert.throws(() => canonicalJson({ n: Infinity }), /non-finite/);
  assert.equal(canonicalJson(undefined), 'null');
});

const server = { observer: 'fhirgate', address: 'http://localhost/fhir' };

test('every AuditEvent shape is built in canonical order (so its parts take JSON.stringify)', (t) => {
  // The fast path hands whole objects (balp.ts: the parts of an event) to JSON.stringify; the walk gives it
  // keys and leaves one by one. balp.ts itself gives it one string per event: the event's id.
  const stringify = JSON.stringify;
  let leaves = 0;
  t.mock.method(JSON, 'stringify', (v: unknown, ...rest: unknown[]) => {
    if (v === null || typeof v !== 'object') leaves++;
    return (stringify as (...a: unknown[]) => string)(v, ...rest);
  });
  const actors = [
    { tenant: 't', role: 'system', clientId: 'c', address: '10.0.0.1' },
    { tenant: 't', role: '', address: '10.0.0.1' },
    { tenant: 't', role: 'clinician', clientId: 'c', userId: 'u', fhirUser: 'Practitioner/1' },
    { tenant: 't', role: 'patient', clientId: 'c', userId: 'u', username: 'pat' },
  ];
  const accesses = [
    { method: 'GET', segments: ['Patient', 'p1'], params: [], interaction: 'read', type: 'Patient', status: 200, raw: '{"resourceType":"Patient","id":"p1"}' },
    { method: 'GET', segments: ['Observation'], params: [['patient', 'p1'], ['code', 'x']] as Array<[string, string]>, interaction: 'search', type: 'Observation', status: 200, requestId: 'r-1', patients: ['Patient/p1', 'Patient/p2'] },
    { method: 'POST', segments: ['Observation'], params: [], interaction: 'create', type: 'Observation', status: 201, headers: { Location: 'http://x/fhir/Observation/o1/_history/1' }, touched: ['Patient/p1'] },
    { method: 'DELETE', segments: ['Observation', 'o1'], params: [], interaction: 'delete', type: 'Observation', status: 204 },
    { method: 'GET', segments: ['Patient', 'p1', '$everything'], params: [], status: 200 },
    { method: 'PUT', segments: ['Patient', 'p1'], params: [], interaction: 'update', type: 'Patient', status: 412, message: 'version conflict' },
  ];
  const rows: Array<{ content: string }> = [];
  for (const actor of actors) {
    for (const a of accesses) {
      rows.push(...restAuditRows({ ...a, actor }, server));
    }
    for (const kind of ['login', 'logout', 'token-grant', 'token-refusal', 'bearer-refusal'] as AuthEventKind[]) {
      rows.push(...authAuditRows({ kind, actor, status: kind.endsWith('refusal') ? 401 : 200, reason: 'r', scopes: 'openid', patient: 'p1', requestId: 'q', server }));
    }
  }
  t.mock.restoreAll();
  assert.ok(rows.length > 40);
  assert.equal(leaves, rows.length, 'no part of an event took the walk');
  for (const row of rows) assert.equal(row.content, canonicalJson(JSON.parse(row.content)));
});
