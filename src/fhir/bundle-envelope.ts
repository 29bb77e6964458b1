// The envelope of a batch or transaction Bundle checked before any entry runs (R4 bundle.html, http.html
// #transaction): the entries' resources are validated one by one as each is written, but the envelope
// itself (entry, fullUrl, request) was trusted, so `"url": 42` or an entry of `null` failed in the middle
// of a batch as a 500, after the entries before it had been stored.
import type { Bundle } from 'fhir/r4';
import { FhirError, type Issue } from '../errors.js';

const REQUEST_STRINGS = ['method', 'url', 'ifNoneMatch', 'ifModifiedSince', 'ifMatch', 'ifNoneExist'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every problem of the envelope as an issue with its expression, or nothing. */
export function envelopeIssues(b: Bundle): Issue[] {
  const issues: Issue[] = [];
  const bad = (expression: string, diagnostics: string) => issues.push({ severity: 'error', code: 'structure', diagnostics, expression: [expression] });
  const entries = (b as { entry?: unknown }).entry;
  if (entries === undefined) return issues;
  if (!Array.isArray(entries)) {
    bad('Bundle.entry', 'Bundle.entry must be an array');
    return issues;
  }
  // bdl-7: "FullUrl must be unique in a bundle, or else entries with the same fullUrl must have different
  // meta.versionId". A repeated urn:uuid would leave references to it ambiguous.
  const fullUrls = new Set<string>();
  entries.forEach((e: unknown, i) => {
    const at = `Bundle.entry[${i}]`;
    if (!isObject(e)) return void bad(at, `${at} must be an object`);
    if (e.fullUrl !== undefined) {
      if (typeof e.fullUrl !== 'string') bad(`${at}.fullUrl`, `${at}.fullUrl must be a string`);
      else {
        const meta = isObject(e.resource) && isObject(e.resource.meta) ? e.resource.meta : undefined;
        const key = `${e.fullUrl}\u0000${typeof meta?.versionId === 'string' ? meta.versionId : ''}`;
        if (fullUrls.has(key)) bad(`${at}.fullUrl`, `${at}.fullUrl '${e.fullUrl.slice(0, 100)}' repeats an earlier entry's (bdl-7)`);
        fullUrls.add(key);
      }
    }
    if (e.resource !== undefined && !isObject(e.resource)) bad(`${at}.resource`, `${at}.resource must be an object`);
    const r = e.request;
    if (r === undefined) return;
    if (!isObject(r)) return void bad(`${at}.request`, `${at}.request must be an object`);
    for (const k of REQUEST_STRINGS) {
      if (r[k] !== undefined && typeof r[k] !== 'string') bad(`${at}.request.${k}`, `${at}.request.${k} must be a string`);
    }
  });
  return issues;
}

export function assertEnvelope(b: Bundle): void {
  const issues = envelopeIssues(b);
  if (issues.length) throw new FhirError(400, 'structure', issues[0].diagnostics ?? 'malformed Bundle', { issues: issues.slice(0, 20) });
}
