// Content negotiation (R4 http.html#mime): JSON only. `_format` overrides Accept; XML, Turtle or any
// other representation is 406; a body in anything but JSON (or a form for _search) is 415.
import { notAcceptable, unsupportedMediaType } from '../errors.js';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);

export type JsonFlavour = 'application/fhir+json' | 'application/json';

/**
 * A media type's fhirVersion parameter (R4 http.html#version-parameter, versioning.html#mt-version): absent, or
 * this server's FHIR version, 4.0 (4.0.1). Any other asks for a version this server does not speak.
 */
function speaksVersionOf(range: string): boolean {
  const m = /;\s*fhirversion\s*=\s*"?([^";\s]*)"?/i.exec(range);
  return !m || /^4\.0(\.\d+)?$/.test(m[1]);
}

/** The media type to answer with, or 406. */
export function negotiate(accept: string | undefined, format: string | undefined): JsonFlavour {
  if (format !== undefined) {
    const f = format.split(';')[0].trim().toLowerCase();
    if (!JSON_FORMATS.has(f)) throw notAcceptable(`_format '${format.slice(0, 40)}' is not supported; this server speaks JSON`);
    return f === 'application/json' ? 'application/json' : 'application/fhir+json';
  }
  if (!accept) return 'application/fhir+json';
  const ranges = accept.split(',').filter(speaksVersionOf).map((r) => r.split(';')[0].trim().toLowerCase()).filter(Boolean);
  for (const r of ranges) {
    if (r === 'application/fhir+json' || r === 'application/json+fhir' || r === '*/*' || r === 'application/*') return 'application/fhir+json';
    if (r === 'application/json') return 'application/json';
  }
  throw notAcceptable(`cannot answer with ${accept.slice(0, 80)}; this server speaks application/fhir+json`);
}

export type BodyKind = 'json' | 'json-patch' | 'form';

/** What a request body is, from Content-Type, or 415. */
export function bodyKind(contentType: string | undefined): BodyKind {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (contentType && !speaksVersionOf(contentType)) throw unsupportedMediaType(`the body is declared for another FHIR version (${contentType.slice(0, 80)}); this server speaks 4.0`);
  if (t === 'application/fhir+json' || t === 'application/json' || t === 'application/json+fhir') return 'json';
  if (t === 'application/json-patch+json') return 'json-patch';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  throw unsupportedMediaType(t ? `Content-Type ${t.slice(0, 60)} is not supported; send application/fhir+json` : 'a request body needs a Content-Type (application/fhir+json)');
}
