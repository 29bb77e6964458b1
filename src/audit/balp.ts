// FHIR R4 AuditEvents shaped after IHE Basic Audit Log Patterns (BALP, IHE ITI.BasicAudit; patterns §3.5):
// type rest + subtype restful-interaction; agents client, server and (when a user acts) user, with BALP's
// direction per profile (Read: client = Destination 110152; Query/Create/Update: client = Source 110153;
// Delete: client = Application 110150, server = custodian); entity[patient] per patient (one AuditEvent
// per patient when several are touched), entity[data] with the (version-specific) reference, entity[query]
// with the raw query base64-encoded (R4 types entity.query base64Binary), entity[transaction] X-Request-Id.
// meta.profile names a BALP profile only for an event that conforms to it (balp-profile.ts).
// Pure: builds rows for the audit store; the store chains and appends them.
import { newEventId } from './event-id.js';
import { canonicalJson } from './canonical.js';
import { claimedProfile } from './balp-profile.js';

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
export const REST_TYPE: Coding = { code: 'rest', display: 'Restful Operation', system: 'http://terminology.hl7.org/CodeSystem/audit-event-type' };
const INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const BALP = 'https://profiles.ihe.net/ITI/BALP';
export const ROLE_SYSTEM = 'https://fhirgate.dev/fhir/CodeSystem/role';

// Every object literal below lists its keys in sorted order: the event is then already canonical and
// canonicalJson takes JSON.stringify (canonical.ts; test/audit/canonical.test.ts checks each shape).
const DESTINATION: Coding = { code: '110152', display: 'Destination Role ID', system: DCM };
const SOURCE: Coding = { code: '110153', display: 'Source Role ID', system: DCM };
const APPLICATION: Coding = { code: '110150', display: 'Application', system: DCM };
const CUSTODIAN: Coding = { code: 'custodian', display: 'Custodian', system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type' };
const RECIPIENT: Coding = { code: 'IRCP', display: 'information recipient', system: PARTICIPATION };
const AUTHOR: Coding = { code: 'AUT', display: 'author (originator)', system: PARTICIPATION };

/** The agents' types for an action (BALP's tables; note the direction quirk), and whether the client may carry a role. */
function kindsOf(f: AuditFacts): { client: Coding; server: Coding; user: Coding; clientRole: boolean } {
  if (f.type) return { client: SOURCE, server: DESTINATION, user: AUTHOR, clientRole: true };
  switch (f.action) {
    case 'R': return { client: DESTINATION, server: SOURCE, user: RECIPIENT, clientRole: true };
    case 'C':
    case 'U': return { client: SOURCE, server: DESTINATION, user: AUTHOR, clientRole: true };
    // BALP Delete: agent[client].role 0..0 (also altId, name, location, policy, purposeOfUse).
    case 'D': return { client: APPLICATION, server: CUSTODIAN, user: AUTHOR, clientRole: false };
    default: return { client: SOURCE, server: DESTINATION, user: RECIPIENT, clientRole: true };
  }
}

/** The requestor named in the agent column (the auditor's `agent=` search). */
export function agentOf(a: Actor): string {
  return a.fhirUser ?? a.userId ?? a.username ?? a.clientId ?? '';
}

function agents(f: AuditFacts, kinds: ReturnType<typeof kindsOf>): unknown[] {
  const a = f.actor;
  const hasUser = Boolean(a.fhirUser || a.userId || a.username);
  const out: unknown[] = [
    {
      network: a.address ? { address: a.address, type: '2' } : undefined,
      requestor: !hasUser,
      role: hasUser || !a.role || !kinds.clientRole ? undefined : [{ coding: [{ code: a.role, system: ROLE_SYSTEM }] }],
      type: { coding: [kinds.client] },
      who: a.clientId ? { identifier: { system: 'urn:fhirgate:client', value: a.clientId } } : { display: 'unidentified client' },
    },
    {
      network: f.server.address ? { address: f.server.address, type: '5' } : undefined,
      requestor: false,
      type: { coding: [kinds.server] },
      who: { display: f.server.observer },
    },
  ];
  if (hasUser) {
    out.push({
      altId: a.username,
      requestor: true,
      role: a.role ? [{ coding: [{ code: a.role, system: ROLE_SYSTEM }] }] : undefined,
      type: { coding: [kinds.user] },
      who: a.fhirUser ? { reference: a.fhirUser } : a.userId ? { identifier: { system: 'urn:fhirgate:user', value: a.userId } } : { identifier: { system: 'urn:fhirgate:username', value: a.username } },
    });
  }
  return out;
}

function unversioned(ref: string): string {
  const i = ref.indexOf('/_history/');
  return i < 0 ? ref : ref.slice(0, i);
}

const patientEntity = (patient: string) => ({
  role: { code: '1', display: 'Patient', system: OBJECT_ROLE }, type: { code: '1', display: 'Person', system: ENTITY_TYPE }, what: { reference: patient },
});
/** entity[patient]'s canonical text: the first entity of a patient's event (expand.ts swaps it per patient). */
export const patientEntityJson = (patient: string): string => canonicalJson(patientEntity(patient));
/** Between the patients of a row that stands for several events (a reference never holds a space). */
export const PATIENT_SEPARATOR = ' ';

/**
 * The entities after entity[patient]: the data or the query, and the request id. An event names either
 * entity[data] (read, create, update, delete) or entity[query] (search, history, operations), never both:
 * BALP slices entity by `type`, and both are System Object, so a data entity in a Query event fills its
 * entity[query] slice (role 24, what 0..0) twice, and a query entity in a Read event its entity[data]. The
 * instance a history or an operation is about is named in its query.
 */
function otherEntities(f: AuditFacts): unknown[] {
  const out: unknown[] = [];
  if (f.resource && !f.query) {
    out.push({ role: { code: '4', display: 'Domain Resource', system: OBJECT_ROLE }, type: { code: '2', display: 'System Object', system: ENTITY_TYPE }, what: { reference: f.resource } });
  }
  if (f.query) {
    out.push({
      description: f.query.description,
      query: Buffer.from(f.query.raw, 'utf8').toString('base64'),
      role: { code: '24', display: 'Query', system: OBJECT_ROLE },
      type: { code: '2', display: 'System Object', system: ENTITY_TYPE },
    });
  }
  if (f.requestId) {
    out.push({ type: { code: 'XrequestId', system: `${BALP}/CodeSystem/BasicAuditEntityType` }, what: { identifier: { value: f.requestId } } });
  }
  return out;
}

/**
 * canonicalJson({ ...before, entity, id, ...after }) from the parts' canonical texts. The AuditEvent's keys
 * sort action < agent < entity < id < meta < outcome < outcomeDesc < recorded < resourceType < source <
 * subtype < type, so its canonical text is the parts' texts joined (test/audit/canonical.test.ts). An event
 * without entities has no `entity` key: FHIR JSON (json.html) "arrays SHALL NOT be empty".
 */
function joinEvent(before: string, entity: string, id: string, after: string): string {
  return `${before.slice(0, -1)}${entity === '[]' ? '' : `,"entity":${entity}`},"id":${JSON.stringify(id)},${after.slice(1)}`;
}

// Event ids are time-ordered UUIDs (RFC 9562 §5.7, version 7): audit.event's unique (tenant, id) index then
// grows at its right edge like the others keyed by time, instead of taking each insert at a random leaf of an
// index that grows with every access (pgbench, 8 events per call on 4.4 M stored events: the INSERT took
// 481–490 µs with time-ordered ids against 545–757 µs with random ones). Within a millisecond a counter
// seeded at random orders them (event-id.ts); the last 42 bits are random.
//
// One AuditEvent per patient (BALP), and they differ only in their id and their patient entity. So an access
// that touches several patients is STORED as one row: `patient` lists them (sorted, PATIENT_SEPARATOR between),
// `content` is the event of the first, and expand.ts presents the others (id `<row id>.<k>`, k = 2, 3, …).
// The chain hashes the row with its whole list, so no patient can be removed unnoticed. Measured on ×10,
// `Patient?name=&birthdate=` (ten patients per search, 16 clients): a row per patient cost PostgreSQL
// 1,400 µs and node 700–990 µs per request (680–790 req/s), one row 600–830 and 470–700 (1,000–1,410 req/s).
// (Rows written before the data entity was kept in its own patient's event hold one patient each when that
// entity was one of the patients; they are presented as stored.)
/** The rows for one access: one row, standing for one event per touched patient (or one event without any). */
export function buildAuditRows(f: AuditFacts, newId: () => string = newEventId): AuditRow[] {
  const patients = [...new Set(f.patients)].sort();
  const type = f.type ?? REST_TYPE;
  const kinds = kindsOf(f);
  const profile = claimedProfile(f, patients.length > 0);
  const before = canonicalJson({ action: f.action, agent: agents(f, kinds) });
  const after = canonicalJson({
    meta: profile ? { profile: [profile] } : undefined,
    outcome: String(f.outcome),
    outcomeDesc: f.outcomeDesc,
    recorded: f.recorded,
    resourceType: 'AuditEvent',
    source: {
      observer: { display: f.server.observer },
      type: [{ code: '4', display: 'Application Server', system: 'http://terminology.hl7.org/CodeSystem/security-source-type' }],
    },
    subtype: [{ code: f.subtype, system: f.subtypeSystem ?? INTERACTION }],
    type,
  });
  const others = canonicalJson(otherEntities(f));
  // The data entity stays in every patient's event, its own patient's too: BALP PatientRead needs both
  // entity[patient] and entity[data] (entity 2..*), also when a Patient is read.
  const entity = patients.length === 0 ? others : `[${patientEntityJson(patients[0])}${others === '[]' ? ']' : `,${others.slice(1)}`}`;
  const id = newId();
  return [{
    id,
    recorded: f.recorded,
    type: type.code,
    subtype: f.subtype,
    action: f.action,
    outcome: f.outcome,
    agent: agentOf(f.actor),
    patient: patients.join(PATIENT_SEPARATOR),
    entity: f.resource ? unversioned(f.resource) : '',
    content: joinEvent(before, entity, id, after),
  }];
}

/** HTTP status → R4 audit-event-outcome: 0 success, 4 minor failure (client error, refusal), 8 serious (server). */
export function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return 0;
  return status < 500 ? 4 : 8;
}
