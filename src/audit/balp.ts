// FHIR R4 AuditEvents shaped after IHE Basic Audit Log Patterns (BALP, IHE ITI.BasicAudit; patterns §3.5):
// type rest + subtype restful-interaction; agents client, server and (when a user acts) user, with BALP's
// direction per profile (Read: client = Destination 110152; Query/Create/Update: client = Source 110153;
// Delete: client = Application 110150, server = custodian); entity[patient] per patient (one AuditEvent
// per patient when several are touched), entity[data] with the (version-specific) reference, entity[query]
// with the raw query base64-encoded (R4 types entity.query base64Binary), entity[transaction] X-Request-Id.
// Pure: builds rows for the audit store; the store chains and appends them.
import { v7 as uuidv7 } from 'uuid';
import { canonicalJson } from './canonical.js';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
export type AuditOutcome = 0 | 4 | 8 | 12;

/** Who acts (a subset of auth/context.ts AuthContext, so a context can be passed as it is). */
export interface Actor {
  tenant: string;
  /** Role the caller acts in; '' when unknown (a failed sign-in, a request without a valid token). */
  role: string;
  userId?: string;
  clientId?: string;
  fhirUser?: string;
  address?: string;
  /** Sign-in name typed at the authorization server (agent.altId); never set for REST accesses. */
  username?: string;
  /** Launch/own patient of patient-context access. */
  patient?: string;
}

export interface AuditFacts {
  actor: Actor;
  recorded: string;
  /** restful-interaction code (read, vread, search-type, history-instance, create, …) or DCM subtype. */
  subtype: string;
  action: AuditAction;
  outcome: AuditOutcome;
  outcomeDesc?: string;
  /** Non-REST events (sign-in, token grant): the event type instead of `rest`. */
  type?: Coding;
  subtypeSystem?: string;
  /** The data entity: `Type/id` or `Type/id/_history/v`. */
  resource?: string;
  /** Searches and operations: the request as received (path?query), and a cleaned description. */
  query?: { raw: string; description: string };
  /** `Patient/<id>` whose data was touched: one AuditEvent each. */
  patients: string[];
  requestId?: string;
  server: { observer: string; address?: string };
}

/** A row for the audit store (src/store/audit.ts): search columns plus the canonical AuditEvent text. */
export interface AuditRow {
  id: string;
  recorded: string;
  type: string;
  subtype: string;
  action: AuditAction;
  outcome: AuditOutcome;
  agent: string;
  patient: string;
  entity: string;
  content: string;
}

interface Coding { system: string; code: string; display?: string }

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
export const REST_TYPE: Coding = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' };
const INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const BALP = 'https://profiles.ihe.net/ITI/BALP';
export const ROLE_SYSTEM = 'https://fhirgate.dev/fhir/CodeSystem/role';

const DESTINATION: Coding = { system: DCM, code: '110152', display: 'Destination Role ID' };
const SOURCE: Coding = { system: DCM, code: '110153', display: 'Source Role ID' };
const APPLICATION: Coding = { system: DCM, code: '110150', display: 'Application' };
const CUSTODIAN: Coding = { system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'custodian', display: 'Custodian' };
const RECIPIENT: Coding = { system: PARTICIPATION, code: 'IRCP', display: 'information recipient' };
const AUTHOR: Coding = { system: PARTICIPATION, code: 'AUT', display: 'author (originator)' };

/** The BALP profile and the agents' types for an action (BALP's tables; note the direction quirk). */
function profileOf(f: AuditFacts, patient: boolean): { profile?: string; client: Coding; server: Coding; user: Coding } {
  const p = (name: string) => `${BALP}/StructureDefinition/IHE.BasicAudit.${patient ? 'Patient' : ''}${name}`;
  if (f.type) return { client: SOURCE, server: DESTINATION, user: AUTHOR };
  switch (f.action) {
    case 'R': return { profile: p('Read'), client: DESTINATION, server: SOURCE, user: RECIPIENT };
    case 'C': return { profile: p('Create'), client: SOURCE, server: DESTINATION, user: AUTHOR };
    case 'U': return { profile: p('Update'), client: SOURCE, server: DESTINATION, user: AUTHOR };
    case 'D': return { profile: p('Delete'), client: APPLICATION, server: CUSTODIAN, user: AUTHOR };
    default: return { profile: f.query ? p('Query') : undefined, client: SOURCE, server: DESTINATION, user: RECIPIENT };
  }
}

/** The requestor named in the agent column (the auditor's `agent=` search). */
export function agentOf(a: Actor): string {
  return a.fhirUser ?? a.userId ?? a.username ?? a.clientId ?? '';
}

function agents(f: AuditFacts, kinds: ReturnType<typeof profileOf>): unknown[] {
  const a = f.actor;
  const hasUser = Boolean(a.fhirUser || a.userId || a.username);
  const out: unknown[] = [
    {
      type: { coding: [kinds.client] },
      who: a.clientId ? { identifier: { system: 'urn:fhirgate:client', value: a.clientId } } : { display: 'unidentified client' },
      requestor: !hasUser,
      network: a.address ? { address: a.address, type: '2' } : undefined,
      role: hasUser || !a.role ? undefined : [{ coding: [{ system: ROLE_SYSTEM, code: a.role }] }],
    },
    {
      type: { coding: [kinds.server] },
      who: { display: f.server.observer },
      requestor: false,
      network: f.server.address ? { address: f.server.address, type: '5' } : undefined,
    },
  ];
  if (hasUser) {
    out.push({
      type: { coding: [kinds.user] },
      who: a.fhirUser ? { reference: a.fhirUser } : a.userId ? { identifier: { system: 'urn:fhirgate:user', value: a.userId } } : { identifier: { system: 'urn:fhirgate:username', value: a.username } },
      altId: a.username,
      requestor: true,
      role: a.role ? [{ coding: [{ system: ROLE_SYSTEM, code: a.role }] }] : undefined,
    });
  }
  return out;
}

function unversioned(ref: string): string {
  const i = ref.indexOf('/_history/');
  return i < 0 ? ref : ref.slice(0, i);
}

function entities(f: AuditFacts, patient: string | undefined): unknown[] {
  const out: unknown[] = [];
  if (patient) {
    out.push({ what: { reference: patient }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } });
  }
  if (f.resource && f.resource !== patient) {
    out.push({ what: { reference: f.resource }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } });
  }
  if (f.query) {
    out.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(f.query.raw, 'utf8').toString('base64'),
      description: f.query.description,
    });
  }
  if (f.requestId) {
    out.push({ what: { identifier: { value: f.requestId } }, type: { system: `${BALP}/CodeSystem/BasicAuditEntityType`, code: 'XrequestId' } });
  }
  return out;
}

/** The AuditEvents for one access: one per touched patient, or one without a patient. */
// Event ids are time-ordered UUIDs (RFC 9562 §5.7, version 7): audit.event's unique (tenant, id) index then
// grows at its right edge like the others keyed by time, instead of taking each insert at a random leaf of an
// index that grows with every access (pgbench, 8 events per call on 4.4 M stored events: the INSERT took
// 481–490 µs with time-ordered ids against 545–757 µs with random ones). 74 bits stay random.
export function buildAuditRows(f: AuditFacts, newId: () => string = uuidv7): AuditRow[] {
  const patients = [...new Set(f.patients)].sort();
  const list: Array<string | undefined> = patients.length ? patients : [undefined];
  const type = f.type ?? REST_TYPE;
  return list.map((patient) => {
    const id = newId();
    const kinds = profileOf(f, patient !== undefined);
    const event = {
      resourceType: 'AuditEvent',
      id,
      meta: kinds.profile ? { profile: [kinds.profile] } : undefined,
      type,
      subtype: [{ system: f.subtypeSystem ?? INTERACTION, code: f.subtype }],
      action: f.action,
      recorded: f.recorded,
      outcome: String(f.outcome),
      outcomeDesc: f.outcomeDesc,
      agent: agents(f, kinds),
      source: {
        observer: { display: f.server.observer },
        type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
      },
      entity: entities(f, patient),
    };
    return {
      id,
      recorded: f.recorded,
      type: type.code,
      subtype: f.subtype,
      action: f.action,
      outcome: f.outcome,
      agent: agentOf(f.actor),
      patient: patient ?? '',
      entity: f.resource ? unversioned(f.resource) : '',
      content: canonicalJson(event),
    };
  });
}

/** HTTP status → R4 audit-event-outcome: 0 success, 4 minor failure (client error, refusal), 8 serious (server). */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 0;
  return status < 500 ? 4 : 8;
}
