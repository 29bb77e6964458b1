// Express request → FhirRequest: path segments, ordered parameters (repeats kept), lower-cased headers
// and the parsed body. Malformed JSON is a 400 OperationOutcome; the raw text is never logged.
import type { Request } from 'express';
import type { FhirRequest, HttpMethod } from '../fhir/types.js';
import type { AuthContext } from '../auth/context.js';
import { badRequest } from '../errors.js';
import { bodyKind } from './negotiate.js';

function segmentsOf(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw badRequest('the URL is not correctly percent-encoded');
  }
}

function paramsOf(url: string): Array<[string, string]> {
  const q = url.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1)).entries()];
}

export function toFhirRequest(req: Request, ctx: AuthContext): FhirRequest {
  const method = req.method.toUpperCase() as HttpMethod;
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  const segments = segmentsOf(req.path);
  let params = paramsOf(req.originalUrl);
  let body: unknown;
  const raw = req.body as Buffer | undefined;
  if (Buffer.isBuffer(raw) && raw.length > 0) {
    const kind = bodyKind(headers['content-type']);
    const text = raw.toString('utf8');
    if (kind === 'form') {
      // POST [type]/_search: form parameters join the URL's (http.html#search, search.html#Introduction).
      params = [...params, ...new URLSearchParams(text).entries()];
    } else {
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw badRequest(`the body is not valid JSON: ${(e as Error).message.replace(/[^\x20-\x7e]/g, '').slice(0, 120)}`);
      }
    }
  }
  return { method, segments, params, headers, body, ctx };
}
