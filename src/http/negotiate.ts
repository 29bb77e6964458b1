// Content negotiation (R4 http.html#mime): JSON only. `_format` overrides Accept; XML, Turtle or any
// other representation is 406; a body in anything but JSON (or a form for _search) is 415.
// "Servers SHALL support server-driven content negotiation as described in section 12 of the HTTP
// specification": Accept is weighed by its q-values (RFC 9110 §12.5.1), not read left to right.
import { notAcceptable, unsupportedMediaType } from '../errors.js';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

export type JsonFlavour = 'application/fhir+json' | 'application/json' | 'text/json';

/**
 * What this server can answer with, in its order of preference when the client weighs several alike.
 * application/json and text/json: http.html "If a client provides a generic mime type in the Accept header
 * (application/xml, text/json, or application/json), the server SHOULD respond with the requested mime type".
 */
const OFFERED: Array<{ flavour: JsonFlavour; names: string[] }> = [
  { flavour: 'application/fhir+json', names: ['application/fhir+json', 'application/json+fhir'] },
  { flavour: 'application/json', names: ['application/json'] },
  { flavour: 'text/json', names: ['text/json'] },
];

/**
 * A media type's fhirVersion parameter (R4 http.html#version-parameter, versioning.html#mt-version): absent, or
 * this server's FHIR version, 4.0 (4.0.1). Any other asks for a version this server does not speak.
 */
function speaksVersionOf(range: string): boolean {
  const m = /;\s*fhirversion\s*=\s*"?([^";\s]*)"?/i.exec(range);
  return !m || /^4\.0(\.\d+)?$/.test(m[1]);
}

interface MediaRange { type: string; q: number; specificity: number }

/** RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); a malformed one counts as 1. */
function qOf(params: string[]): number {
  const q = params.map((p) => /^\s*q\s*=\s*(\S*)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
  return q !== undefined && /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q) ? Number(q) : 1;
}

function parseAccept(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [name, ...params] = part.split(';');
    const type = name.trim().toLowerCase();
    if (!type) continue;
    // A range for another FHIR version matches nothing here (it is not this server's JSON).
    if (!speaksVersionOf(part)) continue;
    const specificity = type === '*/*' ? 0 : type.endsWith('/*') ? 1 : 2;
    out.push({ type, q: qOf(params), specificity });
  }
  return out;
}

function rangeMatches(range: string, name: string): boolean {
  return range === name || range === '*/*' || (range.endsWith('/*') && name.startsWith(range.slice(0, -1)));
}

/**
 * The weight the client gives one media type: that of the most specific range naming it (RFC 9110 §12.5.1:
 * "the most specific reference has precedence"), so `application/fhir+json;q=0, *\/*` refuses fhir+json.
 */
function weight(ranges: MediaRange[], names: string[]): { q: number; specificity: number } {
  let best: MediaRange | undefined;
  for (const r of ranges) {
    if (!names.some((n) => rangeMatches(r.type, n))) continue;
    if (!best || r.specificity > best.specificity || (r.specificity === best.specificity && r.q > best.q)) best = r;
  }
  return best ? { q: best.q, specificity: best.specificity } : { q: 0, specificity: -1 };
}

/** The media type to answer with, or 406. */
export function negotiate(accept: string | undefined, format: string | undefined): JsonFlavour {
  if (format !== undefined) {
    const f = format.split(';')[0].trim().toLowerCase();
    // _format overrides Accept (http.html#mime), fhirVersion included: 3.0 is refused here as in Accept.
    if (!JSON_FORMATS.has(f) || !speaksVersionOf(format)) throw notAcceptable(`_format '${format.slice(0, 40)}' is not supported; this server speaks FHIR 4.0 JSON`);
    return f === 'application/json' ? 'application/json' : 'application/fhir+json';
  }
  if (!accept || !accept.trim()) return 'application/fhir+json';
  const ranges = parseAccept(accept);
  let chosen: { flavour: JsonFlavour; q: number; specificity: number } | undefined;
  for (const o of OFFERED) {
    const w = weight(ranges, o.names);
    // q=0 is "not acceptable" (RFC 9110 §12.4.2). Ties go to the more specific match, then to OFFERED's order.
    if (w.q > 0 && (!chosen || w.q > chosen.q || (w.q === chosen.q && w.specificity > chosen.specificity))) chosen = { flavour: o.flavour, ...w };
  }
  if (!chosen) throw notAcceptable(`cannot answer with ${accept.slice(0, 80)}; this server speaks application/fhir+json`);
  return chosen.flavour;
}

export type BodyKind = 'json' | 'json-patch' | 'form';

/**
 * A body declared in another character set than UTF-8 (http.html#mime: "FHIR uses UTF-8 for all request and
 * response bodies"): decoding it as UTF-8 would silently garble every non-ASCII character, so it is refused.
 */
function declaresOtherCharset(contentType: string): boolean {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  return !!m && !/^utf-?8$/i.test(m[1]);
}

/** What a request body is, from Content-Type, or 415. */
export function bodyKind(contentType: string | undefined): BodyKind {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (contentType && !speaksVersionOf(contentType)) throw unsupportedMediaType(`the body is declared for another FHIR version (${contentType.slice(0, 80)}); this server speaks 4.0`);
  if (contentType && declaresOtherCharset(contentType)) throw unsupportedMediaType(`the body is declared in a character set other than UTF-8 (${contentType.slice(0, 80)}); FHIR bodies are UTF-8`);
  if (t === 'application/fhir+json' || t === 'application/json' || t === 'application/json+fhir') return 'json';
  if (t === 'application/json-patch+json') return 'json-patch';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  throw unsupportedMediaType(t ? `Content-Type ${t.slice(0, 60)} is not supported; send application/fhir+json` : 'a request body needs a Content-Type (application/fhir+json)');
}
