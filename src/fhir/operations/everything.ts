// Patient/[id]/$everything (R4 patient-operation-everything.html): the patient's compartment, paged
// (_count, default 50, at most 1000; next links carry a keyset cursor), plus the resources its entries refer
// to outside the compartment (practitioners, organizations, locations, medications) as include entries.
// _type and _since narrow it. Type level (Patient/$everything) needs a patient context (the launch patient).
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Handler, Services } from '../services.js';
import { withTx, type Tx } from '../../store/session.js';
import { readCurrent } from '../../store/resources.js';
import { runRows, runIncludes } from '../../store/search.js';
import { everythingQuery } from '../../search/everything.js';
import { isResourceType } from '../../registry/search-params.js';
import { searchsetText, searchUrl, type BundleEntry } from '../interactions/search-bundle.js';
import { dbContextOf } from '../interactions/search.js';
import { badRequest, notFound } from '../../errors.js';
import { parseInstant } from '../bundle-links.js';
import { isInt8 } from '../../search/cursor.js';

function param(req: FhirRequest, name: string): string | undefined {
  return req.params.find(([k]) => k === name)?.[1];
}

export async function patientEverythingInTx(req: FhirRequest, tx: Tx, svc: Services): Promise<FhirResponse> {
  const id = req.segments.length === 3 ? req.segments[1] : req.ctx.patient;
  if (!id) throw badRequest('Patient/$everything at type level needs a patient context; use Patient/[id]/$everything');
  const patient = await readCurrent(tx, 'Patient', id);
  if (!patient || patient.deleted) throw notFound(`Patient/${id} is not known`);
  const countText = param(req, '_count');
  if (countText !== undefined && !/^\d+$/.test(countText)) throw badRequest('_count must be a whole number', ['_count']);
  const count = Math.min(Math.max(Number(countText ?? 50), 1), 1000);
  const types = param(req, '_type')?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of types ?? []) if (!isResourceType(t)) throw badRequest(`_type: '${t.slice(0, 64)}' is not a resource type`, ['_type']);
  const sinceText = param(req, '_since');
  const since = sinceText === undefined ? undefined : parseInstant(sinceText, '_since');
  const cursor = param(req, '_cursor');
  if (cursor !== undefined && !isInt8(cursor)) throw badRequest('_cursor is not a paging cursor this server issued', ['_cursor']);

  const rows = await runRows(tx, everythingQuery(req.ctx.tenant, id, { types, since, afterRid: cursor, limit: count + 1 }));
  const more = rows.length > count;
  const page = rows.slice(0, count);
  const entries: BundleEntry[] = page.map((r) => ({ type: r.type, id: r.id, content: r.content, mode: 'match' }));
  const referenced = await runIncludes(tx, page, [{ source: '*', rev: false, iterate: false, name: '_include' }], req.ctx.tenant, 1, 1000);
  for (const r of referenced) if (!(r.type === 'Patient' && r.id === id)) entries.push({ type: r.type, id: r.id, content: r.content, mode: 'include' });

  const base = svc.config.fhirBase;
  const path = `Patient/${id}/$everything`;
  const kept = req.params.filter(([k]) => k !== '_cursor');
  const links = [{ relation: 'self', url: searchUrl(base, path, req.params, {}) }];
  if (more) links.push({ relation: 'next', url: searchUrl(base, path, kept, { _cursor: page[page.length - 1].rid }) });
  return { status: 200, raw: searchsetText({ base, links, entries, warnings: [], ...(cursor || more ? {} : { total: page.length }) }) };
}

export const patientEverything: Handler = (req, svc) => withTx(svc.db, dbContextOf(req.ctx), (tx) => patientEverythingInTx(req, tx, svc));
