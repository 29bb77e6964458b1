// Which resource each imported JSON value writes, and under which id (R4 http.html#transaction, bundle.html):
// - a `transaction` Bundle: POST entries create (or, with --keep-ids and an id in the resource, update that
//   id, so the Organizations Synthea repeats in every bundle stay one resource each); PUT `Type/id`
//   updates (or creates) that id; PUT `Type?criteria` and POST with ifNoneExist resolve their criteria
//   like the REST path; GET/HEAD entries have nothing to store and are skipped. DELETE and PATCH are
//   refused: import loads content, edits go through the REST API.
// - a `batch` Bundle: the same, each entry on its own. A `collection` Bundle: every entry a POST.
// - any other resource (a `document` Bundle included) is one POST.
// Import decision, documented: a transaction Bundle is all-or-nothing (http.html#transaction "the
// entire set of actions must succeed or fail as a single unit"): one bad entry rejects the whole Bundle,
// which is reported with that entry and the import goes on with the next one. Batch and collection
// entries fail alone.
import { randomUUID } from 'node:crypto';
import { isReservedId, reservedIdMessage } from '../operations/reserved-ids.js';

export type WriteMode = 'create' | 'upsert';

/** The ids that conditional criteria matched, or the message of a lookup that failed. */
export type Resolution = string[] | string;

export interface PlannedEntry {
  /** Bundle.entry index, or -1 for a lone resource. */
  entry: number;
  type: string;
  id: string;
  mode: WriteMode;
  resource: Record<string, unknown>;
  /** An ifNoneExist that matched: nothing is written, references point at the match. */
  existing?: boolean;
}

export interface PlanProblem {
  entry?: number;
  message: string;
}

export interface Plan {
  kind: 'transaction' | 'batch' | 'collection' | 'resource';
  atomic: boolean;
  entries: PlannedEntry[];
  /** fullUrl → `Type/id` of every planned entry. */
  idMap: Map<string, string>;
  problems: PlanProblem[];
  /** Conditional criteria (`Type?query`) this plan needs answered before it can be made. */
  needs: string[];
}

export interface PlanOptions {
  keepIds: boolean;
  /** The server's FHIR base: request URLs and references under it are made relative. */
  base: string;
  /** Answers to conditional criteria, `Type?query` → matching ids, or why the lookup failed. */
  resolved: ReadonlyMap<string, Resolution>;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;

/**
 * A request.url as a problem message shows it: the path, never the query, whose criteria can carry an
 * identifier or a birth date (problems are printed and logged: no PHI).
 */
const shown = (url: string): string => `'${url.split('?')[0].slice(0, 80)}${url.includes('?') ? '?…' : ''}'`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Planner {
  readonly plan: Plan;
  private readonly seen = new Set<string>();
  constructor(kind: Plan['kind'], readonly opts: PlanOptions) {
    this.plan = { kind, atomic: kind === 'transaction', entries: [], idMap: new Map(), problems: [], needs: [] };
  }

  problem(entry: number | undefined, message: string): void {
    this.plan.problems.push(entry === undefined || entry < 0 ? { message } : { entry, message });
  }

  /** The ids matching `Type?query`; undefined when not looked up yet (noted as needed) or failed (a problem). */
  lookup(entry: number, criteria: string): string[] | undefined {
    const ids = this.opts.resolved.get(criteria);
    if (ids === undefined && !this.plan.needs.includes(criteria)) this.plan.needs.push(criteria);
    if (typeof ids === 'string') this.problem(entry, `criteria ${criteria.split('?')[0]}?… could not be resolved: ${ids}`);
    return typeof ids === 'string' ? undefined : ids;
  }

  /**
   * Every planned write passes here with its final id (POST with --keep-ids, PUT Type/id, a conditional
   * update's match or body id): an id reserved for the server's own OperationDefinitions is a problem of its
   * file and line, as the REST write path refuses it (resource-write.ts); the rest is imported.
   */
  add(p: PlannedEntry, fullUrl: unknown): void {
    if (!p.existing && isReservedId(p.type, p.id)) return this.problem(p.entry, reservedIdMessage(p.id));
    const key = `${p.type}/${p.id}`;
    if (this.plan.atomic && !p.existing && this.seen.has(key)) {
      this.problem(p.entry, `${key} appears more than once in the transaction`);
      return;
    }
    this.seen.add(key);
    this.plan.entries.push(p);
    if (typeof fullUrl === 'string' && fullUrl) this.plan.idMap.set(fullUrl, key);
  }

  /** POST (create, or update of the resource's own id with --keep-ids). */
  post(entry: number, resource: Record<string, unknown>, fullUrl: unknown, ifNoneExist?: string): void {
    const type = resource.resourceType as string;
    if (ifNoneExist) {
      const ids = this.lookup(entry, `${type}?${ifNoneExist}`);
      if (!ids) return;
      if (ids.length > 1) return this.problem(entry, 'ifNoneExist matched more than one resource');
      if (ids.length === 1) return this.add({ entry, type, id: ids[0], mode: 'upsert', resource, existing: true }, fullUrl);
    }
    const own = resource.id;
    if (this.opts.keepIds && own !== undefined) {
      if (typeof own !== 'string' || !ID_RE.test(own)) return this.problem(entry, `invalid resource id '${String(own).slice(0, 80)}'`);
      return this.add({ entry, type, id: own, mode: 'upsert', resource }, fullUrl);
    }
    this.add({ entry, type, id: randomUUID(), mode: 'create', resource }, fullUrl);
  }

  /** PUT Type/id or PUT Type?criteria (http.html#update, #cond-update). */
  put(entry: number, resource: Record<string, unknown>, fullUrl: unknown, path: string, query: string | undefined): void {
    const type = resource.resourceType as string;
    let id: string;
    if (query !== undefined) {
      // http.html#cond-update: PUT [type]?[search parameters]; a query after Type/id is no conditional update.
      if (path !== type) return this.problem(entry, `request.url ${shown(`${path}?${query}`)} is not Type/id or Type?criteria`);
      const ids = this.lookup(entry, `${type}?${query}`);
      if (!ids) return;
      if (ids.length > 1) return this.problem(entry, 'the conditional update matched more than one resource');
      id = ids[0] ?? (typeof resource.id === 'string' && resource.id ? resource.id : randomUUID());
    } else {
      const parts = path.split('/');
      if (parts.length !== 2) return this.problem(entry, `request.url ${shown(path)} is not Type/id`);
      id = decodeURIComponent(parts[1]);
    }
    if (!ID_RE.test(id)) return this.problem(entry, `invalid resource id '${id.slice(0, 80)}'`);
    this.add({ entry, type, id, mode: 'upsert', resource: { ...resource, id } }, fullUrl);
  }

  /** One Bundle.entry of a transaction or batch, by its request (bundle.html "Bundle.entry.request"). */
  requestEntry(i: number, e: Record<string, unknown>): void {
    const req = e.request as Record<string, unknown> | undefined;
    const method = typeof req?.method === 'string' ? req.method.toUpperCase() : '';
    if (method === 'GET' || method === 'HEAD') return;
    if (method === 'DELETE' || method === 'PATCH') return this.problem(i, `${method} entries are not imported; use the REST API`);
    if (method !== 'POST' && method !== 'PUT') return this.problem(i, 'entry has no request.method POST or PUT');
    let url = typeof req?.url === 'string' ? req.url : '';
    if (url.startsWith(this.opts.base + '/')) url = url.slice(this.opts.base.length + 1);
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const urlType = path.split('/')[0];
    const resource = e.resource;
    if (!isObject(resource)) return this.problem(i, 'entry has no resource');
    if (typeof resource.resourceType !== 'string' || !TYPE_RE.test(resource.resourceType)) return this.problem(i, 'the resource has no valid resourceType');
    if (urlType !== resource.resourceType) return this.problem(i, `request.url ${shown(url)} does not match the resource's type`);
    if (method === 'POST') {
      if (path !== urlType) return this.problem(i, `POST request.url must be the resource type, not ${shown(url)}`);
      const ine = typeof req?.ifNoneExist === 'string' && req.ifNoneExist ? req.ifNoneExist : undefined;
      return this.post(i, resource, e.fullUrl, ine);
    }
    this.put(i, resource, e.fullUrl, path, q < 0 ? undefined : url.slice(q + 1));
  }
}

/** The plan for one parsed JSON value: a Bundle to unpack or a resource to store. */
export function planValue(value: unknown, opts: PlanOptions): Plan {
  if (!isObject(value) || typeof value.resourceType !== 'string' || !TYPE_RE.test(value.resourceType)) {
    const p = new Planner('resource', opts);
    p.problem(undefined, 'not a FHIR resource (a JSON object with a resourceType)');
    return p.plan;
  }
  const type = value.type;
  if (value.resourceType !== 'Bundle' || (type !== 'transaction' && type !== 'batch' && type !== 'collection')) {
    const p = new Planner('resource', opts);
    p.post(-1, value, undefined);
    return p.plan;
  }
  const p = new Planner(type, opts);
  const entries = Array.isArray(value.entry) ? value.entry : [];
  entries.forEach((e: unknown, i: number) => {
    if (!isObject(e)) return p.problem(i, 'entry is not an object');
    if (type !== 'collection') return p.requestEntry(i, e);
    const r = e.resource;
    if (!isObject(r) || typeof r.resourceType !== 'string' || !TYPE_RE.test(r.resourceType)) return p.problem(i, 'entry has no resource');
    p.post(i, r, e.fullUrl);
  });
  return p.plan;
}
