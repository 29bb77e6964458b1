// Patient/[id]/$everything (R4 patient-operation-everything.html): every current resource in the patient's
// compartment (the Patient included), optionally limited by _type and _since, in rid order with a keyset
// cursor so pages stay correct while data changes.
import { sql, and, raw, typed, render, type Frag, type Sql } from './sql.js';
import { compartmentCondition } from './query.js';
import { patientCompartmentTypes } from '../registry/compartments.js';

export interface EverythingOptions { types?: string[]; since?: string; afterRid?: string; limit: number }

export function everythingQuery(tenant: string, patientId: string, o: EverythingOptions): Sql {
  const conds: Frag[] = [
    sql`r.tenant = ${tenant}`,
    raw('not r.deleted'),
    compartmentCondition(o.types?.length ? o.types : patientCompartmentTypes(), patientId, tenant, raw('r'), raw('x')),
  ];
  if (o.types?.length) conds.push(sql`r.type = any(${typed(o.types, 'text[]')})`);
  if (o.since) conds.push(sql`r.last_updated >= ${typed(o.since, 'timestamptz')}`);
  if (o.afterRid) conds.push(sql`r.rid > ${typed(o.afterRid, 'int8')}`);
  // The compartment's rids first (a patient has hundreds to thousands), then the page: the planner could
  // otherwise walk the primary key in rid order hoping to meet the compartment early.
  return render(sql`with m as materialized (select r.rid from fhir.resource r where ${and(conds)})
    select r.rid, r.type, r.id, r.content from fhir.resource r where r.rid in (select rid from m order by rid limit ${o.limit}) order by r.rid`);
}
