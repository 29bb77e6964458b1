// Deterministic generated fixtures for the search property test: patients (accented and mixed-case names,
// partial birth dates), observations (LOINC codes, quantities, dateTimes and Periods), encounters, and
// risk assessments (decimals), with references between them. Seeded, so a failure reproduces.
import type { Resource } from 'fhir/r4';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FAMILIES = ['Müller', 'Miller', 'MÜLLER-Schmidt', "O'Brien", 'Zoë', 'García', 'Smith', 'smithers', 'Ng', 'Østergaard'];
export const GIVENS = ['Anna', 'José', 'Ann', 'Bob', 'Renée', 'Zoe', 'Li', 'Ángel'];
export const CITIES = ['Boston', 'Bøston', 'Worcester', 'Springfield', 'Salem'];
export const CODES: Array<[string, string, string]> = [
  ['http://loinc.org', '8480-6', 'Systolic blood pressure'], ['http://loinc.org', '8462-4', 'Diastolic blood pressure'],
  ['http://loinc.org', '29463-7', 'Body weight'], ['http://loinc.org', '8302-2', 'Body height'], ['http://snomed.info/sct', '8480-6', 'Same code other system'],
];
export const UNITS: Array<[string, string]> = [['mm[Hg]', 'mmHg'], ['kg', 'kg'], ['cm', 'cm']];
export const CATEGORIES = ['vital-signs', 'laboratory', 'survey'];
export const STATUSES = ['final', 'preliminary', 'amended', 'cancelled'];

const pad = (n: number) => String(n).padStart(2, '0');

export function generate(seed = 7, patients = 40, obsPerPatient = 10): Resource[] {
  const r = rng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const out: Resource[] = [];
  out.push({ resourceType: 'Organization', id: 'org-a', name: 'Acme Clinic' } as Resource, { resourceType: 'Organization', id: 'org-b', name: 'Beta Hospital' } as Resource);
  for (let i = 0; i < patients; i++) {
    const y = 1940 + Math.floor(r() * 70);
    const precision = r();
    const birthDate = precision < 0.15 ? `${y}` : precision < 0.3 ? `${y}-${pad(1 + Math.floor(r() * 12))}` : `${y}-${pad(1 + Math.floor(r() * 12))}-${pad(1 + Math.floor(r() * 28))}`;
    const p: Record<string, unknown> = {
      resourceType: 'Patient', id: `p${i}`, active: r() < 0.8,
      name: [{ family: pick(FAMILIES), given: r() < 0.9 ? [pick(GIVENS), ...(r() < 0.3 ? [pick(GIVENS)] : [])] : undefined }],
      birthDate,
      address: r() < 0.8 ? [{ city: pick(CITIES), postalCode: `0${1000 + Math.floor(r() * 50)}` }] : undefined,
      identifier: r() < 0.85 ? [{ system: 'urn:mrn', value: `MRN${i}` }, ...(r() < 0.5 ? [{ system: 'urn:ssn', value: `SSN-${i % 7}` }] : [])] : undefined,
      managingOrganization: r() < 0.7 ? { reference: r() < 0.5 ? 'Organization/org-a' : 'Organization/org-b' } : undefined,
    };
    if (r() < 0.9) p.gender = pick(['male', 'female', 'other', 'unknown']);
    out.push(JSON.parse(JSON.stringify(p)) as Resource);
    for (let k = 0; k < obsPerPatient; k++) {
      const [system, code, display] = pick(CODES);
      const [ucode, unit] = pick(UNITS);
      const month = 1 + Math.floor(r() * 12);
      const year = 2015 + Math.floor(r() * 8);
      const when = r();
      const o: Record<string, unknown> = {
        resourceType: 'Observation', id: `o${i}-${k}`, status: pick(STATUSES),
        category: r() < 0.9 ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: pick(CATEGORIES) }] }] : undefined,
        code: { coding: [{ system, code, display }], ...(r() < 0.5 ? { text: display } : {}) },
        subject: { reference: `Patient/p${i}` },
      };
      if (when < 0.6) o.effectiveDateTime = `${year}-${pad(month)}-${pad(1 + Math.floor(r() * 28))}T${pad(Math.floor(r() * 24))}:${pad(Math.floor(r() * 60))}:00Z`;
      else if (when < 0.8) o.effectivePeriod = { start: `${year}-${pad(month)}-01`, ...(r() < 0.7 ? { end: `${year}-${pad(month)}-15` } : {}) };
      else if (when < 0.9) o.effectiveDateTime = `${year}-${pad(month)}`;
      if (r() < 0.85) o.valueQuantity = { value: Math.round(r() * 2000) / 10, unit, system: 'http://unitsofmeasure.org', code: ucode };
      out.push(JSON.parse(JSON.stringify(o)) as Resource);
    }
    for (let k = 0; k < 3; k++) {
      const y = 2016 + Math.floor(r() * 6);
      out.push({
        resourceType: 'Encounter', id: `e${i}-${k}`, status: pick(['finished', 'in-progress', 'planned']),
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: pick(['AMB', 'EMER', 'IMP']) },
        subject: { reference: `Patient/p${i}` },
        period: { start: `${y}-${pad(1 + Math.floor(r() * 12))}-10T08:00:00Z`, ...(r() < 0.8 ? { end: `${y}-12-31T17:00:00Z` } : {}) },
      } as Resource);
    }
    if (r() < 0.5) {
      out.push({ resourceType: 'RiskAssessment', id: `ra${i}`, status: 'final', subject: { reference: `Patient/p${i}` },
        prediction: [{ probabilityDecimal: Math.round(r() * 100) / 100 }] } as Resource);
    }
  }
  return out;
}
