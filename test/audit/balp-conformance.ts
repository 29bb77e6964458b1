// A checker for the IHE BALP profiles an AuditEvent names in meta.profile (IHE/ITI.BasicAudit input/fsh:
// PatientRead.fsh, PatientQuery.fsh, PatientCreate.fsh, PatientUpdate.fsh, PatientDelete.fsh), for tests:
// the constraints those profiles add to R4 AuditEvent, with entity and agent sliced as BALP slices them
// (discriminator: pattern on `type`). R4 itself is checked by src/fhir/validation/validate.ts.
// Returns the problems found; an event naming no BALP profile has none here.

type J = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const XREQ = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const INTERACTION = 'http://hl7.org/fhir/restful-interaction';

interface Spec {
  action: string;
  subtypes: string[];
  /** Delete: exactly one subtype. */
  oneSubtype?: boolean;
  client: [string, string];
  server: [string, string];
  users: string[];
  /** The entity slice of System Object type: data (role from RestObjectRoles, what 1..1) or query (role 24, query 1..1, what 0..0). */
  object: 'data' | 'query';
  /** Delete: the client and server agents carry no role, altId, name, location, policy or purposeOfUse. */
  bareMachines?: boolean;
}

const SPECS: Record<string, Spec> = {
  Read: { action: 'R', subtypes: ['read', 'vread'], client: [DCM, '110152'], server: [DCM, '110153'], users: ['IRCP'], object: 'data' },
  Query: { action: 'E', subtypes: ['search', 'search-type', 'search-system'], client: [DCM, '110153'], server: [DCM, '110152'], users: ['IRCP'], object: 'query' },
  Create: { action: 'C', subtypes: ['create'], client: [DCM, '110153'], server: [DCM, '110152'], users: ['AUT', 'INF', 'CST'], object: 'data' },
  Update: { action: 'U', subtypes: ['update', 'patch'], client: [DCM, '110153'], server: [DCM, '110152'], users: ['AUT', 'INF', 'CST'], object: 'data' },
  Delete: {
    action: 'D', subtypes: ['delete'], oneSubtype: true, client: [DCM, '110150'],
    server: ['http://terminology.hl7.org/CodeSystem/provenance-participant-type', 'custodian'], users: ['AUT', 'INF', 'CST'], object: 'data', bareMachines: true,
  },
};

const is = (c: J, system: string, code: string) => c?.system === system && c?.code === code;

export function balpProblems(e: J): string[] {
  const profiles: string[] = (e.meta?.profile ?? []).filter((p: string) => p.startsWith(BALP));
  const out: string[] = [];
  for (const url of profiles) {
    const name = url.slice(BALP.length);
    const patient = name.startsWith('Patient');
    const spec = SPECS[patient ? name.slice('Patient'.length) : name];
    if (!spec) {
      out.push(`${name}: not a BALP RESTful profile`);
      continue;
    }
    const p = (m: string) => out.push(`${name}: ${m}`);
    if (!is(e.type, 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest')) p('type is not rest');
    if (e.action !== spec.action) p(`action ${e.action}, not ${spec.action}`);
    if (e.outcome !== '0') p(`outcome ${e.outcome}: the profile fixes outcome = 0 (Success)`);
    if (!e.recorded) p('no recorded');
    const subtypes: J[] = e.subtype ?? [];
    if (subtypes.length < 1) p('no subtype');
    if (spec.oneSubtype && !(subtypes.length === 1 && is(subtypes[0], INTERACTION, spec.subtypes[0]))) p(`subtype must be exactly ${spec.subtypes[0]}`);
    if (name.endsWith('Create') && !subtypes.some((s) => is(s, INTERACTION, 'create'))) p('subtype create missing');

    // Agents, sliced by type.
    const agents: J[] = e.agent ?? [];
    const ofType = (system: string, code: string) => agents.filter((a) => a.type?.coding?.some((c: J) => is(c, system, code)));
    for (const [slice, [system, code]] of [['client', spec.client], ['server', spec.server]] as const) {
      const found = ofType(system, code);
      if (found.length !== 1) { p(`agent[${slice}] (${code}) ${found.length} times, not once`); continue; }
      const a = found[0];
      if (!a.who) p(`agent[${slice}].who missing`);
      if (!a.network) p(`agent[${slice}].network missing`);
      if (a.media) p(`agent[${slice}].media present`);
      if (spec.bareMachines) for (const k of ['role', 'altId', 'name', 'location', 'policy', 'purposeOfUse']) if (a[k] !== undefined) p(`agent[${slice}].${k} present (0..0)`);
    }
    const users = agents.filter((a) => a.type?.coding?.some((c: J) => c.system === PARTICIPATION));
    if (users.length > 1) p('more than one agent[user]');
    for (const u of users) {
      if (!u.type.coding.some((c: J) => spec.users.includes(c.code))) p(`agent[user].type ${JSON.stringify(u.type)} not in ${spec.users}`);
      if (!u.who) p('agent[user].who missing');
      if (u.requestor !== true) p('agent[user].requestor is not true');
      if (u.network || u.media) p('agent[user] has network or media');
      if (name.endsWith('Delete') && u.altId !== undefined) p('agent[user].altId present (0..0)');
    }

    // Entities, sliced by type.
    const entities: J[] = e.entity ?? [];
    const objects = entities.filter((x) => is(x.type, ENTITY_TYPE, '2'));
    const persons = entities.filter((x) => is(x.type, ENTITY_TYPE, '1'));
    const requests = entities.filter((x) => is(x.type, XREQ, 'XrequestId'));
    if (objects.length !== 1) p(`entity[${spec.object}] (System Object) ${objects.length} times, not once`);
    for (const o of objects) {
      if (spec.object === 'data') {
        if (!['4', '3', '20'].some((c) => is(o.role, OBJECT_ROLE, c))) p(`entity[data].role ${JSON.stringify(o.role)} not in RestObjectRoles`);
        if (!o.what) p('entity[data].what missing');
        if (name.endsWith('Delete') && (o.query || o.name || o.detail || o.lifecycle)) p('entity[data] holds query, name, detail or lifecycle (0..0)');
      } else {
        if (!is(o.role, OBJECT_ROLE, '24')) p(`entity[query].role ${JSON.stringify(o.role)} is not 24 Query`);
        if (o.what) p('entity[query].what present (0..0)');
        if (o.lifecycle || o.detail) p('entity[query] holds lifecycle or detail (0..0)');
        if (typeof o.query !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.query)) p('entity[query].query missing or not base64');
      }
    }
    if (requests.length > 1) p('entity[transaction] more than once');
    for (const r of requests) if (!r.what?.identifier?.value) p('entity[transaction].what.identifier.value missing');
    if (patient) {
      if (persons.length !== 1) p(`entity[patient] ${persons.length} times, not once`);
      for (const x of persons) {
        if (!is(x.role, OBJECT_ROLE, '1')) p('entity[patient].role is not 1 Patient');
        if (!/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(x.what?.reference ?? '')) p(`entity[patient].what ${JSON.stringify(x.what)} is not a Patient reference`);
      }
      if (spec.object === 'data' && entities.length < 2) p('entity has fewer than 2 elements (2..*)');
    }
  }
  return out;
}
