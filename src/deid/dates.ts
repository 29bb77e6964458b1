// Dates under Safe Harbor (§164.514(b)(2)(i)(C)): "all elements of dates (except year) for dates that are
// directly related to an individual" are removed, and ages over 89 with the dates indicating them are
// grouped into one category of 90 or older. The date-shift mode instead moves every date of a patient by
// the same number of days (limited data sets keep intervals between a patient's events).

// FHIR date, dateTime and instant (R4 datatypes.html): YYYY, YYYY-MM, YYYY-MM-DD, then an optional time.
// The fraction of a second has no length limit in FHIR ("2014-07-19T10:11:12.1234567890123+05:00" is
// valid): the length cap only keeps long free text out of the regex, so it leaves room for 20 digits.
const DATE_LIKE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Longest date-like string: a dateTime with a 20-digit fraction and a zone offset. */
const MAX_DATE_CHARS = 46;

export function isDateLike(s: string): boolean {
  return s.length >= 4 && s.length <= MAX_DATE_CHARS && s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57 && DATE_LIKE.test(s);
}

/** `2019-03-04T10:00:00Z` → `2019`. */
export function yearOnly(s: string): string {
  return s.slice(0, 4);
}

const DAY_MS = 86_400_000;

/**
 * Shifts the calendar date by `days`, keeping the precision and the time of day as written. A year alone
 * is kept (shifting it would only blur it); a year-month moves with its 15th.
 */
export function shiftDate(s: string, days: number): string {
  const m = DATE_LIKE.exec(s);
  if (!m || m[2] === undefined) return s;
  const [, y, mo, d, rest] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, d === undefined ? 15 : Number(d));
  const shifted = new Date(base + days * DAY_MS).toISOString();
  return d === undefined ? shifted.slice(0, 7) : shifted.slice(0, 10) + (rest ?? '');
}

/** Whole years from a FHIR birthDate to `now` (undefined when the date cannot be read). */
export function ageInYears(birthDate: string, now: Date): number | undefined {
  const m = DATE_LIKE.exec(birthDate);
  if (!m) return undefined;
  const y = Number(m[1]);
  // With only a year (or month), assume the earliest birthday so the age is never understated.
  const mo = m[2] ? Number(m[2]) : 1;
  const d = m[3] ? Number(m[3]) : 1;
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age -= 1;
  return age;
}

/** Ages above this are reported only as "90 or older". */
export const MAX_AGE = 89;

/**
 * Whether a date directly related to an individual reveals an age over 89 by its year alone
 * (§164.514(b)(2)(i)(C): "all elements of dates (including year) indicative of such age"): a birth date
 * of someone now over 89, and equally any event dated more than 89 years ago (the person existed then).
 * The same reckoning as a birthDate (ageInYears), so a date kept here never tells more than a kept birth year.
 */
export function revealsAgeOver89(date: string, now: Date): boolean {
  const year = Number(date.slice(0, 4));
  if (!(year <= now.getUTCFullYear() - MAX_AGE - 1)) return false; // fast path: recent dates
  return (ageInYears(date, now) ?? 0) > MAX_AGE;
}
