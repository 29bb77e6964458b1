// What the JSON Schema cannot say, from the R4 StructureDefinitions (elementdefinition.html): minimum
// cardinality (a primitive counts as present with only its `_x` extensions), one type per choice
// element (`value[x]`), required bindings on Coding/CodeableConcept (terminologies.html#required:
// "the concept in this element SHALL be from the specified value set"), nulls in primitive arrays
// only when paired with the `_x` entry (json.html#primitive), the invariants every element carries
// (ele-1: a value or children beyond the id; ext-1: an extension has a value or extensions, not both,
// not neither), and nested resources handed back to the caller, who validates them against their own type.
import type { Issue } from '../../errors.js';
import { childGroup, choiceKey, elementsOf, primitiveType, requiredValueSet } from '../../registry/resource-types.js';
import { takesExtensions } from './primitive-extensions.js';

interface Binding {
  url: string;
  members: ReadonlySet<string>;
  codes: ReadonlySet<string>;
}

interface Child {
  /** FHIRPath name (the JSON key without a leading `_`). */
  name: string;
  kind: 'complex' | 'resource' | 'primitive' | 'element';
  array: boolean;
  group?: string;
  coding?: 'Coding' | 'CodeableConcept';
  binding?: Binding;
}

interface Plan {
  required: Array<{ name: string; keys: string[] }>;
  choices: Array<{ name: string; keys: string[] }>;
  children: Map<string, Child>;
  /** Extension only: the value[x] keys, for ext-1 ("either extensions or value[x], not both"). */
  valueKeys?: string[];
}

/** Called for each nested resource (contained, Bundle.entry.resource, …) with its expression. */
export type NestedVisitor = (resource: unknown, expression: string, contained: boolean) => void;

const ELEMENT: Plan = {
  required: [],
  choices: [],
  children: new Map<string, Child>([['extension', { name: 'extension', kind: 'complex', array: true, group: 'Extension' }]]),
};
const plans = new Map<string, Plan>([['Element', ELEMENT]]);
const bindings = new Map<string, Binding | undefined>();

function bindingOf(url: string | undefined): Binding | undefined {
  if (!url) return undefined;
  if (!bindings.has(url)) {
    const members = requiredValueSet(url);
    const codes = members && new Set([...members].map((m) => m.slice(m.lastIndexOf('|') + 1)));
    bindings.set(url, members && codes ? { url, members, codes } : undefined);
  }
  return bindings.get(url);
}

function planOf(group: string): Plan {
  let plan = plans.get(group);
  if (plan) return plan;
  plan = { required: [], choices: [], children: new Map() };
  plans.set(group, plan);
  for (const el of elementsOf(group) ?? []) {
    const array = el.max === '*';
    const choice = el.name.endsWith('[x]');
    const name = choice ? el.name.slice(0, -3) : el.name;
    const variants: Array<[string, string]> = el.ref
      ? [[el.name, '']]
      : choice ? el.types.map((t) => [choiceKey(el.name, t), t]) : [[el.name, el.types[0]]];
    const keys: string[] = [];
    for (const [key, type] of variants) {
      keys.push(key);
      if (type && primitiveType(type)) {
        plan.children.set(key, { name: key, kind: 'primitive', array });
        if (takesExtensions(group, key, type)) {
          keys.push(`_${key}`);
          plan.children.set(`_${key}`, { name: key, kind: 'element', array, group: 'Element' });
        }
      } else if (type === 'Resource') {
        plan.children.set(key, { name: key, kind: 'resource', array });
      } else {
        const coding = type === 'Coding' || type === 'CodeableConcept' ? type : undefined;
        const binding = coding ? bindingOf(el.binding) : undefined;
        plan.children.set(key, { name: key, kind: 'complex', array, group: childGroup(group, el, type), coding, binding });
      }
    }
    if (el.min > 0) plan.required.push({ name, keys });
    if (variants.length > 1) plan.choices.push({ name, keys });
    if (group === 'Extension' && el.name === 'value[x]') plan.valueKeys = keys;
  }
  return plan;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** datatypes.html#code: no leading, trailing or double whitespace, not empty. */
const CODE = new RegExp(primitiveType('code')?.pattern ?? '^(?:[^\\s]+(\\s[^\\s]+)*)$');

function isEmpty(obj: Record<string, unknown>): boolean {
  for (const _ in obj) return false;
  return true;
}

/** True when `obj` has an `id` and nothing else. */
function onlyId(obj: Record<string, unknown>): boolean {
  if (obj.id === undefined) return false;
  for (const k in obj) if (k !== 'id') return false;
  return true;
}

class Walker {
  constructor(readonly issues: Issue[], readonly nested: NestedVisitor) {}

  private add(code: string, expression: string, diagnostics: string): void {
    this.issues.push({ severity: 'error', code, diagnostics, expression: [expression] });
  }

  walk(obj: Record<string, unknown>, group: string, at: string): void {
    const plan = planOf(group);
    for (const req of plan.required) {
      if (!req.keys.some((k) => obj[k] !== undefined)) this.add('required', `${at}.${req.name}`, `${at}.${req.name} is required (minimum cardinality 1)`);
    }
    for (const choice of plan.choices) {
      let seen = 0;
      for (const k of choice.keys) if (obj[k] !== undefined && !(k.startsWith('_') && obj[k.slice(1)] !== undefined)) seen++;
      if (seen > 1) this.add('structure', `${at}.${choice.name}`, `${at}.${choice.name}[x] takes one type only, but ${seen} are given`);
    }
    if (plan.valueKeys) {
      // ext-1 (extensibility.html, Extension): `extension.exists() != value.exists()`, so an extension
      // needs exactly one of the two: both is an error, and so is neither (a url alone says nothing).
      const hasValue = plan.valueKeys.some((k) => obj[k] !== undefined);
      if ((obj.extension !== undefined) === hasValue) {
        this.add('invariant', at, hasValue
          ? `${at} has both extensions and a value (ext-1: either extensions or value[x], not both)`
          : `${at} has neither extensions nor a value (ext-1: either extensions or value[x], not both)`);
      }
    }
    for (const key in obj) {
      const child = plan.children.get(key);
      if (!child) continue; // unknown elements are the schema's to report
      const value = obj[key];
      const here = `${at}.${child.name}`;
      if (child.kind === 'primitive') {
        if (child.array && Array.isArray(value)) this.pairNulls(value, obj[`_${key}`], here);
      } else if (child.kind === 'element') {
        // The `_x` object of a primitive: ele-1 counts the primitive's value as its @value.
        const values = obj[child.name];
        if (!child.array) this.visit(child, value, here, values !== undefined && values !== null);
        else if (Array.isArray(value)) {
          if (values === undefined) this.nullsWithoutValues(value, here);
          for (let i = 0; i < value.length; i++) {
            this.visit(child, value[i], `${here}[${i}]`, Array.isArray(values) && values[i] !== undefined && values[i] !== null);
          }
        }
      } else if (child.array) {
        if (!Array.isArray(value)) continue;
        for (let i = 0; i < value.length; i++) this.visit(child, value[i], `${here}[${i}]`);
      } else this.visit(child, value, here);
    }
  }

  private visit(child: Child, value: unknown, at: string, hasValue = false): void {
    if (!isObject(value)) return; // a wrong JSON type is the schema's to report
    if (child.kind === 'resource') {
      this.nested(value, at, child.name === 'contained');
      return;
    }
    // An empty object is the schema's to report (json.html, ele-1): one issue, not one per missing child.
    if (isEmpty(value)) return;
    // ele-1 (element.html): `hasValue() or (children().count() > id.count())`: an element holding only
    // its id has neither; what it lacks besides (a required child, ext-1's value) is the same problem.
    if (!hasValue && onlyId(value)) {
      this.add('invariant', at, `${at} has only an id, no value or children (ele-1: all FHIR elements must have a @value or children)`);
      return;
    }
    if (child.binding) this.checkBinding(child.coding!, child.binding, value, at);
    this.walk(value, child.group!, at);
  }

  private checkBinding(kind: 'Coding' | 'CodeableConcept', binding: Binding, value: Record<string, unknown>, at: string): void {
    const codings = kind === 'Coding' ? [value] : Array.isArray(value.coding) ? value.coding : [];
    const inSet = (c: unknown) => isObject(c) && typeof c.code === 'string' &&
      (typeof c.system === 'string' ? binding.members.has(`${c.system}|${c.code}`) : binding.codes.has(c.code));
    if (codings.some(inSet)) return;
    // A malformed code (' active', '') is the schema's to report, at the code, as malformed (400).
    if (codings.some((c) => isObject(c) && typeof c.code === 'string' && !CODE.test(c.code))) return;
    const what = codings.length ? 'has no code from' : 'has no coding, but needs a code from';
    this.add('code-invalid', at, `${at} ${what} the required value set ${binding.url}`);
  }

  /** json.html: `_given` alone (no `given` array): a null there is a position with neither value nor extensions. */
  private nullsWithoutValues(extras: unknown[], at: string): void {
    for (let i = 0; i < extras.length; i++) {
      if (extras[i] === null) this.add('structure', `${at}[${i}]`, `${at}[${i}] is null in _${at.slice(at.lastIndexOf('.') + 1)} and has no value in its place`);
    }
  }

  /** json.html: a null in a primitive array stands in only where the `_x` array has an entry, and back. */
  private pairNulls(values: unknown[], extras: unknown, at: string): void {
    const others = Array.isArray(extras) ? extras : undefined;
    if (others && others.length !== values.length) {
      this.add('structure', at, `${at} and its extensions array (_${at.slice(at.lastIndexOf('.') + 1)}) must have the same length`);
      return;
    }
    for (let i = 0; i < values.length; i++) {
      if (values[i] === null && (!others || others[i] === null || others[i] === undefined)) {
        this.add('structure', `${at}[${i}]`, `${at}[${i}] is null without extensions in its place`);
      }
    }
  }
}

/** Structure issues of one resource (its own type `group`); nested resources go to `nested`. */
export function structureIssues(resource: Record<string, unknown>, resourceType: string, at: string, nested: NestedVisitor): Issue[] {
  const issues: Issue[] = [];
  new Walker(issues, nested).walk(resource, resourceType, at);
  return issues;
}
