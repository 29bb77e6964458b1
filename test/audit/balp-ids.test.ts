// AuditEvent ids (src/audit/balp.ts): version 7 UUIDs (RFC 9562 §5.7), so events built later sort after
// events built earlier and audit.event's (tenant, id) index grows at its right edge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAuditRows, type AuditFacts } from '../../src/audit/balp.js';
import { newEventId } from '../../src/audit/event-id.js';
import { presentEvents } from '../../src/audit/expand.js';

const facts = (patients: string[]): AuditFacts => ({
  actor: { tenant: 't', role: 'system', clientId: 'c' },
  recorded: new Date().toISOString(),
  subtype: 'read',
  action: 'R',
  outcome: 0,
  patients,
  server: { observer: 'fhirgate', address: 'http://localhost/fhir' },
});

test('event ids are version 7 UUIDs, in the order the events were built, and distinct', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    for (const row of buildAuditRows(facts(['Patient/a', 'Patient/b']))) ids.push(row.id);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual([...ids].sort(), ids, 'ids sort in the order they were made');
  assert.equal(new Set(ids).size, ids.length);
  // The id inside the event is the row's id.
  const [row] = buildAuditRows(facts([]));
  assert.equal(JSON.parse(row.content).id, row.id);
});

test('ids made within one millisecond still increase, across refills of the random pool, and carry the time', () => {
  const before = Date.now();
  const ids = Array.from({ length: 5000 }, () => newEventId()); // 5000 × 16 bytes: the 4 kB pool refills 19 times
  const after = Date.now();
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of [ids[0], ids[ids.length - 1]]) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16); // unix_ts_ms, the first 48 bits
    assert.ok(ms >= before && ms <= after + 1, `timestamp ${ms} within [${before}, ${after}]`);
  }
  // The random tails differ: the pool is not handing out the same bytes twice.
  assert.equal(new Set(ids.map((id) => id.slice(-12))).size, ids.length);
});

test('the events of one access differ only in id and patient; a Patient read names its data entity in every event, its own patient\'s too', () => {
  // BALP PatientRead: entity 2..*, entity[patient] 1..1 and entity[data] 1..1 (what 1..1), so reading
  // Patient/b names Patient/b twice in b's event: once as the patient, once as the data read.
  const f: AuditFacts = { ...facts(['Patient/b', 'Patient/a', 'Patient/c', 'Patient/a']), resource: 'Patient/b', requestId: 'r-1' };
  const rows = buildAuditRows(f);
  assert.equal(rows.length, 1, 'one row stands for the three events');
  assert.equal(rows[0].patient, 'Patient/a Patient/b Patient/c');
  const events = presentEvents(rows[0]).map((e) => JSON.parse(e.content));
  const refs = (e: { entity: Array<{ what?: { reference?: string } }> }) => e.entity.map((x) => x.what?.reference ?? '-');
  assert.deepEqual(events.map(refs), [['Patient/a', 'Patient/b', '-'], ['Patient/b', 'Patient/b', '-'], ['Patient/c', 'Patient/b', '-']]);
  for (const e of events) {
    assert.equal(e.meta.profile[0], 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead');
    assert.deepEqual(e.entity[1], { role: { code: '4', display: 'Domain Resource', system: 'http://terminology.hl7.org/CodeSystem/object-role' }, type: { code: '2', display: 'System Object', system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type' }, what: { reference: 'Patient/b' } });
  }
  const same = (e: Record<string, unknown>) => ({ ...e, id: '', entity: (e.entity as unknown[]).slice(1) });
  assert.deepEqual(same(events[0]), same(events[1]));
  assert.deepEqual(same(events[1]), same(events[2]));
});
