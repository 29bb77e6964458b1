// The researcher's view (CONTRACT.md "Roles": de-identified data only, never an identified row): read
// and vread answer from deid.resource by pseudonymous id, through the normal FHIR URLs. The researcher
// role has no privilege on schema fhir, so any other path fails in the database (403), not just here.
// Only the current version is kept de-identified: vread of it works, older versions are 404.
// Search runs over the copy and its own index (deid-search.ts, migrations/040); everything else
// (history, operations, writes) is refused.
// Conditional read (http.html#cread) as for identified reads (../conditional-read.ts): If-None-Match with a
// list of ETags or `*`. The copy has no modification date (Safe Harbor keeps only the year of a date,
// deid/copy.ts; no Last-Modified is sent), so If-Modified-Since is ignored as RFC 9110 §13.1.3 requires
// and the full content is sent: a 304 against the exact time would reveal that time to a researcher.
import type { FhirRequest, FhirResponse } from '../types.js';
import type { Tx } from '../../store/session.js';
import type { TxHandler } from '../routes.js';
import { readDeid } from '../../store/deid.js';
import { badRequest, forbidden, notFound } from '../../errors.js';
import { insufficientScope } from '../../auth/bearer-challenge.js';
import { deidSearch } from './deid-search.js';
import { notModified } from '../conditional-read.js';

function headers(version: number): Record<string, string> {
  return { ETag: `W/"${version}"` };
}

export async function deidRead(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  // Operations needing read access ($everything) match 'read' too: not available on the copy.
  if (req.segments.length !== 2) return refuse(req);
  const [type, id] = req.segments;
  const r = await readDeid(tx, type, id);
  if (!r) throw notFound(`${type}/${id} is not known`);
  if (notModified(req, r.version)) return { status: 304, headers: headers(r.version) };
  return { status: 200, headers: headers(r.version), raw: r.content };
}

export async function deidVread(req: FhirRequest, tx: Tx): Promise<FhirResponse> {
  const [type, id, , vid] = req.segments;
  if (!/^\d{1,9}$/.test(vid)) throw badRequest(`version '${vid.slice(0, 20)}' is not a version number`);
  const r = await readDeid(tx, type, id);
  if (!r || r.version !== Number(vid)) throw notFound(`${type}/${id} has no de-identified version ${vid}`);
  return { status: 200, headers: headers(r.version), raw: r.content };
}

async function refuse(req: FhirRequest): Promise<FhirResponse> {
  const what = req.method === 'GET' || req.method === 'HEAD' ? 'this interaction is not available on de-identified data' : 'researchers cannot write';
  // A write needs privileges a researcher's token never carries (RFC 6750 §3.1 insufficient_scope); the
  // interactions the copy does not offer are refused whatever the token.
  if (req.method === 'GET' || req.method === 'HEAD') throw forbidden(what);
  throw insufficientScope(what);
}

/** The handler a researcher gets for a matched route (dispatch calls this for role researcher). */
export function researcherHandler(interaction: string): TxHandler {
  switch (interaction) {
    case 'read': return deidRead;
    case 'vread': return deidVread;
    case 'search': return deidSearch;
    default: return refuse;
  }
}
