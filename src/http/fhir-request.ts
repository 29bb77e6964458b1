// Express request → FhirRequest: path segments, ordered parameters (repeats kept), lower-cased headers
// and the parsed body. Malformed JSON is a 400 OperationOutcome; the raw text is never logged.
import type { Request } from 'express';
import type { FhirRequest, HttpMethod } from '../fhir/types.js';
import type { AuthContext } from '../auth/context.js';
import { badRequest, unsupportedMediaType } from '../errors.js';
import { bodyKind } from './negotiate.js';
import { CONTROL, controlCharIssues } from '../fhir/validation/control-chars.js';

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

// FHIR strings SHALL NOT hold characters below U+0020 other than tab, CR and LF (R4 datatypes.html#string),
// and PostgreSQL text cannot hold U+0000 at all: refused here, as the client's error, before any layer
// below meets them (a NUL reached PostgreSQL as error 22021/22P05 and came back as a 500).
function refuseControl(where: string, text: string): void {
  const m = CONTROL.exec(text);
  if (m) throw badRequest(`${where} holds the control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}, which FHIR strings may not contain`);
}

/** Deepest nesting of objects and arrays accepted in a body: far beyond any FHIR resource (a Questionnaire
 * nested 50 items deep is about 100 levels), far below what recursion over it can take. */
export const MAX_DEPTH = 256;

function depthExceeds(v: unknown, left: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (left === 0) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null && typeof x === 'object' && depthExceeds(x, left - 1)) return true;
    return false;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== null && typeof x === 'object' && depthExceeds(x, left - 1)) return true;
  }
  return false;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The path of the first string (key or value) holding an unpaired surrogate, if any. */
function loneSurrogateAt(v: unknown, at: string): string | undefined {
  if (typeof v === 'string') return LONE_SURROGATE.test(v) ? at : undefined;
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const hit = loneSurrogateAt(v[i], `${at}[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    if (LONE_SURROGATE.test(k)) return at;
    const hit = loneSurrogateAt(x, `${at}.${k}`);
    if (hit) return hit;
  }
  return undefined;
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
    if (kind === 'form' && segments[segments.length - 1] !== '_search') {
      throw unsupportedMediaType('a form body is accepted only by POST …/_search; send application/fhir+json');
    } else if (kind === 'form') {
      // POST [type]/_search: form parameters join the URL's (http.html#search, search.html#Introduction).
      params = [...params, ...new URLSearchParams(text).entries()];
    } else {
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw badRequest(`the body is not valid JSON: ${(e as Error).message.replace(/[^\x20-\x7e]/g, '').slice(0, 120)}`);
      }
      // A body nested past MAX_DEPTH is refused before any recursive walk (validation, references, the
      // de-identified copy) meets it: at ~2,000 levels those overflowed the stack (a 500), after a create
      // at that depth had stored a resource no later update or patch could read.
      if (text.length > 2 * MAX_DEPTH && depthExceeds(body, MAX_DEPTH)) {
        throw badRequest(`the body is nested more than ${MAX_DEPTH} levels deep`);
      }
      // Only an escape can put one in a parsed string (JSON forbids them raw): walk the body only then.
      if (/\\u00[01]/i.test(text)) {
        const at = controlCharIssues(body, '$', 1)[0]?.expression?.[0];
        if (at) throw badRequest(`the body holds a control character at ${at.slice(0, 120)}, which FHIR strings may not contain (only tab, CR and LF)`);
      }
      // Likewise a lone surrogate (\ud800 without its pair): not a Unicode character, so no FHIR string
      // holds one, and PostgreSQL's json refuses it (22P05 came back as a 500).
      if (/\\u[dD][89a-fA-F]/.test(text)) {
        const at = loneSurrogateAt(body, '$');
        if (at) throw badRequest(`the body holds an unpaired UTF-16 surrogate at ${at.slice(0, 120)}, which is not a Unicode character`);
      }
    }
  }
  for (const seg of segments) refuseControl('the URL path', seg);
  for (const [k, v] of params) refuseControl(`the parameter ${k.replace(CONTROL, '?').slice(0, 40)}`, `${k}${v}`);
  return { method, segments, params, headers, body, ctx };
}
