// JSON-level validation of a resource (R4 json.html): known element names only, the right JSON type and
// array-ness per element, primitive formats (the spec's regexes), no empty objects or arrays, codes of
// required bindings. A JSON Schema is generated from the R4 element table (capability/definitions,
// official 4.0.1 definitions without vendor additions) and compiled with ajv once per resource type,
// on first use, so start-up pays for none of it.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Issue } from '../../errors.js';
import {
  childGroup, choiceKey, elementGroups, elementsOf, isResourceType, primitiveType, primitiveTypeNames, requiredValueSet,
} from '../../registry/resource-types.js';
import { expressionOf } from './expression.js';
import { CALENDAR_KEYWORD, isCalendarDay } from './calendar.js';
import { NARRATIVE_KEYWORD, narrativeProblems } from './narrative.js';
import { takesExtensions } from './primitive-extensions.js';

type Schema = Record<string, unknown>;
const ROOT = 'fhir-r4';
const ref = (def: string): Schema => ({ $ref: `#/definitions/${def}` });
const arrayOf = (items: Schema): Schema => ({ type: 'array', minItems: 1, items });
/**
 * "FHIR strings SHALL NOT exceed 1MB in size" (datatypes.html#string; string.value maxLength 1048576, also
 * markdown): a keyword of our own rather than ajv's maxLength, which counts the code points of every string;
 * only one longer than that in UTF-16 units can be too long.
 */
const SIZE_KEYWORD = 'fhirStringSize';
const MAX_STRING_CHARS = 1048576;
const SIZED_TYPES = new Set(['string', 'markdown']);
const withinSize = (_: boolean, v: string): boolean => v.length <= MAX_STRING_CHARS || [...v].length <= MAX_STRING_CHARS;
/** Primitive types whose values begin with a calendar day (datatypes.html: "Dates SHALL be valid dates"). */
const CALENDAR_TYPES = new Set(['date', 'dateTime', 'instant']);

/**
 * Codes (without system) of a required binding on a `code` element, when the value set is enumerated.
 * The code regex stays beside the enum: a malformed code (' male', '') is a malformed primitive (400),
 * reported as such rather than as a code outside the value set (422); schemaIssues keeps the one issue.
 */
function codeEnum(binding: string | undefined, nullable: boolean): Schema | undefined {
  const members = binding ? requiredValueSet(binding) : undefined;
  if (!members) return undefined;
  const codes = [...new Set([...members].map((m) => m.slice(m.lastIndexOf('|') + 1)))];
  const pattern = primitiveType('code')?.pattern;
  return {
    title: 'code', description: binding, type: nullable ? ['string', 'null'] : 'string',
    ...(pattern ? { pattern } : {}), enum: nullable ? [...codes, null] : codes,
  };
}

/**
 * The spec's regex of a primitive, refusing the empty string when the regex alone allows it (uri, url and
 * canonical are `\S*`): ele-1 "All FHIR elements must have a @value or children", and json.html has no
 * empty values (a primitive with no value is left out, or carries only its `_x` extensions).
 */
function nonEmptyPattern(pattern: string | undefined): string | undefined {
  if (!pattern || !new RegExp(pattern).test('')) return pattern;
  return pattern.startsWith('^') ? `^(?!$)${pattern.slice(1)}` : `^(?!$)(?:${pattern})`;
}

function groupSchema(group: string): Schema {
  const properties: Record<string, Schema> = {};
  for (const el of elementsOf(group) ?? []) {
    const array = el.max === '*';
    const variants: Array<[string, string]> = el.ref
      ? [[el.name, '']]
      : el.name.endsWith('[x]') ? el.types.map((t) => [choiceKey(el.name, t), t]) : [[el.name, el.types[0]]];
    for (const [key, type] of variants) {
      if (type && primitiveType(type)) {
        const codes = type === 'code' ? codeEnum(el.binding, array) : undefined;
        properties[key] = array ? arrayOf(codes ?? ref(`null-or-${type}`)) : (codes ?? ref(type));
        if (takesExtensions(group, key, type)) properties[`_${key}`] = array ? arrayOf(ref('null-or-Element')) : ref('Element');
      } else if (type === 'Resource') {
        // Nested resources (contained, Bundle.entry.resource, Parameters.parameter.resource) are
        // validated on their own, against their own type, by validate.ts.
        properties[key] = array ? arrayOf({ type: 'object' }) : { type: 'object' };
      } else {
        const target = childGroup(group, el, type);
        properties[key] = array ? arrayOf(ref(target)) : ref(target);
      }
    }
  }
  if (isResourceType(group)) {
    properties.resourceType = { const: group };
    return { title: group, type: 'object', properties, required: ['resourceType'], additionalProperties: false };
  }
  // ele-1: "All FHIR elements must have a @value or children".
  return { title: group, type: 'object', properties, additionalProperties: false, minProperties: 1 };
}

function buildDefinitions(): Record<string, Schema> {
  const definitions: Record<string, Schema> = {};
  for (const name of primitiveTypeNames()) {
    const p = primitiveType(name)!;
    const pattern = nonEmptyPattern(p.pattern);
    const rest = {
      ...(pattern ? { pattern } : {}),
      ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
      ...(p.maximum !== undefined ? { maximum: p.maximum } : {}),
      // Beside the regex, in the same compiled pass: every date, dateTime and instant wherever it sits
      // (nested types, choice elements, extension values, arrays) gets the check for free.
      ...(CALENDAR_TYPES.has(name) ? { [CALENDAR_KEYWORD]: true } : {}),
      // Narrative.div (the only xhtml element of R4): its XHTML rules, wherever a narrative sits.
      ...(name === 'xhtml' ? { [NARRATIVE_KEYWORD]: true } : {}),
      ...(SIZED_TYPES.has(name) ? { [SIZE_KEYWORD]: true } : {}),
    };
    definitions[name] = { title: name, type: p.json, ...rest };
    definitions[`null-or-${name}`] = { title: name, type: [p.json, 'null'], ...rest };
  }
  // The object beside a primitive (`_birthDate`): only an id and extensions (json.html#primitive).
  const element = { properties: { id: ref('string'), extension: arrayOf(ref('Extension')) }, additionalProperties: false, minProperties: 1 };
  definitions.Element = { title: 'Element', type: 'object', ...element };
  definitions['null-or-Element'] = { title: 'Element', type: ['object', 'null'], ...element };
  for (const group of elementGroups()) definitions[group] = groupSchema(group);
  return definitions;
}

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

/** The compiled validator of one resource type (compiled on first use, then kept). */
export function schemaValidator(resourceType: string): ValidateFunction {
  let v = validators.get(resourceType);
  if (!v) {
    if (!ajv) {
      // verbose: errors carry the failing schema (its FHIR type in `title`); unicodeRegExp off: the spec's
      // regexes are ASCII classes and run faster without the u flag.
      ajv = new Ajv({ allErrors: true, verbose: true, strict: true, unicodeRegExp: false, inlineRefs: false });
      // Applies to strings only: a null in a primitive array (json.html#primitive) or a wrong JSON type never reaches it.
      ajv.addKeyword({ keyword: CALENDAR_KEYWORD, type: 'string', schemaType: 'boolean', errors: false, validate: (_: boolean, v: string) => isCalendarDay(v) });
      ajv.addKeyword({ keyword: SIZE_KEYWORD, type: 'string', schemaType: 'boolean', errors: false, validate: withinSize });
      ajv.addKeyword({ keyword: NARRATIVE_KEYWORD, type: 'string', schemaType: 'boolean', errors: true, validate: narrativeKeyword });
      ajv.addSchema({ $id: ROOT, definitions: buildDefinitions() });
    }
    v = ajv.getSchema(`${ROOT}#/definitions/${resourceType}`);
    if (!v) throw new Error(`no schema for ${resourceType}`);
    validators.set(resourceType, v);
  }
  return v;
}

const HINTS: Record<string, string> = {
  date: ' (YYYY, YYYY-MM or YYYY-MM-DD)',
  dateTime: ' (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)',
  instant: ' (YYYY-MM-DDThh:mm:ss[.sss] with a time zone)',
  id: ' (1-64 characters A-Z a-z 0-9 - .)',
  string: ' (must not be empty)',
  code: ' (no leading, trailing or double whitespace)',
  uri: ' (not empty, no whitespace)',
  url: ' (not empty, no whitespace)',
  canonical: ' (not empty, no whitespace)',
};

/** The narrative check as an ajv keyword: one error per problem, its text in `message`. */
function narrativeKeyword(this: unknown, _: boolean, v: string): boolean {
  const problems = narrativeProblems(v);
  (narrativeKeyword as { errors?: Partial<ErrorObject>[] }).errors = problems.map((message) => ({ keyword: NARRATIVE_KEYWORD, message, params: {} }));
  return problems.length === 0;
}

function issueOf(e: ErrorObject, base: string): Issue {
  const at = expressionOf(base, e.instancePath);
  const title = (e.parentSchema as Schema | undefined)?.title as string | undefined;
  const issue = (code: string, diagnostics: string, expression = at): Issue => ({ severity: 'error', code, diagnostics, expression: [expression] });
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(e.params.additionalProperty);
      return issue('structure', `Unknown element '${name.slice(0, 100)}' in ${title ?? at}`, expressionOf(at, `/${name}`));
    }
    case 'type': {
      const expected = e.params.type as string | string[];
      const item = /\/\d+$/.test(e.instancePath); // an entry of an array, not the element itself
      if (Array.isArray(e.data) && expected !== 'array' && !item) return issue('structure', `${at} takes a single value (max cardinality 1), not an array`);
      if (expected === 'array') return issue('structure', `${at} repeats (max cardinality *) and must be a JSON array`);
      const want = Array.isArray(expected) ? expected.filter((t) => t !== 'null').join(' or ') : expected;
      const kind = title && primitiveType(title) ? `a FHIR ${title} (JSON ${want})` : `a JSON ${want}${title ? ` (${title})` : ''}`;
      return issue('structure', `${at} must be ${kind}`);
    }
    case 'pattern':
    case 'minimum':
    case 'maximum':
      return issue('value', `${at} is not a valid ${title ?? 'value'}${HINTS[title ?? ''] ?? ''}`);
    case SIZE_KEYWORD:
      return issue('too-long', `${at} is longer than 1 MB (1,048,576 characters), the most a FHIR ${title ?? 'string'} may hold (datatypes.html#string)`);
    case NARRATIVE_KEYWORD:
      return issue('invalid', `${at} ${e.message ?? 'is not a valid narrative'}`);
    case CALENDAR_KEYWORD:
      return issue('value', `${at} is not a valid ${title ?? 'date'}: the day does not exist in its month (datatypes.html: "Dates SHALL be valid dates")`);
    case 'enum':
      return issue('code-invalid', `${at} has a code that is not in the required value set ${String((e.parentSchema as Schema).description)}`);
    case 'minItems':
      return issue('structure', `${at} must not be an empty array`);
    case 'minProperties':
      return issue('structure', `${at} must not be an empty object (ele-1: an element has a value or children)`);
    case 'const':
      return issue('structure', `${at} must be '${String(e.params.allowedValue)}'`);
    case 'required':
      return issue('structure', `${at}.${String(e.params.missingProperty)} is required`);
    default:
      return issue('structure', `${at} ${e.message ?? 'is invalid'}`);
  }
}

/** Schema problems of `resource` (whose resourceType is a known type), expressions rooted at `base`. */
export function schemaIssues(resourceType: string, resource: object, base: string): Issue[] {
  const validate = schemaValidator(resourceType);
  if (validate(resource)) return [];
  const errors = validate.errors ?? [];
  // A value of the wrong JSON type also fails its pattern or enum: report the type problem only. A
  // malformed date (pattern) may also name a day past its month's end, a malformed code is also outside
  // its value set: report the format only.
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const malformed = new Set(errors.filter((e) => e.keyword === 'pattern').map((e) => e.instancePath));
  return errors
    .filter((e) => e.keyword === 'type' || !wrongType.has(e.instancePath))
    .filter((e) => (e.keyword !== CALENDAR_KEYWORD && e.keyword !== 'enum') || !malformed.has(e.instancePath))
    .map((e) => issueOf(e, base));
}
