// Patient/[id]/$everything (R4 patient-operation-everything.html, OperationDefinition Patient-everything): a
// searchset of the patient's compartment within the care dates start..end (search.mode match), then the
// resources those records refer to outside it, "needed to support the records - e.g. linked practitioners,
// medications, locations, organizations" (mode include). _type returns only the types it names (the
// Patient too: "types to include in the return resources"), _since only resources updated at or after it.
// Paged by _count (default 50, at most 1000; "servers may require" paging); next links carry a keyset cursor,
// so walking them returns each resource exactly once. Type level (Patient/$everything) uses the launch
// patient when a route sends it here.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Handler, Services } from '../services.js';
import { withTx, type Tx } from '../../store/session.js';
import { readCurrent } from '../../store/resources.js';
import { runRows, runCount } from '../../store/search.js';
import {
  everythingMatchQuery, everythingMatchCount, everythingIncludeQuery, encodeEverythingCursor, compartmentTypesOf, type EverythingFilter,
} from '../../search/everything.js';
import { searchsetText, searchUrl, type BundleEntry } from '../interactions/search-bundle.js';
import { dbContextOf } from '../interactions/search.js';
import { badRequest, notFound } from '../../errors.js';
import { everythingParams } from './everything-params.js';

type Row = { rid: string; type: string; id: string; content: string };

export async function patientEverythingInTx(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const id = req.segments.length === 3 ? req.segments[1] : req.ctx.patient;
  if (!id) throw badRequest('Patient/$everything at type level needs a patient context; use Patient/[id]/$everything');
  const p = everythingParams(req.params, req.body, req.method === 'POST');
  const patient = await readCurrent(tx, 'Patient', id);
  if (!patient || patient.deleted) throw notFound(`Patient/${id} is not known`);
  const f: EverythingFilter = { tenant: req.ctx.tenant, patientId: id, types: p.types, since: p.since, care: p.care };
  // Without a compartment type in _type (_type=Practitioner) only the include part can hold anything.
  const hasMatchPart = compartmentTypesOf(p.types).length > 0;

  const base = svc.config.fhirBase;
  const path = `Patient/${id}/$everything`;
  const links = [{ relation: 'self', url: searchUrl(base, path, p.cursor ? [...p.linkParams, ['_cursor', encodeEverythingCursor(p.cursor)]] : p.linkParams, {}) }];
  if (p.count === 0) {
    const total = hasMatchPart ? await runCount(tx, everythingMatchCount(f)) : 0;
    return { status: 200, raw: searchsetText({ base, links, entries: [], warnings: [], total }) };
  }

  // The match part first, then, once it is exhausted on this page, the include part. One query per part a
  // page reaches; asking for one row more than fits tells whether there is a next page.
  const entries: BundleEntry[] = [];
  const add = (rows: Row[], mode: BundleEntry['mode']) => { for (const r of rows) entries.push({ type: r.type, id: r.id, content: r.content, mode }); };
  let next: string | undefined;
  const cursor = p.cursor ?? { part: 'm' as const, rid: '0' };
  if (cursor.part === 'm' && hasMatchPart) {
    const rows = await runRows(tx, everythingMatchQuery(f, cursor.rid, p.count + 1));
    add(rows.slice(0, p.count), 'match');
    if (rows.length > p.count) next = encodeEverythingCursor({ part: 'm', rid: rows[p.count - 1].rid });
  }
  if (next === undefined) {
    const room = p.count - entries.length;
    const rows = await runRows(tx, everythingIncludeQuery(f, cursor.part === 'i' ? cursor.rid : undefined, room + 1));
    add(rows.slice(0, room), 'include');
    if (rows.length > room) next = encodeEverythingCursor({ part: 'i', rid: room > 0 ? rows[room - 1].rid : '0' });
  }

  if (next) links.push({ relation: 'next', url: searchUrl(base, path, p.linkParams, { _cursor: next }) });
  // total counts the matches (search.html#total), known without another query when all fit on this page.
  const total = !p.cursor && !next ? entries.filter((e) => e.mode === 'match').length : undefined;
  return { status: 200, raw: searchsetText({ base, links, entries, warnings: [], ...(total === undefined ? {} : { total }) }) };
}

export const patientEverything: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => patientEverythingInTx(req, tx, svc));
