// `fhirgate import` problem messages name the file, the entry and the rule that failed, never the values
// (../shared/CONTRACT.md "logs": no identifier or birth date): a request.url is shown without its query, and a
// criteria lookup that fails is reported without the value it quoted. Also: PUT Type/id?criteria is no
// conditional update (http.html#cond-update: PUT [type]?[search parameters]) and is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useServerAndDir } from '../helpers/server.js';
import { run } from '../../src/cli/import.js';

const fx = useServerAndDir('fhirgate-import-msg-');

test('problems carry no identifier or date from request urls and criteria; PUT Type/id?criteria is refused', async () => {
  const ssn = 'urn:ssn|123-45-6789';
  const path = join(fx.dir, 'cond.json');
  writeFileSync(path, JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [
    { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${ssn}&birthdate=bad-1970-01-02` } },
    { resource: { resourceType: 'Patient', id: 'msg-keep' }, request: { method: 'PUT', url: 'Patient/msg-keep' } },
    { resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: `Patient/a/b?identifier=${ssn}` } },
    { resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: `Observation?identifier=${ssn}` } },
    { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: `Patient/x?identifier=${ssn}` } },
    { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?birthdate=bad-1970-01-02' } }, request: { method: 'POST', url: 'Observation' } },
  ] }));
  const r = await run(['--workers', '0', path], { db: fx.server.db, config: fx.server.config, tenant: 'default' });
  const problems = r.problems as Array<{ entry?: number; message: string }>;
  assert.deepEqual(problems.map((p) => p.entry), [0, 2, 3, 4, 5], JSON.stringify(problems));
  for (const p of problems) assert.doesNotMatch(p.message, /123-45-6789|1970|ssn/, p.message);
  assert.match(problems[0].message, /parameter birthdate: … is not a date/);
  assert.equal(problems[1].message, "request.url 'Patient/a/b?…' is not Type/id or Type?criteria");
  assert.equal(problems[2].message, "request.url 'Observation?…' does not match the resource's type");
  assert.equal(problems[3].message, "POST request.url must be the resource type, not 'Patient/x?…'");
  assert.equal(r.created, 1);
});
