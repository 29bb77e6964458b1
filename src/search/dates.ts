// Dates as ranges (R4 search.html "date": every date, dateTime, instant or Period is a range whose
// width is its precision; 2013-01 covers the whole month). Half-open [lo, hi) in epoch milliseconds;
// values without a time zone are read as UTC. Shared by write-time extraction and query parsing.

export const MIN_TIME = -8_640_000_000_000_000;
export const MAX_TIME = 8_640_000_000_000_000;

export interface Range { lo: number; hi: number }

const RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** 400 Gregorian years, which repeat the calendar exactly (146,097 days). */
const FOUR_CENTURIES = 146_097 * 86_400_000;
/**
 * Date.UTC for every year: Date.UTC reads a year 0–99 as 1900–1999 (ECMA-262 MakeFullYear), which made a
 * birthDate 0019-05-03 (a valid FHIR date, often a typing error) the range of 1919-05-03 and `birthdate=0050`
 * a search for 1950. Such years are computed 400 years later and moved back.
 */
function utc(y: number, mo: number, d = 1, h = 0, mi = 0, s = 0): number {
  return y >= 0 && y < 100 ? Date.UTC(y + 400, mo, d, h, mi, s) - FOUR_CENTURIES : Date.UTC(y, mo, d, h, mi, s);
}

const daysIn = (y: number, m: number): number => new Date(utc(y, m, 0)).getUTCDate();

/** The range a FHIR date/dateTime/instant (or a search value with partial precision) covers; undefined if malformed. */
export function dateRange(text: string): Range | undefined {
  const m = RE.exec(text);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = m[2] === undefined ? undefined : Number(m[2]);
  const d = m[3] === undefined ? undefined : Number(m[3]);
  if (mo !== undefined && (mo < 1 || mo > 12)) return undefined;
  if (d !== undefined && (d < 1 || d > daysIn(y, mo!))) return undefined;
  if (mo === undefined) return { lo: utc(y, 0, 1), hi: utc(y + 1, 0, 1) };
  if (d === undefined) return { lo: utc(y, mo - 1, 1), hi: utc(y, mo, 1) };
  if (m[4] === undefined) return { lo: utc(y, mo - 1, d), hi: utc(y, mo - 1, d + 1) };
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = m[6] === undefined ? undefined : Number(m[6]);
  if (h > 23 || mi > 59 || (s !== undefined && s > 59)) return undefined;
  let offset = 0;
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 14 || om > 59) return undefined;
    offset = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const base = utc(y, mo - 1, d, h, mi, s ?? 0) - offset;
  if (s === undefined) return { lo: base, hi: base + 60_000 };
  const frac = m[7];
  if (frac === undefined) return { lo: base, hi: base + 1000 };
  const digits = frac.length;
  const ms = Math.floor(Number(`0.${frac}`) * 1000);
  const width = digits >= 3 ? 1 : 10 ** (3 - digits);
  return { lo: base + ms, hi: base + ms + width };
}

/** A Period's range: an absent start or end is open (R4 datatypes.html "Period"). */
export function periodRange(p: { start?: unknown; end?: unknown }): Range | undefined {
  const s = typeof p.start === 'string' ? dateRange(p.start) : undefined;
  const e = typeof p.end === 'string' ? dateRange(p.end) : undefined;
  if (!s && !e) return undefined;
  return { lo: s ? s.lo : MIN_TIME, hi: e ? e.hi : MAX_TIME };
}

const YEAR_1 = Date.parse('0001-01-01T00:00:00Z');
const YEAR_10000 = Date.parse('+010000-01-01T00:00:00Z');
/**
 * An instant as timestamptz text. Outside years 1–9999 JavaScript writes an extended year ("+010000-…")
 * that PostgreSQL cannot read (a 500 for `_lastUpdated=gt9999-12-31`): those bounds are ±infinity.
 */
export const isoOf = (ms: number): string => (ms >= YEAR_10000 ? 'infinity' : ms < YEAR_1 ? '-infinity' : new Date(ms).toISOString());
