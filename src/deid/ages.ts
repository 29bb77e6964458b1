// Ages under Safe Harbor (45 CFR §164.514(b)(2)(i)(C)): "all ages over 89 ... except that such ages and
// elements may be aggregated into a single category of age 90 or older". An Age, or any Quantity of time
// (an Observation of age in years, a FamilyMemberHistory.ageAge, a Range of ages), over 89 years becomes
// ">= 90 a". The unit is read from the UCUM code and from the human unit: either may name the time unit
// (a UCUM "a_j" with unit "years" was kept at 95 when only the code was read).
import { MAX_AGE } from './dates.js';

/** Units of time, in years: UCUM codes (a, a_j, a_g, mo, mo_j, mo_g, mo_s, wk, d, h) and common spellings. */
const YEARS_PER: Record<string, number> = {
  a: 1, a_j: 1, a_g: 1, y: 1, yr: 1, yrs: 1, year: 1, years: 1,
  mo: 1 / 12, mo_j: 1 / 12, mo_g: 1 / 12, mo_s: 1 / 12, month: 1 / 12, months: 1 / 12,
  wk: 7 / 365.25, week: 7 / 365.25, weeks: 7 / 365.25, d: 1 / 365.25, day: 1 / 365.25, days: 1 / 365.25,
  h: 1 / 8766, hr: 1 / 8766, hour: 1 / 8766, hours: 1 / 8766,
};

function yearsPer(unit: unknown): number | undefined {
  if (typeof unit !== 'string') return undefined;
  return YEARS_PER[unit.trim().replace(/^\{(.*)\}$/, '$1').toLowerCase()];
}

/**
 * Groups an age over 89 in a de-identified Quantity (in place). `isAge`: the element is of type Age, whose
 * value is an age whatever its unit says; a unit that cannot be read is then taken as years.
 */
export function groupOldAge(q: Record<string, unknown>, isAge: boolean): void {
  if (typeof q.value !== 'number') return;
  const per = yearsPer(q.code) ?? yearsPer(q.unit) ?? (isAge ? 1 : undefined);
  if (per === undefined || q.value * per <= MAX_AGE) return;
  q.value = MAX_AGE + 1;
  q.comparator = '>=';
  q.unit = 'years';
  q.system = 'http://unitsofmeasure.org';
  q.code = 'a';
}
