// HIPAA Safe Harbor (45 CFR §164.514(b)(2)(i), identifiers A–R) over FHIR R4 JSON, in one pass and
// without the type model (it runs on every write: budget ≲30 µs per Synthea resource, bench/deid.ts).
// Deny by element name where FHIR names identify a kind (patterns §4.3), plus value rules:
//   A names: HumanName anywhere (`name` holding objects), names of Location/Group/CareTeam/…, Reference.display
//   B geography: Address → state, country, ZIP3 (geo.ts); Location.position
//   C dates: every date/dateTime/instant → its year (or shifted per patient); ages > 89 → "90 or older",
//     and dates whose year reveals such an age removed (dates.ts revealsAgeOver89)
//   D–F telecom; G–K, M identifiers, device serials and UDIs, lot numbers; N URLs (every uri/url element)
//   O IP addresses: AuditEvent and Provenance are never copied; P/Q photos, attachments, base64 data
//   R free text: narratives (text), notes, comments, descriptions, valueString; every extension not listed
// Ids and references become keyed-hash pseudonyms (pseudonym.ts), so references still resolve; contained
// resources' local ids too. Deny by default: an element not in the R4 definitions is removed (elements.ts).
import type { Pseudonyms } from './pseudonym.js';
import type { DeidMode } from './settings.js';
import { ageInYears, isDateLike, MAX_AGE, revealsAgeOver89, shiftDate, yearOnly } from './dates.js';
import { generalizeAddress, zip3 } from './geo.js';
import { groupOldAge } from './ages.js';
import { DATE_TYPES, DROP_TYPES, KEPT_STRINGS, keptUri, slotsOf } from './elements.js';

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

interface Walk {
  mode: DeidMode;
  p: Pseudonyms;
  shift: number;
  now: Date;
}

/** A date kept as its year (or shifted); removed when the year itself reveals an age over 89 (C). */
function dateValue(s: string, w: Walk): string | undefined {
  if (w.mode === 'date-shift') return shiftDate(s, w.shift);
  return revealsAgeOver89(s, w.now) ? undefined : yearOnly(s);
}

/** An element of a date type: a value that is not a readable date is removed, never copied as written. */
function dateElement(v: unknown, w: Walk): unknown {
  if (typeof v === 'string') return isDateLike(v) ? dateValue(v, w) : undefined;
  if (!Array.isArray(v)) return undefined;
  const out = v.map((x) => dateElement(x, w)).filter((x) => x !== undefined);
  return out.length ? out : undefined;
}

/** A canonical to a contained definition ('#q1', dom-3) follows its local pseudonym; others are definitions' URLs. */
function canonical(v: unknown, w: Walk): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(x, w));
  return typeof v === 'string' && v.charCodeAt(0) === 35 ? w.p.reference(v) : v;
}

/** `local`: the objects are contained resources, whose ids are local (pseudonym.ts `local`). */
function value(v: unknown, w: Walk, rtype: string, group: string | undefined, local = false): unknown {
  if (typeof v === 'string') return isDateLike(v) ? dateValue(v, w) : v;
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const y = value(x, w, rtype, group, local);
      if (y !== undefined) out.push(y);
    }
    return out.length ? out : undefined;
  }
  return object(v as Record<string, unknown>, w, rtype, false, group, local);
}

/** The race, ethnicity and birth-sex extensions as categories only: codes, and the category's text. */
function keptExtension(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { url: e.url };
  if (typeof e.valueCode === 'string') out.valueCode = e.valueCode;
  const subs: Array<Record<string, unknown>> = [];
  for (const x of Array.isArray(e.extension) ? (e.extension as Array<Record<string, unknown>>) : []) {
    if ((x?.url === 'ombCategory' || x?.url === 'detailed') && isObjectValue(x.valueCoding)) subs.push({ url: x.url, valueCoding: coding(x.valueCoding) });
    else if (x?.url === 'text' && typeof x.valueString === 'string') subs.push({ url: 'text', valueString: x.valueString });
  }
  if (subs.length) out.extension = subs;
  return out;
}
const isObjectValue = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const coding = (c: Record<string, unknown>) => Object.fromEntries(['system', 'code', 'display'].filter((k) => typeof c[k] === 'string').map((k) => [k, c[k]]));

function object(o: Record<string, unknown>, w: Walk, rtype: string, top: boolean, group: string | undefined, local = false): Record<string, unknown> | undefined {
  const isResource = typeof o.resourceType === 'string';
  if (isResource) group = rtype = o.resourceType as string;
  const slots = slotsOf(group);
  // An object where the definitions know no elements (a primitive given an object, an unknown type): removed.
  // A type never copied stays out when nested too (a Provenance contained, an AuditEvent in a stored Bundle: O).
  if (!slots || (isResource && !top && EXCLUDED_TYPES.has(rtype))) return undefined;
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key in o) {
    const v = o[key];
    // `_birthDate` and the like carry an element id and extensions only: nothing a researcher needs.
    if (DROP.has(key) || key.charCodeAt(0) === 95) continue;
    const slot = slots?.get(key);
    switch (key) {
      case 'id':
        // The resource's own id and a nested one's (Bundle.entry.resource): a pseudonym; a contained
        // resource's: a local pseudonym matching its '#id' references; an element's: text of the writer's
        // choosing ("born-1930-05-05-…"), removed.
        if (top || (isResource && !local)) out.id = w.p.id(rtype, String(v));
        else if (isResource) out.id = w.p.local(String(v));
        else continue;
        n++;
        continue;
      case 'resourceType':
        out.resourceType = v;
        n++;
        continue;
      case 'meta':
        continue; // rebuilt by the caller: versionId, profile and the de-identification labels only
      case 'display':
        // A Coding's display is terminology; a Reference's display names a person (A), whatever else the
        // object holds, and a display without a code is free text. Only a defined display of a code is kept.
        if (slot?.type === 'string' && group !== 'Reference' && typeof o.code === 'string') {
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
        const kept = Array.isArray(v) ? v.filter((e) => KEPT_EXTENSIONS.has((e as { url?: string })?.url ?? '')).map((e) => keptExtension(e as Record<string, unknown>)) : [];
        if (kept.length) {
          out.extension = kept;
          n++;
        }
        continue;
      }
      case 'name':
        if (typeof v === 'string' && slot?.type === 'string' && isResource && !NAMED_TYPES.has(rtype)) {
          out.name = v;
          n++;
        }
        continue; // HumanName (objects) always removed
      case 'content':
        if (rtype === 'Media') continue; // Media.content is the photo itself
        break;
    }
    // Not an element of this type (deny by default): removed rather than guessed at, whatever its value.
    if (!slot) continue;
    if (DROP_TYPES.has(slot.type)) continue;
    if ((slot.type === 'string' || slot.type === 'markdown') && !KEPT_STRINGS.has(`${group}.${key}`)) continue;
    if (!keptUri(slot.type, group!, key)) continue;
    if (slot.type === 'Address') {
      if (isObjectValue(v) || Array.isArray(v)) {
        const list = (Array.isArray(v) ? v : [v]).map((a) => generalizeAddress(a as Record<string, unknown>)).filter((a) => a !== undefined);
        if (list.length) {
          out[key] = Array.isArray(v) ? list : list[0];
          n++;
        }
      }
      continue;
    }
    const y = DATE_TYPES.has(slot.type) ? dateElement(v, w) : slot.type === 'canonical' ? canonical(v, w)
      : value(v, w, rtype, slot.child, key === 'contained');
    if (y !== undefined) {
      out[key] = y;
      n++;
    }
  }
  // Ages over 89 (an Age, or a Quantity of time) are grouped: "90 or older" (ages.ts).
  groupOldAge(out, group === 'Age');
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
  if (Array.isArray(m.profile)) out.profile = m.profile.filter((x) => typeof x === 'string');
  // The writer's security labels as codes only: an element id or extension on a label is free text (R).
  const labels = Array.isArray(m.security) ? (m.security as unknown[]).filter(isObjectValue).map(coding).filter((c) => typeof c.code === 'string') : [];
  out.security = [...labels, ...SECURITY];
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
  const w: Walk = { mode: opts.mode, p, shift: opts.mode === 'date-shift' ? p.shiftDays(patient) : 0, now: opts.now };
  const body = object(resource, w, type, true, type) ?? {};
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
