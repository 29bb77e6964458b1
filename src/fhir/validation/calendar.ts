// Real calendar days for date, dateTime and instant (R4 datatypes.html#date, #dateTime: "Dates SHALL be
// valid dates"). The spec's regexes allow day 01–31 in every month, so 2000-02-30 matched; this adds the
// month lengths of the Gregorian calendar. Everything else stays with the regexes, which already bound
// the time (hour 00–23, minute 00–59, second 00–59 or 60, a leap second, which the regex admits) and the
// offset (up to 13:59, or 14:00).

/** The ajv keyword that runs the check, set on the date, dateTime and instant schemas (schema.ts). */
export const CALENDAR_KEYWORD = 'fhirCalendarDay';

const digit = (v: string, i: number): number => {
  const c = v.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};

/** Gregorian: every 4th year, except centuries not divisible by 400 (1900 no, 2000 yes). */
export const isLeapYear = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/**
 * False only when `v` starts `YYYY-MM-DD` and that day does not exist (30 February, 31 April,
 * 29 February 1900). Partial dates (`YYYY`, `YYYY-MM`) and text of another shape pass: their format is
 * the regex's to judge, and one problem is reported once. Runs on every date of every write, so it reads
 * character codes and returns at the first sign the day is fine (days 01–28 exist in every month).
 */
export function isCalendarDay(v: string): boolean {
  if (v.length < 10 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45) return true; // '-'
  const day = digit(v, 8) * 10 + digit(v, 9);
  if (!(day > 28)) return true;
  const month = digit(v, 5) * 10 + digit(v, 6);
  if (month === 2) {
    const year = digit(v, 0) * 1000 + digit(v, 1) * 100 + digit(v, 2) * 10 + digit(v, 3);
    return Number.isNaN(year) || day <= (isLeapYear(year) ? 29 : 28);
  }
  if (month === 4 || month === 6 || month === 9 || month === 11) return day <= 30;
  return true; // 31-day months; a day past 31 or a month past 12 fails the regex
}
