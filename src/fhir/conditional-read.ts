// Conditional read (R4 http.html#cread: "clients may use the If-Modified-Since, or If-None-Match HTTP
// header on a read request. If so, they SHALL accept either a 304 Not Modified as a valid status code on
// the response (which means that the content is unchanged since that date) or full content"), evaluated
// as RFC 9110 §13.2.2 orders it. Shared by every read that answers 304: interactions/read.ts (the stored
// resources) and interactions/deid-read.ts (a researcher's de-identified copy).
import type { FhirRequest } from './types.js';
import { parseETags } from './respond.js';

/**
 * Whether a GET of the current version `version` (last modified at `lastUpdated`) answers 304.
 * RFC 9110 §13.1.2: If-None-Match is a list of entity tags, or `*` (any current representation); when it
 * is present, If-Modified-Since is ignored (§13.1.3). §13.1.3: "A recipient MUST ignore the
 * If-Modified-Since header field if the received field value is not a valid HTTP-date … or if the
 * resource does not have a modification date available": `lastUpdated` undefined.
 */
export function notModified(req: FhirRequest, version: number, lastUpdated?: string): boolean {
  const inm = req.headers['if-none-match'];
  if (inm && inm.trim()) {
    const tags = parseETags(inm, 'If-None-Match');
    return tags === '*' || tags.includes(version);
  }
  const ims = req.headers['if-modified-since'];
  if (ims && lastUpdated !== undefined) {
    const since = Date.parse(ims);
    if (!Number.isNaN(since) && Math.floor(Date.parse(lastUpdated) / 1000) <= Math.floor(since / 1000)) return true;
  }
  return false;
}
