// From one FHIR REST access (request, matched interaction, outcome, what it touched) to its AuditEvent
// rows (balp.ts). The FHIR layer describes the access in plain terms; this module knows nothing of it.
import { buildAuditRows, outcomeOf, type Actor, type AuditAction, type AuditRow } from './balp.js';
import { patientsInQuery, patientsInText } from './touched.js';
import { failureDescription } from './outcome-desc.js';

export interface RestAccess {
  actor: Actor;
  method: string;
  segments: string[];
  params: ReadonlyArray<[string, string]>;
  /** The route's interaction (read, vread, search, history, create, update, patch, delete, operation). */
  interaction?: string;
  type?: string;
  status: number;
  /** For failures: the OperationOutcome's diagnostics. */
  message?: string;
  requestId?: string;
  /** Response headers (Location, ETag) and body text, for the entity and the touched patients. */
  headers?: Record<string, string>;
  raw?: string;
  /** The handler's own list of patients touched: replaces the body scan. */
  patients?: string[];
  /** Patients the write path reported (always included). */
  touched?: string[];
  entity?: string;
  /** `transaction` or `batch` for Bundles at the base. */
  bundleType?: string;
  recorded?: string;
}

export interface AuditServer {
  observer: string;
  address?: string;
}

const ACTIONS: Record<string, AuditAction> = { read: 'R', vread: 'R', create: 'C', update: 'U', patch: 'U', delete: 'D' };

function subtypeOf(a: RestAccess): string {
  const s = a.segments;
  if (a.bundleType) return a.bundleType;
  if (s[s.length - 1]?.startsWith('$')) return 'operation';
  if (s[0] === 'metadata') return 'capabilities';
  switch (a.interaction) {
    case 'history':
      return s.length === 3 ? 'history-instance' : s.length === 2 ? 'history-type' : 'history-system';
    case 'search':
      return a.type ? 'search-type' : 'search-system';
    case undefined:
      return a.method === 'GET' ? (s.length >= 2 ? 'read' : 'search-type') : a.method === 'POST' ? 'create' : a.method === 'PUT' ? 'update' : a.method === 'DELETE' ? 'delete' : 'operation';
    default:
      return a.interaction;
  }
}

const REF = /([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/** The data entity: what the handler said, else Location / Content-Location, else the URL; versioned by ETag. */
function entityOf(a: RestAccess, subtype: string): string | undefined {
  if (a.entity) return a.entity;
  if (!['read', 'vread', 'create', 'update', 'patch', 'delete', 'history-instance', 'operation'].includes(subtype)) return undefined;
  const loc = a.headers?.Location ?? a.headers?.['Content-Location'];
  const m = loc ? REF.exec(loc) : undefined;
  if (m) return m[3] ? `${m[1]}/${m[2]}/_history/${m[3]}` : `${m[1]}/${m[2]}`;
  const [type, id, h, vid] = a.segments;
  if (!type || !id || id.startsWith('$') || !/^[A-Z]/.test(type)) return undefined;
  if (h === '_history' && vid) return `${type}/${id}/_history/${vid}`;
  const etag = /^W\/"(\d+)"$/.exec(a.headers?.ETag ?? '');
  return etag && a.status < 300 && subtype !== 'read' ? `${type}/${id}/_history/${etag[1]}` : `${type}/${id}`;
}

/**
 * Query strings keep their values only in the base64 `query`; the description names the parameters.
 * Searches, histories and operations carry one; so does a conditional update, patch or delete
 * (`DELETE Observation?identifier=…`) whose handler did not name the resource it acted on: its criteria are
 * then all the event can say about what was touched.
 */
function queryOf(a: RestAccess, subtype: string, entity: string | undefined): { raw: string; description: string } | undefined {
  const conditional = (subtype === 'update' || subtype === 'patch' || subtype === 'delete') && a.segments.length === 1 && a.params.length > 0 && !entity;
  if (!conditional && !subtype.startsWith('search') && !subtype.startsWith('history') && subtype !== 'operation') return undefined;
  const path = a.segments.join('/');
  const qs = new URLSearchParams(a.params as Array<[string, string]>).toString();
  return { raw: `${a.method} ${path}${qs ? `?${qs}` : ''}`, description: `${path}${a.params.length ? `?${[...new Set(a.params.map(([k]) => k))].join('&')}` : ''}` };
}

export function restAuditRows(a: RestAccess, server: AuditServer): AuditRow[] {
  const subtype = subtypeOf(a);
  const patients = new Set<string>([...(a.patients ?? []), ...(a.touched ?? [])]);
  if (!a.patients) {
    patientsInText(a.raw, patients);
    if (a.segments[0] === 'Patient' && a.segments[1] && !a.segments[1].startsWith('$') && !a.segments[1].startsWith('_')) patients.add(`Patient/${a.segments[1]}`);
  }
  patientsInQuery(a.type, a.params, patients);
  if (a.actor.role === 'patient' && a.actor.patient) patients.add(`Patient/${a.actor.patient}`);
  const resource = entityOf(a, subtype);
  return buildAuditRows({
    actor: a.actor,
    recorded: a.recorded ?? new Date().toISOString(),
    subtype,
    action: ACTIONS[subtype] ?? 'E',
    outcome: outcomeOf(a.status),
    outcomeDesc: a.status >= 400 ? failureDescription(a.status, a.message) : undefined,
    resource,
    query: queryOf(a, subtype, resource),
    patients: [...patients],
    requestId: a.requestId,
    server,
  });
}

/**
 * A bulk import transaction (`fhirgate import`, src/fhir/import): one create event per patient whose
 * data it wrote (`compartments` of the written resources), appended last in that transaction.
 */
export function importAuditRows(actor: Actor, compartments: Iterable<string>, resources: number, server: AuditServer): AuditRow[] {
  const patients = new Set<string>();
  for (const c of compartments) if (c.startsWith('Patient/')) patients.add(c);
  return buildAuditRows({
    actor, recorded: new Date().toISOString(), subtype: 'transaction', action: 'C', outcome: 0,
    outcomeDesc: `imported ${resources} resources`, patients: [...patients], server,
  });
}
