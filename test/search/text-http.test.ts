// _text and _content against the real server (R4 search.html#text, #content): the narrative and the whole
// resource's strings, with AND / OR / NOT / phrases; the stored documents follow updates and deletes, stay
// behind row-level security (tenant, patient compartment), and the GIN indexes serve the search under it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRoleServer, call, SYSTEM, ownerClient, asRole } from '../compliance/helpers.js';
import type { TestServer } from '../helpers/server.js';
import { plan } from '../../src/search/plan.js';
import { pageQuery } from '../../src/search/query.js';

let server: TestServer & { dataDir: string };
const div = (html: string) => ({ status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${html}</div>` });
const condition = (id: string, patient: string, narrative?: string, note?: string) => ({
  resourceType: 'Condition', id, subject: { reference: `Patient/${patient}` }, code: { text: 'finding' },
  ...(narrative ? { text: div(narrative) } : {}), ...(note ? { note: [{ text: note }] } : {}),
});

before(async () => {
  server = await startRoleServer();
  const put = async (r: { resourceType: string; id: string }, ctx: object = SYSTEM) => {
    const res = await call(server, ctx, 'PUT', `${r.resourceType}/${r.id}`, r);
    assert.ok(res.status === 201 || res.status === 200, `${r.resourceType}/${r.id}: ${res.status} ${res.text}`);
  };
  await put({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Quixote', given: ['Mary'] }] } as never);
  await put({ resourceType: 'Patient', id: 'p2' });
  await put(condition('c1', 'p1', '<p>Metastases in the <b>bone</b> &amp; spine</p>'));
  await put(condition('c2', 'p1', '<p>liver metastases</p>'));
  await put(condition('c3', 'p2', '<p>lung metastases</p>'));
  await put(condition('c4', 'p2', '<p>bone fracture</p>'));
  await put(condition('c5', 'p2', undefined, 'bone metastases noted by radiology'));
  await put(condition('t1', 'p1', '<p>bone metastases</p>'), { ...SYSTEM, tenant: 'other' });
});
after(async () => server?.stop());

const ids = (b: any) => (b.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
const search = async (q: string, ctx: object = SYSTEM) => {
  const r = await call(server, ctx, 'GET', q);
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return ids(r.json);
};

test('_text searches the narrative with AND / OR / parentheses, phrases and negation', async () => {
  assert.deepEqual(await search(`Condition?_text=${encodeURIComponent('(bone OR liver) and metastases')}`), ['c1', 'c2']);
  assert.deepEqual(await search(`Condition?_text=${encodeURIComponent('"bone fracture"')}`), ['c4']);
  assert.deepEqual(await search(`Condition?_text=${encodeURIComponent('"fracture bone"')}`), []);
  assert.deepEqual(await search(`Condition?_text=${encodeURIComponent('bone -fracture')}`), ['c1']);
  assert.deepEqual(await search('Condition?_text=LUNG,liver'), ['c2', 'c3']);
  // Markup is not text: tag names and character references are not words of the narrative.
  assert.deepEqual(await search('Condition?_text=div'), []);
  assert.deepEqual(await search('Condition?_text=amp'), []);
  assert.deepEqual(await search('Condition?_text=spine'), ['c1']);
});

test('_content searches every string of the resource; _text only the narrative', async () => {
  assert.deepEqual(await search('Condition?_content=radiology'), ['c5']);
  assert.deepEqual(await search('Condition?_text=radiology'), []);
  assert.deepEqual(await search(`Condition?_content=${encodeURIComponent('bone AND metastases')}`), ['c1', 'c5']);
  assert.deepEqual(await search('Patient?_content=mary'), ['p1']);
});

test('the documents follow updates and deletes', async () => {
  await call(server, SYSTEM, 'PUT', 'Condition/c4', condition('c4', 'p2', '<p>healed wrist</p>'));
  assert.deepEqual(await search('Condition?_text=fracture'), []);
  assert.deepEqual(await search('Condition?_text=wrist'), ['c4']);
  await call(server, SYSTEM, 'DELETE', 'Condition/c4');
  assert.deepEqual(await search('Condition?_text=wrist'), []);
});

test('row-level security: other tenants and other patients never match', async () => {
  assert.deepEqual(await search('Condition?_text=metastases', { ...SYSTEM, tenant: 'other' }), ['t1']);
  const p1 = { role: 'patient', scopes: ['patient/*.rs'], patient: 'p1', fhirUser: 'Patient/p1', clientId: 'portal' };
  assert.deepEqual(await search('Condition?_text=metastases', p1), ['c1', 'c2']);
  assert.deepEqual(await search('Condition?_content=metastases', p1), ['c1', 'c2']);
});

test('under row-level security the GIN index serves the text condition (ts_match_vq leakproof)', async () => {
  const c = await ownerClient(server.adminUrl);
  try {
    const who = { role: 'system', tenant: 'default', scopes: 'system/*.cruds' };
    for (const [param, index] of [['_text', 'sp_text_narrative'], ['_content', 'sp_text_content']]) {
      const q = pageQuery(plan({ types: ['Condition'], params: [[param, 'metastases']] }), { tenant: 'default', base: server.fhirBase, now: Date.now() }, 21).sql;
      const planText = await asRole(c, who, async () => {
        // Tiny tables: take away the plans that only win at this size (a scan, a lookup per resource row).
        await c.query('set local enable_seqscan = off');
        await c.query('set local enable_nestloop = off');
        return (await c.query(`explain ${q.text}`, q.values)).rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      assert.ok(typeof planText === 'string', String(planText));
      assert.match(planText as string, new RegExp(`Bitmap Index Scan on ${index}.*\\n\\s*Index Cond: \\((\\w+\\.)?(narrative|content) @@`), planText as string);
    }
  } finally {
    await c.end();
  }
});

test('malformed text searches are 400 OperationOutcomes naming the parameter', async () => {
  for (const [q, param] of [['Condition?_text=%28bone', '_text'], ['Condition?_content=%22open', '_content'], ['Condition?_text=OR', '_text']]) {
    const r = await call(server, SYSTEM, 'GET', q);
    assert.equal(r.status, 400, `${q}: ${r.text}`);
    assert.equal(r.json.resourceType, 'OperationOutcome');
    assert.deepEqual(r.json.issue[0].expression, [param]);
  }
});
