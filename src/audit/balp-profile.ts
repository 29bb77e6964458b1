// Which IHE BALP profile (IHE ITI.BasicAudit 3:5.7.3 "RESTful activities") an AuditEvent may name in
// meta.profile. Naming a profile is a claim of conformance, so it is made only for an event that meets it:
// - every BALP RESTful profile fixes `outcome = audit-event-outcome#0 "Success"` ("failures are recorded
//   differently"; Query: "a failure AuditEvent may follow this pattern, but would not be a successful
//   outcome"), so a refused or failed access names none;
// - Read, Create, Update and Delete require entity[data] (1..1, `what` 1..1): an access whose data entity
//   is unknown (a conditional delete) names none; Query requires entity[query] (1..1);
// - authentication events (a `type` other than rest) follow none of these.
// The Patient* variant applies when entity[patient] is present (BALP: one AuditEvent per patient).

const BALP_PROFILE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';

/** The facts that decide it (a subset of balp.ts AuditFacts, so the facts can be passed as they are). */
export interface ProfileFacts {
  type?: unknown;
  action: string;
  outcome: number;
  resource?: string;
  query?: unknown;
}

const NAMES: Record<string, string> = { R: 'Read', C: 'Create', U: 'Update', D: 'Delete', E: 'Query' };

/** The canonical URL of the BALP profile the event conforms to, or undefined when it claims none. */
export function claimedProfile(f: ProfileFacts, patient: boolean): string | undefined {
  if (f.type !== undefined || f.outcome !== 0) return undefined;
  const name = NAMES[f.action];
  if (!name) return undefined;
  // An event holds entity[data] or entity[query], never both (balp.ts otherEntities).
  const fits = f.action === 'E' ? Boolean(f.query) : Boolean(f.resource) && !f.query;
  return fits ? `${BALP_PROFILE}${patient ? 'Patient' : ''}${name}` : undefined;
}
