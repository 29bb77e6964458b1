// The input parameters of Patient/[id]/$everything (R4 OperationDefinition Patient-everything): start and end
// (date, 0..1), _since (instant, 0..1), _type (code, 0..*, each comma-delimited), _count (integer, 0..1), from
// the URL or, for POST, a Parameters body (R4 operations.html#executing); plus this server's _cursor.
// Anything malformed is a 400 naming the parameter; other URL parameters (_format, _pretty) are left alone.
import { badRequest } from '../../errors.js';
import { dateRange, MIN_TIME, MAX_TIME, type Range } from '../../search/dates.js';
import { parseInstant } from '../bundle-links.js';
import { decodeEverythingCursor, type EverythingCursor } from '../../search/everything.js';
import { isResourceType } from '../../registry/search-params.js';

/** Without _count a page holds 50 resources (the R4 comment allows "or servers may require this" of paging). */
export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 1000;

export interface EverythingParams {
  types?: string[];
  since?: string;
  care?: Range;
  count: number;
  cursor?: EverythingCursor;
  /** The parameters as GET query parameters (a POST body's too), for the self and next links. */
  linkParams: Array<[string, string]>;
}

const SINGLE = ['start', 'end', '_since', '_count'];
/** The value[x] a Parameters body may carry for each parameter (its declared type first). */
const BODY_TYPES: Record<string, string[]> = {
  start: ['valueDate'], end: ['valueDate'], _since: ['valueInstant', 'valueDateTime', 'valueDate'],
  _type: ['valueCode', 'valueString'], _count: ['valueInteger'],
};

/** A Parameters body as [name, text] pairs; only the operation's own parameters may appear in it. */
function bodyParams(body: unknown): Array<[string, string]> {
  const b = body as { resourceType?: unknown; parameter?: unknown } | undefined;
  if (!b || typeof b !== 'object' || b.resourceType !== 'Parameters') throw badRequest('the body of POST $everything must be a Parameters resource');
  if (b.parameter !== undefined && !Array.isArray(b.parameter)) throw badRequest('Parameters.parameter must be an array');
  return ((b.parameter ?? []) as Array<Record<string, unknown>>).map((p) => {
    const name = typeof p?.name === 'string' ? p.name : '';
    const allowed = BODY_TYPES[name];
    if (!allowed) throw badRequest(`$everything has no parameter '${name.slice(0, 40)}' (start, end, _since, _type, _count)`, [name.slice(0, 40)]);
    const key = Object.keys(p).find((k) => k.startsWith('value'));
    const v = key ? p[key] : undefined;
    if (!key || !allowed.includes(key) || (key === 'valueInteger' ? !Number.isInteger(v) : typeof v !== 'string')) {
      throw badRequest(`${name} must be given as ${allowed.join(' or ')}`, [name]);
    }
    return [name, String(v)];
  });
}

/** A FHIR date (yyyy, yyyy-mm or yyyy-mm-dd; datatypes.html#date) as the range it covers. */
function parseDate(value: string, name: string): Range {
  const r = /^\d{4}(-\d{2}(-\d{2})?)?$/.test(value) && !value.startsWith('0000') ? dateRange(value) : undefined;
  if (!r) throw badRequest(`${name} must be a date (yyyy, yyyy-mm or yyyy-mm-dd), not '${value.slice(0, 40)}'`, [name]);
  return r;
}

function parseTypes(values: string[]): string[] | undefined {
  const types = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const t of types) if (!isResourceType(t)) throw badRequest(`_type: '${t.slice(0, 64)}' is not a resource type`, ['_type']);
  return types.length ? [...new Set(types)] : undefined;
}

export function everythingParams(params: Array<[string, string]>, body: unknown, post: boolean): EverythingParams {
  const fromBody = post && body !== undefined ? bodyParams(body) : [];
  const all = [...params, ...fromBody];
  const values = (name: string): string[] => all.filter(([k]) => k === name).map(([, v]) => v);
  for (const name of [...SINGLE, '_cursor']) {
    if (values(name).length > 1) throw badRequest(`${name} may be given only once`, [name]);
  }
  const [startText] = values('start');
  const [endText] = values('end');
  const start = startText === undefined ? undefined : parseDate(startText, 'start');
  const end = endText === undefined ? undefined : parseDate(endText, 'end');
  if (start && end && start.lo >= end.hi) throw badRequest(`start (${startText}) is after end (${endText})`, ['start', 'end']);
  const care = start || end ? { lo: start?.lo ?? MIN_TIME, hi: end?.hi ?? MAX_TIME } : undefined;

  const [sinceText] = values('_since');
  const [countText] = values('_count');
  if (countText !== undefined && !/^\d+$/.test(countText)) throw badRequest(`_count must be a whole number (pages hold at most ${MAX_COUNT})`, ['_count']);
  const [cursorText] = values('_cursor');
  const cursor = cursorText === undefined ? undefined : decodeEverythingCursor(cursorText);
  if (cursorText !== undefined && !cursor) throw badRequest('_cursor is not a paging cursor this server issued', ['_cursor']);
  return {
    types: parseTypes(values('_type')),
    // _since: an instant; a date or dateTime reads as its first moment, UTC without a zone (bundle-links.ts).
    since: sinceText === undefined ? undefined : parseInstant(sinceText, '_since'),
    care,
    count: countText === undefined ? DEFAULT_COUNT : Math.min(Number(countText), MAX_COUNT),
    cursor,
    // The links state the request as performed: a _count over the maximum reads as the capped one.
    linkParams: all.filter(([k]) => k !== '_cursor')
      .map(([k, v]): [string, string] => (k === '_count' ? [k, String(Math.min(Number(v), MAX_COUNT))] : [k, v])),
  };
}
