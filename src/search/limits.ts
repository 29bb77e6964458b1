// Bounds on the shape of one search, so that no request can make the compiler or PostgreSQL work without end
// (R4 search.html#errors: a server that is "unable to execute a search request … may return an error", with an
// OperationOutcome; issue type too-costly, "the operation was stopped to protect server resources").
// Each condition ANDed into a search is one more nested semi-join (compile.ts nest), and planning them grows
// far faster than their number: measured on the test data, 100 conditions planned in 0.5 s, 150 in 1.7 s and
// 400 in 87 s, while 1,000 overflowed PostgreSQL's stack and 3,000 the compiler's (both a 500). No real search
// comes near the bound: comma-separated values of one parameter are one condition however many there are.
import { FhirError } from '../errors.js';
import type { Expr } from './model.js';

/** Conditions one search may hold: its parameters, _filter's comparisons, and the inner ones of chains and _has. */
export const MAX_CONDITIONS = 100;

/** How many conditions an Expr holds (a chain or _has counts itself and what it holds). */
export function conditionCount(e: Expr): number {
  switch (e.k) {
    case 'and': case 'or': return e.items.reduce((n, i) => n + conditionCount(i), 0);
    case 'not': return conditionCount(e.item);
    case 'chain': case 'has': return 1 + conditionCount(e.inner);
    default: return 1;
  }
}

/** A 400 (too-costly) naming the parameter that takes the search past MAX_CONDITIONS. */
export function tooManyConditions(name: string): FhirError {
  return new FhirError(400, 'too-costly', `parameter ${name}: the search holds more than ${MAX_CONDITIONS} conditions; `
    + 'combine values with commas (one condition) or split the search', { expression: [name] });
}
