// Express request → FhirRequest: path segments, ordered parameters (repeats kept), lower-cased headers
// and the parsed body, its decimals' lexemes kept (R4 datatypes.html#decimal: precision is significant;
// src/json/parse.ts). Malformed JSON is a 400 OperationOutcome; the raw text is never logged.
import type { Request } from 'express';
import type { FhirRequest, HttpMethod } from '../fhir/types.js';
import type { AuthContext } from '../auth/context.js';
import { badRequest, unsupportedMediaType } from '../errors.js';
import { bodyKind } from './negotiate.js';
import { CONTROL, controlCharIssues } from '../fhir/validation/control-chars.js';
import { MAX_DEPTH } from '../fhir/validation/body-shape.js';
import { JsonTooDeep, parseJson } from '../json/parse.js';

function segmentsOf(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw badRequest('the URL is not correctly percent-encoded');
  }
}

// application/x-www-form-urlencoded as URLSearchParams reads it (split on '&', then on the first '=',
// '+' is a space), but a '%' not followed by two hex digits, or escapes that are not UTF-8, are the
// client's error (RFC 3986 §2.1, §2.5), as they are in the path: URLSearchParams would keep the first
// as text and turn the second into U+FFFD, and the search would silently look for something else.
function formPairs(text: string, where: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of text.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    try {
      pairs.push([decodeURIComponent(k.replace(/\+/g, ' ')), decodeURIComponent(v.replace(/\+/g, ' '))]);
    } catch {
      throw badRequest(`${where} is not correctly percent-encoded (a '%' needs two hex digits, and the bytes must be UTF-8)`);
    }
  }
  return pairs;
}

function paramsOf(url: string): Array<[string, string]> {
  const q = url.indexOf('?');
  return q < 0 ? [] : formPairs(url.slice(q + 1), 'the query string');
}

// RFC 8259 §8.1: JSON text exchanged between systems "MUST be encoded using UTF-8"; bytes that are not
// UTF-8 are refused rather than stored as U+FFFD. A leading UTF-8 byte order mark is ignored, which the
// same section allows.
const utf8 = new TextDecoder('utf-8', { fatal: true });
function bodyText(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw badRequest('the body is not valid UTF-8 (RFC 8259 §8.1: FHIR JSON is UTF-8)');
  }
}

// FHIR strings SHALL NOT hold characters below U+0020 other than tab, CR and LF (R4 datatypes.html#string),
// and PostgreSQL text cannot hold U+0000 at all: refused here, as the client's error, before any layer
// below meets them (a NUL reached PostgreSQL as error 22021/22P05 and came back as a 500).
function refuseControl(where: string, text: string): void {
  const m = CONTROL.exec(text);
  if (m) throw badRequest(`${where} holds the control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}, which FHIR strings may not contain`);
}

/**
 * What can be said of a request refused while it was being read (a body that is not JSON, a control
 * character): method, path and headers, no parameters and no body, for the AuditEvent of the refusal.
 */
export function refusedRequest(req: Request, ctx: AuthContext): FhirRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  let segments: string[] = [];
  try {
    segments = segmentsOf(req.path).map((s) => s.replace(CONTROL, '?'));
  } catch {
    // a path that is not percent-encoded correctly: the event names no path
  }
  return { method: req.method.toUpperCase() as HttpMethod, segments, params: [], headers, ctx };
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
    const text = bodyText(raw);
    if (kind === 'form' && segments[segments.length - 1] !== '_search') {
      throw unsupportedMediaType('a form body is accepted only by POST …/_search; send application/fhir+json');
    } else if (kind === 'form') {
      // POST [type]/_search: form parameters join the URL's (http.html#search, search.html#Introduction).
      params = [...params, ...formPairs(text, 'the form body')];
    } else {
      try {
        // The nesting limit (fhir/validation/body-shape.ts) is checked by the parser's own walk of the value,
        // before any other recursive walk meets the body.
        body = parseJson(text, { maxDepth: MAX_DEPTH });
      } catch (e) {
        if (e instanceof JsonTooDeep) throw badRequest(`the body is nested more than ${MAX_DEPTH} levels deep`);
        throw badRequest(`the body is not valid JSON: ${(e as Error).message.replace(/[^\x20-\x7e]/g, '').slice(0, 120)}`);
      }
      // Only an escape can put a control character or an unpaired surrogate in a parsed string (JSON forbids
      // the first raw; raw bytes that are not UTF-8 decode to U+FFFD): walk the body only then.
      if (/\\u(00[01]|[dD][89a-fA-F])/.test(text)) {
        const issue = controlCharIssues(body, '$', 1)[0];
        if (issue) throw badRequest(`the body ${issue.diagnostics?.slice(0, 200)}`);
      }
    }
  }
  for (const seg of segments) refuseControl('the URL path', seg);
  for (const [k, v] of params) refuseControl(`the parameter ${k.replace(CONTROL, '?').slice(0, 40)}`, `${k}${v}`);
  return { method, segments, params, headers, body, ctx };
}
