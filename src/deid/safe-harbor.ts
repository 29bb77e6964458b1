// HIPAA Safe Harbor (45 CFR §164.514(b)(2)(i), identifiers A–R) over FHIR R4 JSON, in one pass and
// without the type model (it runs on every write: budget ≲30 µs per Synthea resource, bench/deid.ts).
// Deny by element name where FHIR names identify a kind (patterns §4.3), plus value rules:
//   A names: HumanName anywhere (`name` holding objects), names of Location/Group/CareTeam/…, Reference.display
//   B geography: Address → state, country, ZIP3 (geo.ts); Location.position
//   C dates: every date/dateTime/instant → its year (or shifted per patient); ages > 89 → "90 or older"
//   D–F telecom; G–K, M identifiers, device serials and UDIs, lot numbers; N URLs (url, fullUrl, Attachment)
//   O IP addresses: AuditEvent and Provenance are never copied; P/Q photos, attachments, base64 data
//   R free text: narratives (text), notes, comments, descriptions, valueString; every extension not listed
// Ids and references become keyed-hash pseudonyms (pseudonym.ts), so references still resolve.
import type { Pseudonyms } from './pseudonym.js';
import type { DeidMode } from './settings.js';
import { ageInYears, isDateLike, MAX_AGE, shiftDate, yearOnly } from './dates.js';
import { generalizeAddress, zip3 } from './geo.js';

export interface DeidOptions {
  mode: DeidMode;
  pseudonyms: Pseudonyms;
  /** "Now" for ages (tests pin it). */
  now: Date;
}

export interface QuasiIdentifiers {
  birth?: string;
  sex?: string;
  zip3?: string;
}

export interface DeidResult {
  resource: Record<string, unknown>;
  id: string;
  compartments: string[];
  /** Patient rows only: the k-anonymity report's quasi-identifiers. */
  qi?: QuasiIdentifiers;
}

/** Elements removed wherever they occur (outside verbatim definitional resources). */
const DROP = new Set([
  'text', 'identifier', 'telecom', 'photo', 'note', 'comment', 'description', 'patientInstruction', 'conclusion',
  'contact', 'lotNumber', 'serialNumber', 'udiCarrier', 'distinctIdentifier', 'deviceName', 'position', 'presentedForm',
  'attachment', 'contentAttachment', 'valueAttachment', 'data', 'valueString', 'valueMarkdown', 'valueBase64Binary',
  'valueUri', 'valueUrl', 'alias', 'modifierExtension', 'signature', 'valueSignature', 'url', 'fullUrl', 'title',
  'subscriberId', 'preAuthRef', 'businessArrangement', 'payload', 'valueAddress', 'valueContactPoint', 'valueHumanName',
  'valueIdentifier', 'valueAnnotation', 'implicitRules',
]);

/** Types whose string `name` names a place, group or person. */
const NAMED_TYPES = new Set(['Location', 'Group', 'CareTeam', 'HealthcareService', 'Endpoint', 'Account', 'FamilyMemberHistory', 'InsurancePlan', 'Contract']);

/** Never copied: network addresses and agents (AuditEvent, Provenance), raw content (Binary). */
export const EXCLUDED_TYPES = new Set(['AuditEvent', 'Provenance', 'Binary', 'Subscription']);

/** Definitions hold no patient data: copied verbatim (measures and libraries must stay evaluable). */
const DEFINITIONAL = new Set([
  'ValueSet', 'CodeSystem', 'ConceptMap', 'NamingSystem', 'StructureDefinition', 'StructureMap', 'SearchParameter', 'OperationDefinition',
  'CapabilityStatement', 'CompartmentDefinition', 'ImplementationGuide', 'GraphDefinition', 'MessageDefinition', 'TerminologyCapabilities',
  'Questionnaire', 'Measure', 'Library', 'PlanDefinition', 'ActivityDefinition', 'ObservationDefinition', 'SpecimenDefinition',
  'EventDefinition', 'ResearchDefinition', 'ResearchElementDefinition', 'EvidenceVariable', 'Evidence', 'ChargeItemDefinition',
]);

/** Extensions that carry categories only (US Core race, ethnicity, birth sex): kept as they are. */
const KEPT_EXTENSIONS = new Set([
  'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
  'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity',
  'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex',
]);

export const AGE_GROUP_EXTENSION = 'https://fhirgate.dev/fhir/StructureDefinition/deid-age-group';
const SECURITY = [
  { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'PSEUDED' },
  { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED' },
];

const YEAR_UNITS = new Set(['a', 'yr', 'year', 'years']);

interface Walk {
  mode: DeidMode;
  p: Pseudonyms;
  shift: number;
}

function dateValue(s: string, w: Walk): string {
  return w.mode === 'date-shift' ? shiftDate(s, w.shift) : yearOnly(s);
}

function value(v: unknown, w: Walk, rtype: string): unknown {
  if (typeof v === 'string') return isDateLike(v) ? dateValue(v, w) : v;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const y = value(x, w, rtype);
      if (y !== undefined) out.push(y);
    }
    return out.length ? out : undefined;
  }
  return object(v as Record<string, unknown>, w, rtype, false);
}

function object(o: Record<string, unknown>, w: Walk, rtype: string, top: boolean): Record<string, unknown> | undefined {
  if (typeof o.resourceType === 'string') rtype = o.resourceType;
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key in o) {
    const v = o[key];
    if (DROP.has(key)) continue;
    switch (key) {
      case 'id':
        out.id = top ? w.p.id(rtype, String(v)) : v;
        n++;
        continue;
      case 'meta':
        continue; // rebuilt by the caller: versionId, profile and the de-identification labels only
      case 'display':
        // A Coding's display is terminology; a Reference's display names a person.
        if ('code' in o || 'system' in o) {
          out.display = v;
          n++;
        }
        continue;
      case 'reference': {
        const r = typeof v === 'string' ? w.p.reference(v) : undefined;
        if (r) {
          out.reference = r;
          n++;
        }
        continue;
      }
      case 'extension': {
        const kept = Array.isArray(v) ? v.filter((e) => KEPT_EXTENSIONS.has((e as { url?: string })?.url ?? '')) : [];
        if (kept.length) {
          out.extension = kept;
          n++;
        }
        continue;
      }
      case 'name':
        if (typeof v === 'string' && !NAMED_TYPES.has(rtype)) {
          out.name = v;
          n++;
        }
        continue; // HumanName (objects) always removed
      case 'address':
        if (typeof v === 'object' && v !== null) {
          const list = (Array.isArray(v) ? v : [v]).map((a) => generalizeAddress(a as Record<string, unknown>)).filter((a) => a !== undefined);
          if (list.length) {
            out.address = Array.isArray(v) ? list : list[0];
            n++;
          }
        }
        continue; // a string address is a URL (Endpoint)
      case 'content':
        if (rtype === 'Media') continue; // Media.content is the photo itself
        break;
    }
    const y = value(v, w, rtype);
    if (y !== undefined) {
      out[key] = y;
      n++;
    }
  }
  // Ages over 89 (Age, or a Quantity in years) are grouped: "90 or older".
  if (typeof out.value === 'number' && out.value > MAX_AGE && YEAR_UNITS.has(String(out.code ?? out.unit ?? ''))) {
    out.value = MAX_AGE + 1;
    out.comparator = '>=';
  }
  return n ? out : undefined;
}

function patientOf(resource: Record<string, unknown>, compartments: readonly string[]): string | undefined {
  if (resource.resourceType === 'Patient') return String(resource.id);
  const first = compartments.find((c) => c.startsWith('Patient/'));
  return first?.slice('Patient/'.length);
}

function meta(source: unknown): Record<string, unknown> {
  const m = (source ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (m.versionId !== undefined) out.versionId = m.versionId;
  if (Array.isArray(m.profile)) out.profile = m.profile;
  out.security = [...(Array.isArray(m.security) ? (m.security as unknown[]) : []), ...SECURITY];
  return out;
}

/**
 * The de-identified copy of a stored resource, or undefined for a type that is never copied.
 * `compartments` are the resource's `Patient/<id>` memberships (from the write path's index).
 */
export function deidentify(resource: Record<string, unknown>, compartments: readonly string[], opts: DeidOptions): DeidResult | undefined {
  const type = String(resource.resourceType);
  if (EXCLUDED_TYPES.has(type)) return undefined;
  const p = opts.pseudonyms;
  const id = p.id(type, String(resource.id));
  const pseudoCompartments = p.compartments(compartments);
  if (DEFINITIONAL.has(type)) {
    const { meta: m, ...rest } = resource;
    return { resource: { ...rest, id, meta: meta(m) }, id, compartments: pseudoCompartments };
  }
  const patient = patientOf(resource, compartments);
  const w: Walk = { mode: opts.mode, p, shift: opts.mode === 'date-shift' ? p.shiftDays(patient) : 0 };
  const body = object(resource, w, type, true) ?? {};
  const out: Record<string, unknown> = { resourceType: type, id, meta: meta(resource.meta), ...body };
  let qi: QuasiIdentifiers | undefined;
  if (type === 'Patient') {
    qi = {};
    const birthDate = typeof resource.birthDate === 'string' ? resource.birthDate : undefined;
    const age = birthDate ? ageInYears(birthDate, opts.now) : undefined;
    if (birthDate && age !== undefined && age > MAX_AGE && opts.mode === 'safe-harbor') {
      delete out.birthDate; // the year itself would reveal the age
      out.extension = [...((out.extension as unknown[]) ?? []), { url: AGE_GROUP_EXTENSION, valueString: '90+' }];
      qi.birth = '90+';
    } else if (birthDate) qi.birth = yearOnly(birthDate);
    if (typeof resource.gender === 'string') qi.sex = resource.gender;
    const first = Array.isArray(resource.address) ? (resource.address[0] as Record<string, unknown> | undefined) : undefined;
    if (typeof first?.postalCode === 'string') qi.zip3 = zip3(first.postalCode);
  }
  return { resource: out, id, compartments: pseudoCompartments, qi };
}
