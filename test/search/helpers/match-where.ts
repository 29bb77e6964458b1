// The golden tests' common check: the WHERE part a type-level search compiles to, read from the match
// query (the condition every page, count and estimate shares), and its bound values after tenant and type.
import assert from 'node:assert/strict';
import { plan } from '../../../src/search/plan.js';
import { matchQuery } from '../../../src/search/query.js';

export const goldenOpts = { tenant: 't1', base: 'http://x/fhir', now: Date.UTC(2024, 0, 1) };
const PREFIX = 'select r.rid from fhir.resource r where (r.tenant = $1 and r.type = $2 and not r.deleted and ';

export function checkWhere(type: string, q: string, where: string, values: unknown[]): void {
  const req = plan({ types: [type], params: [...new URLSearchParams(q).entries()] });
  const { text, values: v } = matchQuery(req, goldenOpts);
  assert.equal(text.replace(/\s+/g, ' '), `${PREFIX}${where})`);
  assert.deepEqual(v.slice(0, 2), ['t1', type]);
  assert.deepEqual(v.slice(2), values);
}
