// The criteria of every conditional create, update, patch, delete and conditional reference must filter,
// over HTTP, in a transaction and in an import (R4 http.html#trules: "Only filtering parameters are allowed;
// none of the parameters that control the return of resources are relevant"). The search ignores result
// parameters and empty values (search.html#errors), so `Patient?_count=1` or `Patient?identifier=` would
// match every Patient: a type with one resource would have it overwritten, deleted or silently reused.
import { badRequest } from '../errors.js';

/**
 * Transport parameters a client may leave in a URL (http.html#mime-type _format; _pretty): they only shape how
 * the answer is sent and say nothing about which resource is meant.
 */
export const TRANSPORT = new Set(['_format', '_pretty']);
/** search.html "Controlling results" (and this server's paging cursor): they shape a result, they filter nothing. */
const RESULT = new Set(['_count', '_sort', '_total', '_summary', '_elements', '_include', '_revinclude', '_contained', '_containedType', '_cursor']);

/**
 * The filtering pairs of `pairs`, or a 400 naming `what` (the entry and its field) when one controls results
 * or none is left to filter.
 */
export function filteringCriteria(pairs: Array<[string, string]>, what: string, expression?: string): Array<[string, string]> {
  const kept = pairs.filter(([k]) => !TRANSPORT.has(k));
  const result = kept.find(([k]) => RESULT.has(k.split(':')[0]));
  if (result) throw badRequest(`${what}: '${result[0].slice(0, 40)}' controls the results of a search; conditional criteria may only filter`, expression ? [expression] : undefined);
  if (!kept.some(([, v]) => v !== '')) throw badRequest(`${what} needs search criteria that filter (a parameter with a value)`, expression ? [expression] : undefined);
  return kept;
}
