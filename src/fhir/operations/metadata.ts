// GET [base]/metadata (R4 http.html#capabilities): a CapabilityStatement generated from data, so it can
// never claim what the server does not do. Resources: the R4 core types of the registry; interactions
// and formats: capability/server.json; search parameters: the search registry; operations:
// capability/operations/*.json, only those marked implemented and registered in the routes table (the
// definitions this server owns are served from the same files: operation-definitions.ts);
// security: SMART App Launch with the oauth-uris extension (SMART 1.0 "Declaring support for OAuth2
// endpoints"), only when authentication is on. Built once per process and kept.
import { readdirSync, readFileSync } from 'node:fs';
import { loadCapabilityJson } from '../../registry/load-json.js';
import { RESOURCE_TYPES } from '../../registry/resource-types.js';
import { listSearchParams } from '../../registry/search-params.js';
import { listOperations } from '../routes.js';
import type { Handler } from '../services.js';
import { AUDIT_SEARCH_PARAMS } from '../interactions/audit-search.js';

type Json = Record<string, unknown>;

interface ServerData {
  /** The CapabilityStatement without date, version, URLs, resources and operations. */
  statement: Json & { rest: Json[] };
  /** What every resource type supports (CapabilityStatement.rest.resource, less type/profile/searchParam). */
  resource: Json;
}

/** One file of capability/operations/. */
export interface OperationData {
  name: string;
  /** Canonical URL of the OperationDefinition; relative = on this server's FHIR base. */
  definition: string;
  levels: Array<'system' | 'type' | 'instance'>;
  resources: '*' | string[];
  implemented: boolean;
  /** OperationDefinition.affectsState: whether the operation changes anything (AuditEvent never declares one that does). */
  affectsState: boolean;
  documentation?: string;
  /**
   * For an operation this server defines (a relative `definition`, `OperationDefinition/fhirgate-…`): the parts
   * of its OperationDefinition found nowhere else; the rest (id, url, code, levels, resource, affectsState,
   * description) comes from the fields above (operation-definitions.ts), so it is never kept twice.
   */
  operationDefinition?: {
    name: string;
    title?: string;
    /** OperationDefinition.base: the definition this one constrains. */
    base?: string;
    parameter: Json[];
  };
}

export interface CapabilityOptions {
  fhirBase: string;
  publicUrl: string;
  /** Names of operations registered in the routes table; when given, only those may be declared. */
  registeredOperations?: Iterable<string>;
  /** CapabilityStatement.date (default: now). */
  date?: string;
  /** AUTH=off: every request runs with full access and tokens are not read, so no security service is declared. */
  authOff?: boolean;
}

const SMART_OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';

export function loadOperations(): OperationData[] {
  const dir = new URL('../../../capability/operations/', import.meta.url);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => loadCapabilityJson<OperationData>(`operations/${f}`));
}

function softwareVersion(): string | undefined {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as Json;
  return typeof pkg.version === 'string' ? pkg.version : undefined;
}

/** The operations that may be declared: implemented, and registered when the routes table is known. */
export function declarableOperations(registered?: Iterable<string>): OperationData[] {
  const names = registered ? new Set(registered) : undefined;
  return loadOperations().filter((op) => op.implemented === true && (!names || names.has(op.name)));
}

/** The canonical URL of an operation's definition: absolute as written, or a relative one on this server's FHIR base. */
export function definitionUrl(op: OperationData, fhirBase: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(op.definition) ? op.definition : `${fhirBase}/${op.definition}`;
}

function operationEntry(op: OperationData, fhirBase: string): Json {
  return { name: op.name, definition: definitionUrl(op, fhirBase), ...(op.documentation ? { documentation: op.documentation } : {}) };
}

/**
 * AuditEvent is served by the append-only audit store, not the resource tables (routes.ts): it is read and
 * searched by the auditor, never written (no operation that affects state either: routes.ts answers 405), has
 * no history and no version to compare, so no conditional read (interactions/audit-search.ts auditRead sends
 * no ETag and never 304), and searches only by AUDIT_SEARCH_PARAMS.
 */
const AUDIT_RESOURCE: Json = {
  interaction: [{ code: 'read' }, { code: 'search-type' }], versioning: 'no-version', readHistory: false, updateCreate: false,
  conditionalCreate: false, conditionalRead: 'not-supported', conditionalUpdate: false, conditionalDelete: 'not-supported',
};

/**
 * Registered search parameters a search refuses whatever their value: `_query` names a named query
 * (search.html#query), and this server defines none (search/plan.ts answers 400), so declaring it would
 * claim a query no request can use (CapabilityStatement.rest.resource.searchParam: "supported by implementation").
 */
const REFUSED_SEARCH_PARAMS = new Set(['_query']);

function searchParams(type: string): Json[] {
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const p of listSearchParams(type)) {
    if (seen.has(p.name) || REFUSED_SEARCH_PARAMS.has(p.name)) continue; // cpb-12: names unique within a resource
    if (type === 'AuditEvent' && !AUDIT_SEARCH_PARAMS.includes(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, ...(p.url ? { definition: p.url } : {}), type: p.type, ...(p.documentation ? { documentation: p.documentation } : {}) });
  }
  return out;
}

/** The CapabilityStatement, as a plain object (pure apart from reading capability/ data). */
export function buildCapabilityStatement(opts: CapabilityOptions): Json {
  const server = loadCapabilityJson<ServerData>('server.json');
  const usCore = loadCapabilityJson<{ instantiates: string[]; supportedProfile: Record<string, string[]> }>('us-core.json');
  const ops = declarableOperations(opts.registeredOperations);
  const { statement } = structuredClone(server);
  const [rest, ...otherRest] = statement.rest;
  const version = softwareVersion();

  const resource = RESOURCE_TYPES.map((type) => {
    const typeOps = ops.filter((op) => (op.resources === '*' || op.resources.includes(type)) && op.levels.some((l) => l !== 'system')
      && !(type === 'AuditEvent' && op.affectsState));
    const params = searchParams(type);
    return {
      type,
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      ...(usCore.supportedProfile[type] ? { supportedProfile: usCore.supportedProfile[type] } : {}),
      ...structuredClone(server.resource),
      interaction: (server.resource.interaction as string[]).map((code) => ({ code })),
      ...(params.length ? { searchParam: params } : {}),
      ...(typeOps.length ? { operation: typeOps.map((op) => operationEntry(op, opts.fhirBase)) } : {}),
      ...(type === 'AuditEvent' ? AUDIT_RESOURCE : {}),
    };
  });
  const systemOps = ops.filter((op) => op.levels.includes('system')).map((op) => operationEntry(op, opts.fhirBase));

  const security = rest.security as Json;
  // SMART App Launch: browser apps call the API cross-origin; http/cors.ts answers them.
  security.cors = true;
  if (opts.authOff) {
    // Tokens are not read (http/app.ts): declaring the SMART service would tell clients to obtain tokens that
    // change nothing. capabilitystatement.html: security describes "information about security implementation".
    delete security.service;
    security.description = 'Authentication is off (AUTH=off): every request runs with full access and no token is needed or read.';
  } else security.extension = [{
    url: SMART_OAUTH_URIS,
    extension: [
      { url: 'authorize', valueUri: `${opts.publicUrl}/auth/authorize` },
      { url: 'token', valueUri: `${opts.publicUrl}/auth/token` },
      { url: 'introspect', valueUri: `${opts.publicUrl}/auth/introspect` },
      { url: 'revoke', valueUri: `${opts.publicUrl}/auth/revoke` },
    ],
  }];

  return {
    resourceType: 'CapabilityStatement',
    ...statement,
    date: opts.date ?? new Date().toISOString(),
    instantiates: usCore.instantiates,
    software: { ...(statement.software as Json), ...(version ? { version } : {}) },
    implementation: { ...(statement.implementation as Json), url: opts.fhirBase },
    rest: [{ ...rest, security, resource, ...(systemOps.length ? { operation: systemOps } : {}) }, ...otherRest],
  };
}

/** Serialised once (~0.8 MB with every type's search parameters): later requests send the same text. */
const cache = new Map<string, string>();

/**
 * GET [base]/metadata: no token needed (CONTRACT.md); `mode` and `_summary` are not supported. Built on
 * the first request, after the operations are registered, then kept for the life of the process.
 */
export const metadata: Handler = async (_req, svc) => {
  const key = `${svc.config.fhirBase} ${svc.config.publicUrl} ${svc.config.authOff}`;
  let text = cache.get(key);
  if (text === undefined) {
    const registeredOperations = listOperations().map((op) => op.name);
    text = JSON.stringify(buildCapabilityStatement({ fhirBase: svc.config.fhirBase, publicUrl: svc.config.publicUrl, registeredOperations, authOff: svc.config.authOff }));
    cache.set(key, text);
  }
  return { status: 200, raw: text };
};
