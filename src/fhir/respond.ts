// Response shaping for single resources (R4 http.html#ops "Prefer", #versioning "ETag", #read):
// ETag W/"version", Last-Modified, Location with _history, Prefer return=minimal|representation|
// OperationOutcome, and _summary/_elements on reads. Stored text is served as stored when unchanged.
import type { FhirRequest, FhirResponse } from './types.js';
import type { StoredResource } from '../store/resources.js';
import { parseSubsetting, subset } from './summary.js';
import { info } from './outcome.js';
import { badRequest } from '../errors.js';
import { parseJson } from '../json/parse.js';
import { stringifyJson } from '../json/stringify.js';

export function httpDate(instant: string): string {
  return new Date(instant).toUTCString();
}

export function versionHeaders(s: Pick<StoredResource, 'version' | 'lastUpdated'>): Record<string, string> {
  return { ETag: `W/"${s.version}"`, 'Last-Modified': httpDate(s.lastUpdated) };
}

export function historyUrl(base: string, s: Pick<StoredResource, 'type' | 'id' | 'version'>): string {
  return `${base}/${s.type}/${s.id}/_history/${s.version}`;
}

/**
 * The body of a stored resource, reduced when the request asks for _summary/_elements: re-serialised here,
 * with the decimals' lexemes (../json/), so the kept elements read as stored.
 */
export function resourceBody(req: FhirRequest, s: StoredResource): Pick<FhirResponse, 'raw' | 'body'> {
  const sub = parseSubsetting(req.params);
  if (!sub) return { raw: s.content };
  return { raw: stringifyJson(subset(parseJson(s.content) as Record<string, unknown>, sub)) };
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export function returnPreference(req: FhirRequest): ReturnPreference {
  const prefer = req.headers['prefer'] ?? '';
  const m = /(?:^|[;,\s])return\s*=\s*"?([A-Za-z]+)"?/.exec(prefer);
  if (m && (m[1] === 'minimal' || m[1] === 'representation' || m[1] === 'OperationOutcome')) return m[1];
  return 'representation';
}

/** A write's response: status, version headers, Location (create), body per Prefer. */
export function writeResponse(req: FhirRequest, s: StoredResource, status: number, base: string, message: string): FhirResponse {
  const headers: Record<string, string> = { ...versionHeaders(s) };
  if (status === 201) headers.Location = historyUrl(base, s);
  else headers['Content-Location'] = historyUrl(base, s);
  const lastUpdated = s.lastUpdated;
  switch (returnPreference(req)) {
    case 'minimal':
      return { status, headers, lastUpdated };
    case 'OperationOutcome':
      return { status, headers, body: info(message), lastUpdated };
    default:
      return { status, headers, raw: s.content, lastUpdated };
  }
}

/** `W/"3"` or `"3"` → 3 (http.html#concurrency). */
export function parseETag(value: string, header: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
  if (!m) throw badRequest(`${header} must be an ETag such as W/"3", not '${value.slice(0, 40)}'`);
  return Number(m[1]);
}

/**
 * If-Match / If-None-Match as RFC 9110 §13.1.1-2 define them: `*` (any current representation) or a
 * comma-separated list of entity tags, each `W/"3"` or `"3"` (http.html#concurrency).
 */
export function parseETags(value: string, header: string): '*' | number[] {
  if (value.trim() === '*') return '*';
  const tags = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length === 0) throw badRequest(`${header} must be an ETag such as W/"3"`);
  return tags.map((t) => parseETag(t, header));
}
