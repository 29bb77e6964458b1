// Forward chains (targets listed first, chain-targets.ts) and _has (met on index rows alone, compile.ts)
// against the real server while the data changes (R4 search.html#chaining, #has): an update that changes
// the code or the reference, and a delete, change what they find at once; a deleted target is no target.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { call } from '../helpers/http.js';

let server: TestServer;
const code = (c: string) => ({ coding: [{ system: 'http://loinc.org', code: c }] });
const obs = (id: string, patient: string, c: string) => ({ resourceType: 'Observation', id, status: 'final', code: code(c), subject: { reference: `Patient/${patient}` } });

before(async () => {
  server = await startTestServer();
  const put = async (r: { resourceType: string; id: string }) => {
    const res = await call(server.fhirBase, 'PUT', `${r.resourceType}/${r.id}`, r);
    assert.ok(res.status === 201 || res.status === 200, `${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
  };
  for (const [id, family] of [['pa', 'Quist'], ['pb', 'Quist'], ['pc', 'Rand']]) await put({ resourceType: 'Patient', id, name: [{ family }] } as any);
  for (const o of [obs('o1', 'pa', '111-1'), obs('o2', 'pb', '111-1'), obs('o3', 'pc', '111-1'), obs('o4', 'pa', '222-2')]) await put(o);
});
after(async () => server?.stop());

async function ids(path: string): Promise<string[]> {
  const r = await call(server.fhirBase, 'GET', path);
  assert.equal(r.status, 200, `${path}: ${r.text}`);
  return (r.json.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
}

test('chains and _has follow updates and deletes of the referring and the referred resources', async () => {
  const chain = 'Observation?subject:Patient.name=quist&code=111-1';
  const has = 'Patient?_has:Observation:subject:code=111-1';
  assert.deepEqual(await ids(chain), ['o1', 'o2']);
  assert.deepEqual(await ids(has), ['pa', 'pb', 'pc']);

  // o2 gets another code: gone from both.
  assert.equal((await call(server.fhirBase, 'PUT', 'Observation/o2', obs('o2', 'pb', '333-3'))).status, 200);
  assert.deepEqual(await ids(chain), ['o1']);
  assert.deepEqual(await ids(has), ['pa', 'pc']);

  // o3 now points at a Quist: the chain finds it.
  assert.equal((await call(server.fhirBase, 'PUT', 'Observation/o3', obs('o3', 'pb', '111-1'))).status, 200);
  assert.deepEqual(await ids(chain), ['o1', 'o3']);
  assert.deepEqual(await ids(has), ['pa', 'pb']);

  // A deleted referring resource no longer makes its patient match; a deleted target is no target.
  assert.equal((await call(server.fhirBase, 'DELETE', 'Observation/o1')).status < 300, true);
  assert.deepEqual(await ids(has), ['pb']);
  assert.deepEqual(await ids(chain), ['o3']);
  assert.equal((await call(server.fhirBase, 'DELETE', 'Patient/pb')).status < 300, true);
  assert.deepEqual(await ids(chain), []);
  assert.deepEqual(await ids('Observation?subject:Patient.name=quist'), ['o4']);
});
