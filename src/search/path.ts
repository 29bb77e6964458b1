// Evaluates SearchParameter FHIRPath expressions at write time. The R4 definitions are almost all unions of
// plain navigation (`Observation.code`, `(X.value.ofType(Quantity))`, `.where(resolve() is Patient)`,
// `.where(system='email')`): those compile to a typed walker (≈100× faster than a general engine, which the
// ≈20 µs per resource budget needs). Anything else is compiled once with the fhirpath package and the R4 model.
// Typed: every value carries its FHIR type (from the model's path2Type/choiceTypePaths) so the converters
// know a Coding from an Identifier. `resolve() is T` keeps references whose target type is T (no IO at write time).
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { splitTopLevel, splitUnion } from '../registry/search-params.js';

export interface Node { v: unknown; t: string; path?: string }
export type Evaluator = (resource: Record<string, unknown>) => Node[];

const model = r4 as unknown as {
  path2Type: Record<string, string>;
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  type2Parent: Record<string, string>;
};

type Step =
  | { k: 'field'; name: string; memo: Map<string, FieldRes> }
  | { k: 'ofType'; type: string }
  | { k: 'refType'; type: string }
  | { k: 'whereEq'; field: string; value: string }
  | { k: 'first' };

/** How a field resolves from one parent path: computed once per (step, parent path), then reused. */
interface FieldRes { direct?: { t: string; path: string }; choices?: Array<{ key: string; t: string; path: string }>; other?: string }

const PRIMITIVES = new Set(['boolean', 'integer', 'string', 'decimal', 'uri', 'url', 'canonical', 'base64Binary', 'instant', 'date', 'dateTime',
  'time', 'code', 'oid', 'id', 'markdown', 'unsignedInt', 'positiveInt', 'uuid', 'xhtml']);

/** Choice suffix (`DateTime`) → type name (`dateTime`). */
export function typeName(t: string): string {
  const lower = t[0].toLowerCase() + t.slice(1);
  return PRIMITIVES.has(lower) ? lower : t;
}

function isA(t: string, want: string): boolean {
  for (let cur: string | undefined = t; cur; cur = model.type2Parent[cur]) if (cur === want) return true;
  return false;
}

/** Removes grouping parentheses around a leading sub-path: `(A.b.ofType(X)).c` → `A.b.ofType(X).c`. */
function unwrap(s: string): string {
  s = s.trim();
  while (s.startsWith('(')) {
    let depth = 0;
    let close = -1;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')' && --depth === 0) { close = i; break; }
    }
    if (close < 0) return s;
    s = s.slice(1, close).trim() + s.slice(close + 1);
  }
  return s;
}

function parseStep(s: string): Step | undefined {
  let m: RegExpExecArray | null;
  if (/^[a-z_][A-Za-z0-9_]*$/.test(s)) return { k: 'field', name: s, memo: new Map() };
  if ((m = /^(?:ofType|as)\(\s*(?:FHIR\.)?([A-Za-z]+)\s*\)$/.exec(s))) return { k: 'ofType', type: typeName(m[1]) };
  if ((m = /^where\(\s*resolve\(\)\s+is\s+(?:FHIR\.)?([A-Za-z]+)\s*\)$/.exec(s))) return { k: 'refType', type: m[1] };
  if ((m = /^where\(\s*([a-z][A-Za-z]*)\s*=\s*'([^'\\]*)'\s*\)$/.exec(s))) return { k: 'whereEq', field: m[1], value: m[2] };
  if ((m = /^extension\(\s*'([^'\\]*)'\s*\)$/.exec(s))) return { k: 'whereEq', field: 'url', value: m[1] };
  if (s === 'first()') return { k: 'first' };
  return undefined;
}

interface PathPlan { root: boolean; steps: Step[]; texts: string[] }

/** A part like `Observation.code.coding` → steps, or undefined when it is not plain navigation. */
function planPart(part: string, resourceType: string): PathPlan | undefined {
  let s = unwrap(part);
  const as = /^(.*\S)\s+as\s+([A-Za-z]+)$/.exec(s);
  if (as) s = `${unwrap(as[1])}.ofType(${as[2]})`;
  const raw = splitTopLevel(s, '.');
  let root = false;
  if (raw[0] === resourceType || raw[0] === 'Resource' || raw[0] === 'DomainResource') { raw.shift(); root = true; }
  else if (/^[A-Z]/.test(raw[0])) return undefined;
  const steps: Step[] = [];
  const texts: string[] = [];
  for (const r of raw) {
    const text = unwrap(r);
    const st = parseStep(text);
    if (!st) return undefined;
    steps.push(st);
    texts.push(text);
  }
  return { root, steps, texts };
}

interface Cursor { v: unknown; t: string; path: string }

function childType(path: string, field: string): { t: string; path: string } | undefined {
  let key = `${path}.${field}`;
  let t = model.path2Type[key];
  if (t === undefined && model.pathsDefinedElsewhere[key]) { key = model.pathsDefinedElsewhere[key]; t = model.path2Type[key]; }
  if (t === undefined) return undefined;
  return t === 'BackboneElement' || t === 'Element' ? { t, path: key } : { t, path: t };
}

function pushValue(out: Cursor[], v: unknown, t: string, path: string): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) { for (const x of v) if (x !== undefined && x !== null) out.push({ v: x, t, path }); }
  else out.push({ v, t, path });
}

function resolveField(path: string, field: string): FieldRes {
  const ct = childType(path, field);
  if (ct) return { direct: ct };
  const key = `${path}.${field}`;
  const choices = model.choiceTypePaths[key] ?? model.choiceTypePaths[model.pathsDefinedElsewhere[key] ?? ''];
  if (choices) {
    return { choices: choices.map((suffix) => { const t = typeName(suffix); return { key: field + suffix, t, path: PRIMITIVES.has(t) ? t : suffix }; }) };
  }
  return { other: key };
}

function navigate(items: Cursor[], step: { name: string; memo: Map<string, FieldRes> }): Cursor[] {
  const out: Cursor[] = [];
  const field = step.name;
  for (const it of items) {
    const o = it.v as Record<string, unknown>;
    if (typeof o !== 'object') continue;
    let res = step.memo.get(it.path);
    if (!res) step.memo.set(it.path, (res = resolveField(it.path, field)));
    if (res.direct) pushValue(out, o[field], res.direct.t, res.direct.path);
    else if (res.choices) {
      for (const c of res.choices) { const v = o[c.key]; if (v !== undefined) pushValue(out, v, c.t, c.path); }
    } else pushValue(out, o[field], 'unknown', res.other!);
  }
  return out;
}

/** The resource type a reference string names (`Patient/1`, `http://x/fhir/Patient/1/_history/2`). */
export function referenceType(ref: string): string | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? m[1] : undefined;
}

function applyStep(st: Step, cur: Cursor[]): Cursor[] {
  if (cur.length === 0) return cur;
  switch (st.k) {
    case 'field': return navigate(cur, st);
    case 'ofType': return cur.filter((c) => isA(c.t, st.type));
    case 'refType': return cur.filter((c) => typeof (c.v as { reference?: unknown }).reference === 'string'
      && referenceType((c.v as { reference: string }).reference) === st.type);
    case 'whereEq': return cur.filter((c) => (c.v as Record<string, unknown>)[st.field] === st.value);
    case 'first': return cur.slice(0, 1);
  }
}

function walk(plan: PathPlan, start: Cursor): Cursor[] {
  let cur: Cursor[] = [start];
  for (const st of plan.steps) cur = applyStep(st, cur);
  return cur;
}

/** One step of an interned path from the resource root; its parent is the path one step shorter. */
interface Chain { parent?: Chain; step: Step; gen: number; val: Cursor[] }
const chainCache = new Map<string, Chain>();
const partCache = new Map<string, Chain | null | undefined>();

/** Parts are interned step by step, so params sharing a prefix (Observation.value…, Observation.code) share its result per resource. */
function internedPart(part: string, resourceType: string): Chain | null | undefined {
  const k = `${resourceType}\u0000${part}`;
  if (partCache.has(k)) return partCache.get(k);
  const plan = planPart(part, resourceType);
  let chain: Chain | null | undefined;
  if (plan && plan.steps.length === 0) chain = null; // the resource itself (composite bases such as `Observation`)
  else if (plan) {
    let key = resourceType;
    for (let i = 0; i < plan.steps.length; i++) {
      key += `\u0000${plan.texts[i]}`;
      let c = chainCache.get(key);
      if (!c) chainCache.set(key, (c = { parent: chain ?? undefined, step: plan.steps[i], gen: -1, val: [] }));
      chain = c;
    }
  }
  partCache.set(k, chain);
  return chain;
}

// Results for the resource being extracted are kept on each interned path, tagged with a generation
// that changes when the next resource comes.
let memoFor: object | undefined;
let generation = 0;

/** Starts a new resource: results remembered for the previous one (even the same object, since mutated) are dropped. */
export function startResource(r: object): void {
  generation++;
  memoFor = r;
}
function walkRoot(chain: Chain | null, r: Record<string, unknown>, resourceType: string): Cursor[] {
  if (memoFor !== r) { generation++; memoFor = r; }
  if (chain === null) return [{ v: r, t: resourceType, path: resourceType }];
  if (chain.gen !== generation) {
    const from = chain.parent ? walkRoot(chain.parent, r, resourceType) : [{ v: r, t: resourceType, path: resourceType }];
    chain.val = applyStep(chain.step, from);
    chain.gen = generation;
  }
  return chain.val;
}

function general(expression: string): Evaluator {
  // resolve() needs IO (asynchronous in fhirpath 5); at write time it is dropped.
  const expr = expression.replace(/\.where\(\s*resolve\(\)\s+is\s+\w+\s*\)/g, '');
  const fn = fhirpath.compile(expr, r4 as never, { resolveInternalTypes: false });
  return (resource) => {
    const res = fn(resource) as unknown[];
    const types = fhirpath.types(res);
    return res.map((r, i) => ({ v: fhirpath.resolveInternalTypes(r), t: typeName(String(types[i] ?? 'unknown').replace(/^(FHIR|System)\./, '')) }));
  };
}

const cache = new Map<string, Evaluator>();

/** Compiles (once per type + expression) an evaluator returning typed values. */
export function compilePath(expression: string, resourceType: string): Evaluator {
  const cacheKey = `${resourceType}\u0000${expression}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const plans = splitUnion(expression).map((p) => internedPart(p, resourceType));
  let ev: Evaluator;
  if (plans.every((p) => p !== undefined)) {
    const ps = plans as Array<Chain | null>;
    ev = ps.length === 1 ? (r) => walkRoot(ps[0], r, resourceType) : (r) => ps.flatMap((p) => walkRoot(p, r, resourceType));
  } else {
    ev = general(expression);
  }
  cache.set(cacheKey, ev);
  return ev;
}

/**
 * Evaluates a component expression relative to an element found by a composite's expression; one starting
 * `%resource.` navigates from the resource instead (R4 MolecularSequence `referenceseqid-*-coordinate`).
 */
export function compileRelative(expression: string, resourceType: string): (element: Node, resource: Record<string, unknown>) => Node[] {
  const fromRoot = /^%resource\.(.+)$/.exec(expression.trim());
  if (fromRoot) {
    const ev = compilePath(`${resourceType}.${fromRoot[1]}`, resourceType);
    return (_el, resource) => ev(resource);
  }
  const plans = splitUnion(expression).map((p) => planPart(p, '\u0000'));
  if (plans.every((p) => p !== undefined && !p.root)) {
    const ps = plans as PathPlan[];
    return (el) => ps.flatMap((p) => walk(p, { v: el.v, t: el.t, path: el.path ?? el.t }));
  }
  return () => []; // not plain navigation: not indexed
}
