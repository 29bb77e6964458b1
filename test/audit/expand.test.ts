// One stored row per access, one presented AuditEvent per patient (src/audit/balp.ts, src/audit/expand.ts):
// the events expand.ts derives must be exactly the events a row per patient would have held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAuditRows, type AuditFacts } from '../../src/audit/balp.js';
import { eventId, parseEventId, presentEvent, presentEvents } from '../../src/audit/expand.js';

const base = (patients: string[]): AuditFacts => ({
  actor: { tenant: 't', role: 'clinician', clientId: 'app', userId: 'u1', fhirUser: 'Patient/a' },
  recorded: '2026-11-22T10:00:00.123Z',
  subtype: 'search-type',
  action: 'E',
  outcome: 0,
  query: { raw: 'GET Observation?code=x&note="id":"q"', description: 'Observation?code&note' },
  requestId: 'r-9',
  patients,
  server: { observer: 'fhirgate', address: 'http://localhost/fhir' },
});

test('an access touching several patients is one row whose events are those a row per patient would hold', () => {
  const f = base(['Patient/c', 'Patient/a', 'Patient/b', 'Patient/a']);
  const rows = buildAuditRows(f);
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.equal(row.patient, 'Patient/a Patient/b Patient/c');
  const events = presentEvents(row);
  assert.deepEqual(events.map((e) => [e.id, e.k, e.patient]), [[row.id, 1, 'Patient/a'], [`${row.id}.2`, 2, 'Patient/b'], [`${row.id}.3`, 3, 'Patient/c']]);
  for (const e of events) {
    // The same facts for this patient alone, under the id expand.ts gives it: byte for byte the same text.
    const [alone] = buildAuditRows({ ...f, patients: [e.patient] }, () => e.id);
    assert.equal(e.content, alone.content);
    const json = JSON.parse(e.content);
    assert.equal(json.id, e.id);
    assert.equal(json.entity.filter((x: { role?: { code: string } }) => x.role?.code === '1').length, 1, 'one entity[patient]');
    assert.equal(json.agent[2].who.reference, 'Patient/a', 'the agent naming a patient is untouched');
  }
  assert.equal(presentEvent(row, 4), undefined);
});

test('rows of one or no patient present as themselves; a read of one of the patients is one row too', () => {
  const [one] = buildAuditRows(base(['Patient/a']));
  assert.deepEqual(presentEvents(one), [{ id: one.id, k: 1, patient: 'Patient/a', content: one.content }]);
  const [none] = buildAuditRows(base([]));
  assert.deepEqual(presentEvents(none).map((e) => [e.id, e.patient]), [[none.id, '']]);
  const f = { ...base(['Patient/a', 'Patient/b']), subtype: 'read', action: 'R' as const, query: undefined, resource: 'Patient/b' };
  const read = buildAuditRows(f);
  assert.deepEqual(read.map((r) => r.patient), ['Patient/a Patient/b']);
  for (const e of presentEvents(read[0])) assert.equal(e.content, buildAuditRows({ ...f, patients: [e.patient] }, () => e.id)[0].content);
});

test('a row stored with an empty entity list (written before it was left out) is served without it; the stored (hashed) text is not touched', () => {
  // What balp.ts wrote for an access without patient, data, query or request id: FHIR JSON (json.html)
  // forbids the empty array, so the presented event drops it; the row (the hashed text) is not touched.
  const content = '{"action":"E","agent":[{"requestor":true,"type":{"coding":[{"code":"110153","system":"http://dicom.nema.org/resources/ontology/DCM"}]},"who":{"display":"unidentified client"}}],"entity":[],"id":"r-old","outcome":"0","recorded":"2026-11-22T10:00:00.123Z","resourceType":"AuditEvent","source":{"observer":{"display":"fhirgate"}},"subtype":[{"code":"ITI-71","system":"urn:ihe:event-type-code"}],"type":{"code":"110114","system":"http://dicom.nema.org/resources/ontology/DCM"}}';
  const row = { id: 'r-old', patient: '', entity: '', content };
  const [e] = presentEvents(row);
  assert.equal(e.content, content.replace('"entity":[],', ''));
  assert.equal(JSON.parse(e.content).entity, undefined);
  assert.equal(row.content, content, 'the stored row is unchanged');
  // An event built now has no empty entity to drop.
  const [now] = buildAuditRows({ ...base([]), query: undefined, requestId: undefined });
  assert.ok(!now.content.includes('"entity"'), now.content);
  assert.equal(presentEvents(now)[0].content, now.content);
});

test('event ids: the row id for the first patient, <row id>.<k> after it', () => {
  assert.deepEqual(parseEventId('0193-ab'), { rowId: '0193-ab', k: 1 });
  assert.deepEqual(parseEventId('0193-ab.2'), { rowId: '0193-ab', k: 2 });
  assert.deepEqual(parseEventId('0193-ab.17'), { rowId: '0193-ab', k: 17 });
  for (const bad of ['0193-ab.1', '0193-ab.0', '0193-ab.02', '0193-ab.x', '0193-ab.']) assert.equal(parseEventId(bad), undefined, bad);
  assert.equal(eventId('r', 1), 'r');
  assert.equal(eventId('r', 5), 'r.5');
});
