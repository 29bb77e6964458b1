// Runs a search the way the HTTP layer would (same handler core), without HTTP: for integration tests.
import type { SearchDb } from './db.js';
import { withTx } from '../../../src/store/session.js';
import { runSearch, typeScope, systemScope, compartmentScope } from '../../../src/fhir/interactions/search.js';
import { loadConfig } from '../../../src/config.js';
import type { FhirRequest } from '../../../src/fhir/types.js';

export const BASE = 'http://test.local/fhir';
const config = loadConfig({ PUBLIC_URL: 'http://test.local', AUTH: 'off' });

export interface SearchResult { status: number; bundle: any }

/** `path` as after /fhir: 'Observation?code=x', '?_type=Patient', 'Patient/1/Observation?…'; `env`: configuration on top of the defaults. */
export async function search(s: SearchDb, path: string, headers: Record<string, string> = {}, tenant = 'default', env?: Record<string, string>): Promise<any> {
  const cfg = env ? loadConfig({ PUBLIC_URL: 'http://test.local', AUTH: 'off', ...env }) : config;
  const [p, q = ''] = path.split('?');
  const segments = p.split('/').filter(Boolean);
  const req: FhirRequest = {
    method: 'GET', segments, params: [...new URLSearchParams(q).entries()], headers,
    ctx: { tenant, role: 'system', scopes: ['system/*.cruds'] },
  };
  const scope = segments.length === 0 ? systemScope(req) : segments.length >= 3 ? compartmentScope(req) : typeScope(req);
  const res = await withTx(s.db, { tenant, role: 'system', scopes: 'system/*.cruds' }, (tx) => runSearch(req, tx, { db: s.db, config: cfg }, scope));
  return JSON.parse(res.raw!);
}

/** Follows next links to the end; returns every match id in order. */
export async function allPages(s: SearchDb, path: string): Promise<string[]> {
  const ids: string[] = [];
  let b = await search(s, path);
  for (let guard = 0; guard < 10000; guard++) {
    for (const e of b.entry ?? []) if (e.search?.mode === 'match') ids.push(`${e.resource.resourceType}/${e.resource.id}`);
    const next = (b.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next');
    if (!next) break;
    b = await search(s, next.url.slice(config.fhirBase.length + 1));
  }
  return ids;
}
