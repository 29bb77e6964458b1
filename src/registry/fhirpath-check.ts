// Checks a custom SearchParameter's expression before the server relies on it (R4 searchparameter.html,
// SearchParameter.expression: "A FHIRPath expression that returns a set of elements for the search
// parameter"). It must parse, call only functions the engine implements (search/path.ts compiles the same
// text with the same fhirpath package at write time, where a failure would break every write of the type),
// and name only elements the R4 model has: a misspelt element is valid FHIRPath that silently matches nothing.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { splitTopLevel, splitUnion } from './search-params.js';

const model = r4 as unknown as {
  path2Type: Record<string, string>;
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
};

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);

/** Why `expression` cannot be used on `resourceType`, or undefined when it can. `elements: false` for a relative (component) expression. */
export function fhirpathProblem(expression: string, resourceType: string, opts: { elements?: boolean } = {}): string | undefined {
  let fn: (r: unknown) => unknown;
  try {
    fn = fhirpath.compile(expression, r4 as never, { resolveInternalTypes: false }) as (r: unknown) => unknown;
  } catch (e) {
    return `'${expression.slice(0, 200)}' is not valid FHIRPath: ${firstLine(e)}`;
  }
  // The engine reports an unknown function only when it evaluates the call: an empty resource is enough.
  try {
    fn({ resourceType });
  } catch (e) {
    return `'${expression.slice(0, 200)}' cannot be evaluated: ${firstLine(e)}`;
  }
  return opts.elements === false ? undefined : unknownElement(expression, resourceType);
}

/** `(A.b)` → `A.b` when the parentheses enclose the whole text. */
function unwrap(s: string): string {
  s = s.trim();
  while (s.startsWith('(') && s.endsWith(')')) {
    let depth = 0;
    let enclosing = true;
    for (let i = 0; i < s.length - 1; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')' && --depth === 0) { enclosing = false; break; }
    }
    if (!enclosing) break;
    s = s.slice(1, -1).trim();
  }
  return s;
}

/** Where `field` leads from `path`: the next path, 'choice' (a [x] element), or undefined when the model has no such element. */
function child(path: string, field: string): string | undefined {
  let key = `${path}.${field}`;
  if (model.pathsDefinedElsewhere[key]) key = model.pathsDefinedElsewhere[key];
  const t = model.path2Type[key];
  if (t !== undefined) return t === 'BackboneElement' || t === 'Element' ? key : t;
  return model.choiceTypePaths[key] ? 'choice' : undefined;
}

/** Checks plain navigation (`Patient.name.family`, `.ofType(X)`, `.where(…)`, `.extension('…')`) against the model. */
function unknownElement(expression: string, resourceType: string): string | undefined {
  if (model.path2Type[`${resourceType}.id`] === undefined) return undefined; // a type the model does not describe
  for (const raw of splitUnion(expression)) {
    let part = unwrap(raw);
    const as = /^(.*\S)\s+as\s+([A-Za-z]+)$/.exec(part);
    if (as) part = `${unwrap(as[1])}.ofType(${as[2]})`;
    const list = splitTopLevel(part, '.').map(unwrap);
    let path: string | undefined = resourceType;
    if (/^[A-Z]/.test(list[0] ?? '')) {
      // Parts rooted at another type were set aside by expressionFor; Resource/DomainResource mean this type.
      if (list[0] !== resourceType && list[0] !== 'Resource' && list[0] !== 'DomainResource') continue;
      list.shift();
    }
    for (const st of list) {
      if (path === undefined) break;
      let m: RegExpExecArray | null;
      if (/^[a-z][A-Za-z0-9_]*$/.test(st)) {
        if (path === 'choice' || !/^[A-Z]/.test(path) || path === 'Resource' || path === 'DomainResource' || path.startsWith('System.')) break; // cannot tell
        const next = child(path, st);
        if (next === undefined) return `'${raw.slice(0, 200)}': ${path} has no element '${st}' in R4`;
        path = next;
      } else if ((m = /^(?:ofType|as)\(\s*(?:FHIR\.)?([A-Za-z]+)\s*\)$/.exec(st))) {
        path = /^[A-Z]/.test(m[1]) ? m[1] : undefined;
      } else if (/^extension\(\s*'[^']*'\s*\)$/.test(st)) {
        path = 'Extension';
      } else if (!/^(where|first|last|tail|skip|take)\(/.test(st)) {
        break; // another function: its result type is not followed here
      }
    }
  }
  return undefined;
}
