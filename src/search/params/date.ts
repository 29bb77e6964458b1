// date parameters (R4 search.html#date): both the search value and the target are ranges [lo, hi)
// (a partial date covers its whole precision; a Period its start..end). Per prefix:
// eq: target within search; ne: not eq; gt: target ends after search's end; lt: target starts before
// search's start; ge: gt or eq; le: lt or eq; sa: target starts at/after search's end; eb: target ends
// at/before search's start; ap: overlaps the search range widened by 10% of its distance from now.
import { sql, or, type Frag } from '../sql.js';
import type { Expr, Prefix } from '../model.js';
import { paramError } from '../model.js';
import { dateRange, isoOf, type Range } from '../dates.js';
import { splitPrefix } from './prefix.js';
import { inKeys, paramKeys, type Ctx, type IndexCond } from './common.js';

type ValueExpr = Extract<Expr, { k: 'value' }>;

export function parseDateValue(value: string, name: string, now: number): { prefix: Prefix; q: Range } {
  const { prefix, rest } = splitPrefix(value, name);
  const q = dateRange(rest);
  if (!q) throw paramError(name, `'${value.slice(0, 40)}' is not a date (yyyy, yyyy-mm, yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss][zone])`);
  if (prefix === 'ap') {
    const d = Math.ceil(Math.max(Math.abs(now - q.lo), Math.abs(now - q.hi)) * 0.1);
    return { prefix, q: { lo: q.lo - d, hi: q.hi + d } };
  }
  return { prefix, q };
}

/** The condition on a target range held in columns lo/hi (bigint epoch ms). */
export function rangeCondition(prefix: Prefix, q: Range, lo: Frag, hi: Frag): Frag {
  switch (prefix) {
    case 'eq': return sql`(${lo} >= ${q.lo} and ${hi} <= ${q.hi})`;
    case 'ne': return sql`(${lo} < ${q.lo} or ${hi} > ${q.hi})`;
    case 'gt': return sql`${hi} > ${q.hi}`;
    case 'lt': return sql`${lo} < ${q.lo}`;
    case 'ge': return sql`(${lo} >= ${q.lo} or ${hi} > ${q.hi})`;
    case 'le': return sql`(${hi} <= ${q.hi} or ${lo} < ${q.lo})`;
    case 'sa': return sql`${lo} >= ${q.hi}`;
    case 'eb': return sql`${hi} <= ${q.lo}`;
    case 'ap': return sql`(${lo} < ${q.hi} and ${hi} > ${q.lo})`;
  }
}

export function dateCondition(e: ValueExpr, x: Frag, ctx: Ctx): IndexCond {
  if (e.modifier !== undefined) throw paramError(e.name, `the modifier :${e.modifier} is not supported on date parameters`);
  const conds = e.values.map((v) => {
    const { prefix, q } = parseDateValue(e.prefix ? `${e.prefix}${v}` : v, e.name, ctx.now);
    return rangeCondition(prefix, q, sql`${x}.lo`, sql`${x}.hi`);
  });
  return { table: 'sp_date', where: sql`${inKeys(sql`${x}.p`, paramKeys(e.ps))} and ${or(conds)}` };
}

/** _lastUpdated on fhir.resource.last_updated (a point in time, microsecond precision). */
export function lastUpdatedCondition(values: string[], name: string, col: Frag, now: number): Frag {
  return or(values.map((v) => {
    const { prefix, q } = parseDateValue(v, name, now);
    const lo = sql`${isoOf(q.lo)}::timestamptz`;
    const hi = sql`${isoOf(q.hi)}::timestamptz`;
    switch (prefix) {
      case 'eq': case 'ap': return sql`(${col} >= ${lo} and ${col} < ${hi})`;
      case 'ne': return sql`(${col} < ${lo} or ${col} >= ${hi})`;
      case 'gt': case 'sa': return sql`${col} >= ${hi}`;
      case 'lt': case 'eb': return sql`${col} < ${lo}`;
      case 'ge': return sql`${col} >= ${lo}`;
      case 'le': return sql`${col} < ${hi}`;
    }
  }));
}

/** 1 January (UTC) of the year `ms` falls in (setUTCFullYear: Date.UTC would read years 0–99 as 19xx). */
function yearStart(ms: number): number {
  const d = new Date(0);
  d.setUTCFullYear(new Date(ms).getUTCFullYear(), 0, 1);
  return d.getTime();
}

/**
 * _lastUpdated on the de-identified copy (deid.resource.last_updated). Safe Harbor keeps only the year of
 * the source's lastUpdated (migrations/040: stored as its 1 January, UTC), so the target is that whole year
 * [c, c + 1 year) and is compared as a range, as every date is (R4 search.html#date: "the range of the
 * search value" against "the range of the target value"), not as the instant 1 January: a resource updated
 * in June 2024 is found by `ge2024-03-01` and `gt2024-01-01` as it is on the identified side, and nothing
 * finer than the year is revealed. With F(t) the start of t's UTC year, c + 1y <= t ⇔ c < F(t), and
 * c + 1y > t ⇔ c >= F(t); each prefix below is rangeCondition's with those substituted (the column stays
 * bare, so the (tenant, type, last_updated) index serves it).
 */
export function lastUpdatedYearCondition(values: string[], name: string, col: Frag, now: number): Frag {
  const at = (ms: number): Frag => sql`${isoOf(ms)}::timestamptz`;
  return or(values.map((v) => {
    const { prefix, q } = parseDateValue(v, name, now);
    const lo = at(q.lo);
    const hi = at(q.hi);
    const endsBy = at(yearStart(q.hi)); // c < endsBy ⇔ the year ends at or before q.hi
    switch (prefix) {
      case 'eq': return sql`(${col} >= ${lo} and ${col} < ${endsBy})`;
      case 'ne': return sql`(${col} < ${lo} or ${col} >= ${endsBy})`;
      case 'gt': return sql`${col} >= ${endsBy}`;
      case 'lt': return sql`${col} < ${lo}`;
      case 'ge': return sql`(${col} >= ${lo} or ${col} >= ${endsBy})`;
      case 'le': return sql`(${col} < ${endsBy} or ${col} < ${lo})`;
      case 'sa': return sql`${col} >= ${hi}`;
      case 'eb': return sql`${col} < ${at(yearStart(q.lo))}`;
      case 'ap': return sql`(${col} < ${hi} and ${col} >= ${at(yearStart(q.lo))})`;
    }
  }));
}
