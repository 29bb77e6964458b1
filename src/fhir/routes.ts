// The FHIR RESTful API as a table (R4 http.html "Summary"): URL shape + method → interaction → handler.
// One readable list; dispatch checks the resource type and the caller's scopes before any handler runs.
import type { FhirRequest, FhirResponse, HttpMethod } from './types.js';
import type { Services } from './services.js';
import type { Tx } from '../store/session.js';
import type { Interaction } from '../auth/enforce.js';
import { read, vread } from './interactions/read.js';
import { create, update, patch, remove, conditionalUpdate, conditionalDelete, conditionalPatch } from './interactions/write.js';
import { history } from './interactions/history.js';
import { auditRead } from './interactions/audit-search.js';
import { isResourceType } from '../registry/resource-types.js';
import { FhirError, notFound } from '../errors.js';

/** Runs inside the request's transaction (opened by dispatch, or by a transaction Bundle). */
export type TxHandler = (req: FhirRequest, tx: Tx, svc: Services) => Promise<FhirResponse>;
/** Manages its own database work (or needs none). */
export type PlainHandler = (req: FhirRequest, svc: Services) => Promise<FhirResponse>;

export type RouteHandler = { tx: TxHandler } | { plain: PlainHandler };

export interface Route {
  method: HttpMethod;
  /** Segments: literals, `:type`, `:id`, `:vid`, `$op`, `:ctype` (compartment member type). */
  pattern: string;
  interaction: Interaction;
  handler: RouteHandler;
  /** No scope check here: public endpoints (metadata, discovery), or Bundles whose entries are checked one by one. */
  noScopeCheck?: boolean;
  /**
   * The handler only reads: it may share its transaction with concurrent requests of this kind
   * (group commit, src/store/group-tx.ts).
   */
  shared?: 'read' | 'search';
  /**
   * The URL is this route's alone (a literal pattern, such as the server's own OperationDefinitions,
   * operations/operation-definitions.ts): it wins over the generic `:type/:id` routes, and any other method
   * on it is refused with 405 instead of reaching the stored resources.
   */
  owns?: boolean;
}

export interface Operation {
  name: string;
  levels: Array<'system' | 'type' | 'instance'>;
  /** Resource types it applies to; undefined = all. */
  types?: string[];
  methods: HttpMethod[];
  handler: RouteHandler;
  /** The interaction scopes must allow: reading operations need read access, others write. */
  interaction: Interaction;
}

/** AuditEvents live in the append-only audit store, not among resources (issue "Audit"). */
const readOrAudit: TxHandler = (req, tx) => (req.segments[0] === 'AuditEvent' ? auditRead(req, tx) : read(req, tx));

const routes: Route[] = [
  { method: 'GET', pattern: ':type/:id', interaction: 'read', handler: { tx: readOrAudit }, shared: 'read' },
  { method: 'GET', pattern: ':type/:id/_history/:vid', interaction: 'vread', handler: { tx: vread }, shared: 'read' },
  { method: 'POST', pattern: ':type', interaction: 'create', handler: { tx: create } },
  { method: 'PUT', pattern: ':type/:id', interaction: 'update', handler: { tx: update } },
  { method: 'PUT', pattern: ':type', interaction: 'update', handler: { tx: conditionalUpdate } },
  { method: 'PATCH', pattern: ':type/:id', interaction: 'patch', handler: { tx: patch } },
  { method: 'PATCH', pattern: ':type', interaction: 'patch', handler: { tx: conditionalPatch } },
  { method: 'DELETE', pattern: ':type/:id', interaction: 'delete', handler: { tx: remove } },
  { method: 'DELETE', pattern: ':type', interaction: 'delete', handler: { tx: conditionalDelete } },
  { method: 'GET', pattern: ':type/:id/_history', interaction: 'history', handler: { tx: history } },
  { method: 'GET', pattern: ':type/_history', interaction: 'history', handler: { tx: history } },
  { method: 'GET', pattern: '_history', interaction: 'history', handler: { tx: history } },
];

const operations = new Map<string, Operation>();

export function addRoute(route: Route): void {
  routes.push(route);
}

export function addOperation(op: Operation): void {
  operations.set(op.name, op);
}

export function listOperations(): Operation[] {
  return [...operations.values()];
}

export interface Matched {
  handler: RouteHandler;
  interaction: Interaction;
  type?: string;
  noScopeCheck?: boolean;
  shared?: Route['shared'];
}

/** The type a pattern binds, false when it does not match, or `unknown` for a non-type in a `:type` slot. */
function matchPattern(pattern: string, segs: string[]): string | undefined | false | { unknown: string } {
  const parts = pattern === '' ? [] : pattern.split('/');
  if (parts.length !== segs.length) return false;
  let type: string | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const s = segs[i];
    if (p === ':type' || p === ':ctype') {
      if (s.startsWith('_') || s.startsWith('$')) return false;
      // `Patient/123/*`: every type in the compartment (search.html#compartments); scopes then need a wildcard.
      if (p === ':ctype' && s === '*') { type = undefined; continue; }
      if (!isResourceType(s)) return { unknown: s };
      // A compartment search is checked against the member type, not the compartment's own type.
      type = s;
    } else if (p === ':id' || p === ':vid') {
      if (s.startsWith('_') || s.startsWith('$')) return false;
    } else if (p !== s) return false;
  }
  return type;
}

function matchOperation(req: FhirRequest): Matched | undefined {
  const segs = req.segments;
  const opSeg = segs[segs.length - 1];
  if (!opSeg?.startsWith('$')) return undefined;
  const level = segs.length === 1 ? 'system' : segs.length === 2 ? 'type' : segs.length === 3 ? 'instance' : undefined;
  const op = operations.get(opSeg.slice(1));
  if (!op || !level || !op.levels.includes(level)) throw notFound(`operation ${opSeg.slice(0, 64)} is not supported here`);
  const type = level === 'system' ? undefined : segs[0];
  if (type && !isResourceType(type)) throw notFound(`resource type '${type.slice(0, 64)}' is not supported`);
  if (type && op.types && !op.types.includes(type)) throw notFound(`operation ${opSeg} is not defined for ${type}`);
  if (!op.methods.includes(req.method === 'HEAD' ? 'GET' : req.method)) throw new FhirError(405, 'not-supported', `${req.method} is not allowed for ${opSeg}`);
  return { handler: op.handler, interaction: op.interaction, type };
}

const WRITES = new Set<Interaction>(['create', 'update', 'patch', 'delete']);

export function match(req: FhirRequest): Matched {
  const m = matchRoute(req);
  // The audit trail is written by the server alone, through audit.append: no client writes AuditEvents.
  if (m.type === 'AuditEvent' && WRITES.has(m.interaction)) throw new FhirError(405, 'not-supported', 'AuditEvents are recorded by the server and cannot be written');
  return m;
}

function matchRoute(req: FhirRequest): Matched {
  const op = matchOperation(req);
  if (op) return op;
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const owner = routes.find((r) => r.owns && matchPattern(r.pattern, req.segments) !== false);
  if (owner) {
    if (owner.method !== method) throw new FhirError(405, 'not-supported', `/${req.segments.join('/')} is defined by this server and read-only`);
    return { handler: owner.handler, interaction: owner.interaction, noScopeCheck: owner.noScopeCheck, shared: owner.shared };
  }
  let pathKnown = false;
  let unknownType: string | undefined;
  for (const r of routes) {
    const t = matchPattern(r.pattern, req.segments);
    if (t === false) continue;
    if (typeof t === 'object') {
      unknownType ??= t.unknown;
      continue;
    }
    pathKnown = true;
    if (r.method === method) return { handler: r.handler, interaction: r.interaction, type: t, noScopeCheck: r.noScopeCheck, shared: r.shared };
  }
  if (pathKnown) throw new FhirError(405, 'not-supported', `${req.method} is not allowed on this URL`);
  if (unknownType !== undefined) throw notFound(`resource type '${unknownType.slice(0, 64)}' is not supported`);
  throw notFound(`no FHIR endpoint at /${req.segments.map((s) => s.slice(0, 64)).join('/')}`);
}
