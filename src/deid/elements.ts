// What the Safe Harbor walk (safe-harbor.ts) knows of an element: its R4 data type, from the core
// definitions (src/registry/resource-types.ts), and the rule its type carries (45 CFR §164.514(b)(2)(i)).
// Deny by default: an element that is not in the definitions of its parent is not copied at all.
import { childGroup, choiceKey, elementsOf } from '../registry/resource-types.js';

/** An element's type and where its children are defined, by JSON property name, per element group. */
export interface Slot { type: string; child: string }
const slotsByGroup = new Map<string, Map<string, Slot> | null>();

/** The elements of a resource type, data type or backbone element; undefined when the group is unknown. */
export function slotsOf(group: string | undefined): Map<string, Slot> | undefined {
  if (!group) return undefined;
  let slots = slotsByGroup.get(group);
  if (slots === undefined) {
    const els = elementsOf(group);
    slots = els ? new Map() : null;
    for (const el of els ?? []) {
      if (el.ref) slots!.set(el.name, { type: 'BackboneElement', child: el.ref });
      else if (el.name.endsWith('[x]')) for (const t of el.types) slots!.set(choiceKey(el.name, t), { type: t, child: childGroup(group, el, t) });
      else if (el.types[0]) slots!.set(el.name, { type: el.types[0], child: childGroup(group, el, el.types[0]) });
    }
    slotsByGroup.set(group, slots);
  }
  return slots ?? undefined;
}

/**
 * Data types removed wherever an element of that type sits, whatever its name (45 CFR §164.514(b)(2)(i)):
 * a name-based list alone missed Specimen.accessionIdentifier, DocumentReference.masterIdentifier,
 * ImagingStudy.series.uid and the like. `id`, `oid`, `uuid` typed elements are identifiers (DICOM UIDs);
 * the resource's own id is pseudonymised, a contained resource's local id too (pseudonym.ts `local`).
 */
export const DROP_TYPES = new Set(['Identifier', 'HumanName', 'ContactPoint', 'Attachment', 'Signature', 'Annotation', 'Narrative',
  'base64Binary', 'id', 'oid', 'uuid', 'xhtml']);

/**
 * Free text (string, markdown) is removed unless it is terminology or a unit (R: "any other unique identifying
 * number, characteristic, or code"): Condition.onsetString, Coverage.class.value, Procedure.performedString
 * ("2020/02/03", a date the year rule cannot see) all held identifying text. Kept: a Coding's display, a
 * quantity's unit, and the name of a resource that names no person, place or group (Organization, Medication…).
 */
export const KEPT_STRINGS = new Set(['Coding.display', 'Quantity.unit', 'Age.unit', 'Duration.unit', 'Count.unit', 'Distance.unit']);

/** The date types: reduced to the year (or shifted); a value that cannot be read as a date is removed. */
export const DATE_TYPES = new Set(['date', 'dateTime', 'instant']);

/**
 * URIs and URLs are removed (§164.514(b)(2)(i)(N), "Web Universal Resource Locators"): CarePlan.instantiatesUri,
 * Bundle.entry.response.location, Endpoint.address, CoverageEligibilityResponse…authorizationUrl,
 * DocumentManifest.source held whatever the writer put there ("https://ehr.example/<patient>/plan").
 * Kept: the code system of a Coding or Quantity (`system`) and a Reference's resource type; canonical
 * references to definitions (a Questionnaire, a profile) are a separate type and stay.
 */
export function keptUri(type: string, group: string, key: string): boolean {
  if (type !== 'uri' && type !== 'url') return true;
  return key === 'system' || (group === 'Reference' && key === 'type');
}
