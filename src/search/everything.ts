// Patient/[id]/$everything (R4 patient-operation-everything.html) compiled to SQL: the patient's compartment
// (R4 compartmentdefinition-patient.html) within the care-date range (the "match" part), then the resources
// those records refer to outside the compartment (the "include" part: "whatever resources are needed to
// support the records - e.g. linked practitioners, medications, locations, organizations"). _type and _since
// narrow both parts. Each part is walked in rid order with a keyset cursor (part, rid), so following `next`
// returns every resource once, however many are written or deleted between pages (no offsets).
import { sql, and, raw, typed, render, type Frag, type Sql } from './sql.js';
import { compartmentCondition } from './query.js';
import { careDateCondition } from './everything-dates.js';
import { isInt8 } from './cursor.js';
import type { Range } from './dates.js';
import { patientCompartmentTypes } from '../registry/compartments.js';

export interface EverythingFilter {
  tenant: string;
  patientId: string;
  /** _type: only these types are returned (undefined: every type). */
  types?: string[];
  /** _since: only resources whose last_updated is at or after this instant (ISO text). */
  since?: string;
  /** start/end: the care-date range; undefined when neither is given. */
  care?: Range;
}

/** Where a page starts: after `rid` in the part named (m = compartment, i = referenced resources). */
export interface EverythingCursor { part: 'm' | 'i'; rid: string }

/** `m123` / `i456`: readable, and checked like any input (a bigint PostgreSQL accepts). */
export const encodeEverythingCursor = (c: EverythingCursor): string => `${c.part}${c.rid}`;

export function decodeEverythingCursor(text: string): EverythingCursor | undefined {
  const m = /^([mi])(\d{1,19})$/.exec(text);
  return m && isInt8(m[2]) ? { part: m[1] as 'm' | 'i', rid: m[2] } : undefined;
}

/** The compartment types _type asks for (all of them without _type); the others can only be referenced. */
export function compartmentTypesOf(types: string[] | undefined): string[] {
  const all = patientCompartmentTypes();
  return types ? all.filter((t) => types.includes(t)) : all;
}

const R = raw('r');

/** Current compartment members of `types` (never empty: callers skip the part when no type is left). */
function members(f: EverythingFilter, types: string[]): Frag[] {
  return [sql`r.tenant = ${f.tenant}`, raw('not r.deleted'), compartmentCondition(types, f.patientId, f.tenant, R, raw('x'))];
}

function narrowing(f: EverythingFilter, after: string | undefined): Frag[] {
  const conds: Frag[] = [];
  if (f.types) conds.push(sql`r.type = any(${typed(f.types, 'text[]')})`);
  if (f.since) conds.push(sql`r.last_updated >= ${typed(f.since, 'timestamptz')}`);
  if (after !== undefined) conds.push(sql`r.rid > ${typed(after, 'int8')}`);
  return conds;
}

/**
 * One page of the compartment part: `limit` members after rid `after`, in rid order. The compartment's rids
 * first (a patient has hundreds to a few thousand), then the care-date test only on rids in page order, and
 * only the page's rows read: the planner could otherwise walk the primary key hoping to meet the
 * compartment early, or read every member's content before cutting the page.
 */
export function everythingMatchQuery(f: EverythingFilter, after: string | undefined, limit: number): Sql {
  const types = compartmentTypesOf(f.types);
  // In rid order before the care-date test (offset 0 keeps the test above the sort), so it stops at the page.
  const page = f.care
    ? sql`select q.rid from (select m.rid from m order by m.rid offset 0) q where ${careDateCondition(raw('q.rid'), f.care)} order by q.rid limit ${limit}`
    : sql`select m.rid from m order by m.rid limit ${limit}`;
  return render(sql`with m as materialized (select r.rid from fhir.resource r where ${and([...members(f, types), ...narrowing(f, after)])})
    select r.rid, r.type, r.id, r.content from fhir.resource r where r.rid in (${page}) order by r.rid`);
}

/** count(*) of the compartment part (_count=0 asks for the total alone, as in search.html#count). */
export function everythingMatchCount(f: EverythingFilter): Sql {
  const types = compartmentTypesOf(f.types);
  const dated = f.care ? sql` where ${careDateCondition(raw('m.rid'), f.care)}` : raw('');
  return render(sql`with m as materialized (select r.rid from fhir.resource r where ${and([...members(f, types), ...narrowing(f, undefined)])})
    select count(*)::int8 as n from m${dated}`);
}

/**
 * One page of the include part: resources that members of the whole compartment in the care-date range
 * refer to (any reference the index holds), that are not members themselves (those are judged by their own
 * dates in the match part, and returned there), narrowed by _type and _since, after rid `after`.
 * The references are taken from every member, whatever _type and _since say: a Practitioner updated
 * yesterday is still "needed to support" an Encounter of last year.
 */
export function everythingIncludeQuery(f: EverythingFilter, after: string | undefined, limit: number): Sql {
  const inRange = f.care ? sql` where ${careDateCondition(raw('c.rid'), f.care)}` : raw('');
  // Members are told apart by (type, id) before any target is looked up: most references of a record point
  // into the compartment (its Encounter, its Patient), and only the few others need a lookup each. The
  // references are read per member (LATERAL on sp_reference_rid), never by scanning the index table.
  return render(sql`with c as materialized (select r.rid, r.type, r.id from fhir.resource r where ${and(members(f, patientCompartmentTypes()))}),
    t as (select distinct x.ttype, x.tid from (select c.rid from c${inRange}) b
      cross join lateral (select x.ttype, x.tid from fhir.sp_reference x where x.rid = b.rid and x.tenant = ${f.tenant} and x.ttype <> '' offset 0) x
      where (x.ttype, x.tid) not in (select c.type, c.id from c)),
    s as (select r.rid from t cross join lateral (select r.rid, r.type, r.last_updated from fhir.resource r
        where r.tenant = ${f.tenant} and r.type = t.ttype and r.id = t.tid and not r.deleted limit 1) r
      where ${and(narrowing(f, after))})
    select r.rid, r.type, r.id, r.content from fhir.resource r
    where r.rid in (select s.rid from s order by s.rid limit ${limit}) order by r.rid`);
}
