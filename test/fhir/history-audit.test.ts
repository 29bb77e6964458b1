// AuditEvents are append-only, one version each: the CapabilityStatement declares them read and search-type
// only, readHistory false, versioning no-version (operations/metadata.ts). What it claims holds for the one
// role that reads them: their history and vread are no endpoint (R4 http.html: 404 "not a FHIR end-point"),
// answered as unsupported, not as a refusal of the auditor's access (403).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRoleServer, call, SYSTEM } from '../compliance/helpers.js';

let server: Awaited<ReturnType<typeof startRoleServer>>;
before(async () => {
  server = await startRoleServer();
});
after(async () => server?.stop());

const auditor = { role: 'auditor' as const, scopes: ['user/AuditEvent.rs'], userId: 'aud', clientId: 'audit-ui' };

test('the auditor: AuditEvent history and vread are unsupported (404 not-supported), as the CapabilityStatement says', async () => {
  assert.equal((await call(server, SYSTEM, 'PUT', 'Patient/ha-1', { resourceType: 'Patient', id: 'ha-1' })).status, 201);
  const found = await call(server, auditor, 'GET', 'AuditEvent?_count=1');
  assert.equal(found.status, 200, found.text);
  const id = found.json.entry[0].resource.id as string;
  assert.equal((await call(server, auditor, 'GET', `AuditEvent/${id}`)).status, 200, 'the event is there to read');

  for (const path of ['AuditEvent/_history', `AuditEvent/${id}/_history`, `AuditEvent/${id}/_history/1`]) {
    const r = await call(server, auditor, 'GET', path);
    assert.equal(r.status, 404, `${path}: ${r.text}`);
    assert.equal(r.json.issue[0].code, 'not-supported', path);
  }

  const cs = await call(server, auditor, 'GET', 'metadata');
  const ae = cs.json.rest[0].resource.find((x: { type: string }) => x.type === 'AuditEvent');
  assert.equal(ae.readHistory, false);
  assert.deepEqual(ae.interaction.map((i: { code: string }) => i.code).sort(), ['read', 'search-type']);
});
