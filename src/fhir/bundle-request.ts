// Turning a Bundle entry's request (R4 bundle.html "Bundle.entry.request") into a FhirRequest, and a
// FhirResponse back into Bundle.entry.response, so entries reuse the ordinary interaction code.
import type { Binary, BundleEntry } from 'fhir/r4';
import type { FhirRequest, FhirResponse, HttpMethod } from './types.js';
import type { AuthContext } from '../auth/context.js';
import { badRequest } from '../errors.js';
import { parseJson } from '../json/parse.js';
import { stringifyJson } from '../json/stringify.js';

const METHODS: HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

export function entryRequest(entry: BundleEntry, index: number, base: string, ctx: AuthContext): FhirRequest {
  const r = entry.request;
  if (!r || !r.method || !r.url) throw badRequest(`entry ${index} has no request.method and request.url`, [`Bundle.entry[${index}].request`]);
  const method = r.method.toUpperCase() as HttpMethod;
  if (!METHODS.includes(method)) throw badRequest(`entry ${index}: request.method '${r.method}' is not supported`);
  let url = r.url;
  if (url.startsWith(base + '/')) url = url.slice(base.length + 1);
  if (/^[a-z]+:/i.test(url)) throw badRequest(`entry ${index}: request.url must be relative to this server's base`, [`Bundle.entry[${index}].request.url`]);
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const params = q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1)).entries()];
  const headers: Record<string, string | undefined> = {
    'if-match': r.ifMatch,
    'if-none-match': r.ifNoneMatch,
    'if-none-exist': r.ifNoneExist,
    'if-modified-since': r.ifModifiedSince,
  };
  let body: unknown = entry.resource;
  if (method === 'PATCH' && entry.resource?.resourceType === 'Binary') {
    // JSON Patch travels as a Binary whose data is the base64 patch document (R4 http.html#patch).
    try {
      // Its values' decimals keep their lexemes, as a PATCH body's do (../json/parse.ts).
      body = parseJson(Buffer.from((entry.resource as Binary).data ?? '', 'base64').toString('utf8'));
    } catch {
      throw badRequest(`entry ${index}: the Binary does not hold a JSON Patch document`);
    }
  }
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    // `%zz` or a cut UTF-8 sequence is the client's mistake: a 400, not the URIError's 500.
    throw badRequest(`entry ${index}: request.url is not valid percent-encoding`, [`Bundle.entry[${index}].request.url`]);
  }
  return { method, segments, params, headers, body, ctx };
}

const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 412: 'Precondition Failed', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error' };

export function statusLine(status: number): string {
  return `${status}${REASONS[status] ? ` ${REASONS[status]}` : ''}`;
}

/**
 * entry.response (+ resource or outcome) as JSON text. A HEAD entry is answered like a GET without the body
 * (http.html#head: "HEAD requests are treated as specified in HTTP: same response as a GET, but with no body"):
 * status, etag and lastModified, no resource. A failure keeps its response.outcome, the entry's report of what
 * went wrong (Bundle.entry.response.outcome), not a representation of the target.
 */
export function entryResponse(res: FhirResponse, base: string, method?: HttpMethod): string {
  if (method === 'HEAD' && res.status < 400) res = { ...res, raw: undefined, body: undefined };
  const h = res.headers ?? {};
  const response: Record<string, string> = { status: statusLine(res.status) };
  if (h.Location) response.location = h.Location.startsWith(base + '/') ? h.Location.slice(base.length + 1) : h.Location;
  if (h.ETag) response.etag = h.ETag;
  // Bundle.entry.response.lastModified is an instant: the version's own, not the HTTP-date's whole seconds.
  if (res.lastUpdated) response.lastModified = new Date(res.lastUpdated).toISOString();
  else if (h['Last-Modified']) response.lastModified = new Date(h['Last-Modified']).toISOString();
  const body = res.raw ?? (res.body !== undefined ? stringifyJson(res.body) : undefined);
  const isOutcome = body !== undefined && body.startsWith('{"resourceType":"OperationOutcome"');
  const fullUrl = h.Location ? h.Location.replace(/\/_history\/[^/]+$/, '') : undefined;
  const parts = [] as string[];
  if (fullUrl) parts.push(`"fullUrl":${JSON.stringify(fullUrl)}`);
  if (body !== undefined && !isOutcome) parts.push(`"resource":${body}`);
  parts.push(`"response":${JSON.stringify(response).slice(0, -1)}${isOutcome ? `,"outcome":${body}` : ''}}`);
  return `{${parts.join(',')}}`;
}
