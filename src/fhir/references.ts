// Reference resolution inside a transaction (R4 http.html#trules): references to an entry's fullUrl
// (urn:uuid:…, urn:oid:… or an absolute URL) become the entry's new `Type/id`; conditional references
// (`Patient?identifier=…`) must match exactly one resource, otherwise the transaction fails.
import type { Resource } from 'fhir/r4';
import { badRequest, preconditionFailed } from '../errors.js';
import { parseCriteria } from './criteria.js';

type Finder = (type: string, criteria: Array<[string, string]>) => Promise<Array<{ id: string }>>;

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?(.+)$/;

export async function rewriteReferences(resource: Resource, idMap: Map<string, string>, find: Finder, base: string): Promise<Resource> {
  const cache = new Map<string, string>();
  async function resolve(ref: string): Promise<string> {
    const mapped = idMap.get(ref);
    if (mapped) return mapped;
    if (ref.startsWith(base + '/')) return ref.slice(base.length + 1);
    const m = CONDITIONAL.exec(ref);
    if (!m) {
      if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) throw badRequest(`reference '${ref.slice(0, 80)}' names no entry of the transaction`);
      return ref;
    }
    const hit = cache.get(ref);
    if (hit) return hit;
    const found = await find(m[1], parseCriteria(m[2]));
    if (found.length !== 1) throw preconditionFailed(`conditional reference ${m[1]}?… matched ${found.length === 0 ? 'no' : 'more than one'} resource`);
    const resolved = `${m[1]}/${found[0].id}`;
    cache.set(ref, resolved);
    return resolved;
  }
  async function walk(node: unknown): Promise<unknown> {
    if (Array.isArray(node)) return Promise.all(node.map(walk));
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === 'reference' && typeof v === 'string' ? await resolve(v) : await walk(v);
    }
    return out;
  }
  return (await walk(resource)) as Resource;
}
