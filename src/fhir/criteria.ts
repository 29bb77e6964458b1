// Conditional interactions (R4 http.html#cond-update, #ccreate, #cdelete) resolve their criteria with the
// ordinary search machinery; this is the one place they ask "which current resources match?".
import type { Tx } from '../store/session.js';
import type { StoredResource } from '../store/resources.js';
import { readCurrent } from '../store/resources.js';
import { badRequest } from '../errors.js';

export function parseCriteria(query: string): Array<[string, string]> {
  const q = query.startsWith('?') ? query.slice(1) : query.includes('?') ? query.slice(query.indexOf('?') + 1) : query;
  const pairs = [...new URLSearchParams(q).entries()];
  if (pairs.length === 0) throw badRequest('conditional criteria are empty');
  return pairs;
}

/** Current, live resources of `type` matching the criteria (at most `limit`, enough to tell 0/1/many). */
export async function findMatches(tx: Tx, type: string, criteria: Array<[string, string]>, limit = 2): Promise<StoredResource[]> {
  const ids = criteria.filter(([k]) => k === '_id').flatMap(([, v]) => v.split(','));
  if (ids.length === criteria.length) {
    const found: StoredResource[] = [];
    for (const id of ids) {
      const s = await readCurrent(tx, type, id);
      if (s && !s.deleted) found.push(s);
      if (found.length >= limit) break;
    }
    return found;
  }
  throw badRequest('conditional criteria other than _id need the search engine (not wired yet)');
}
