// Write-time index extraction: evaluates every search parameter of the resource's type (path.ts) and turns
// the values into index rows (tables in migrations/010_search_index.sql), plus the resource's Patient
// compartment membership (R4 compartmentdefinition-patient.html). Synchronous and pure: no IO, no config.
import type { Resource } from 'fhir/r4';
import { searchParamsOf, type SearchParam } from '../registry/search-params.js';
import { patientCompartmentParams } from '../registry/compartments.js';
import { compilePath, compileRelative, startResource, type Node, type Evaluator } from './path.js';
import { paramKey, type Key } from './hash.js';
import { tokenCode, tokenSystemCode, tokenSystem, tokenOfType, derived, normalizeString, MAX_STRING, compositeKey, variant } from './keys.js';
import { tokenValues, stringValues, referenceValues, dateValues, numberValues, positionValue, type TokenValues, type RefValues, type Num } from './values.js';
import type { Range } from './dates.js';

export interface TokenRow { p: Key; h: Key; c: string | null }
export interface StringRow { p: Key; v: string; x: string | null }
export interface ReferenceRow { p: Key; ttype: string; tid: string }
export interface DateRow { p: Key; lo: number; hi: number }
export interface NumberRow { p: Key; lo: number; hi: number; system: string | null; code: string | null; unit: string | null }
export interface CompositeRow { p: Key; h: Key; lo: number | null; hi: number | null; system: string | null; code: string | null; unit: string | null }

export interface ExtractedIndex {
  compartments: string[];
  token: TokenRow[];
  string: StringRow[];
  reference: ReferenceRow[];
  date: DateRow[];
  number: NumberRow[];
  composite: CompositeRow[];
  /** The source, so the store can add a tenant's custom parameters (known only per tenant) at write time. */
  resource: Resource;
}

/** Parameters answered from fhir.resource columns or computed at query time, never indexed. */
const NOT_INDEXED = new Set(['_id', '_lastUpdated', '_text', '_content', '_query', '_list', '_filter']);

/** Per parameter, compiled once: its key, evaluator, and composite component evaluators. */
interface Prepared { p: Key; ev: Evaluator; comps: Array<(el: Node) => Node[]>; textKey: string; textP: Key; identKey: string; identP: Key }
const prepared = new WeakMap<SearchParam, Prepared>();
function prepare(sp: SearchParam): Prepared {
  let pr = prepared.get(sp);
  if (!pr) {
    const textKey = derived(sp.key, 'text');
    const identKey = derived(sp.key, 'identifier');
    pr = { p: paramKey(sp.key), ev: compilePath(sp.expression, sp.resourceType), comps: (sp.components ?? []).map((c) => compileRelative(c.expression)),
      textKey, textP: paramKey(textKey), identKey, identP: paramKey(identKey) };
    prepared.set(sp, pr);
  }
  return pr;
}

class Builder {
  readonly seen = new Set<string>();
  /** Token keys already written, by low half → high halves (a cheap exact duplicate check). */
  private readonly tokens = new Map<number, number[]>();
  constructor(readonly out: ExtractedIndex) {}
  token(p: Key, h: Key, c: string | null): void {
    const his = this.tokens.get(h[1]);
    if (his) {
      if (his.includes(h[0])) return;
      his.push(h[0]);
    } else this.tokens.set(h[1], [h[0]]);
    this.out.token.push({ p, h, c });
  }
  string(p: Key, pk: string, raw: string, normalize: boolean): void {
    const x = raw.length > MAX_STRING ? raw.slice(0, MAX_STRING) : raw;
    const v = normalize ? normalizeString(x) : x;
    const k = `s${pk}\u0000${v}\u0000${x}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.out.string.push({ p, v, x: v === x ? null : x });
  }
}

function tokensInto(b: Builder, param: string, p: Key, tv: TokenValues, textKey?: string, textP?: Key): void {
  for (const t of tv.tokens) {
    if (t.code !== '') {
      b.token(p, tokenCode(param, t.code), t.code);
      b.token(p, tokenSystemCode(param, t.system, t.code), null);
    }
    if (t.system !== '') b.token(p, tokenSystem(param, t.system), null);
  }
  for (const [s, c, v] of tv.ofType) b.token(p, tokenOfType(param, s, c, v), null);
  if (tv.texts.length && textKey && textP) for (const t of tv.texts) b.string(textP, textKey, t, true);
}

/** The variant strings one composite component contributes (its hashable forms). */
function componentVariants(type: string, nodes: Node[]): string[] {
  const out: string[] = [];
  if (type === 'token') {
    const tv: TokenValues = { tokens: [], texts: [], ofType: [] };
    for (const n of nodes) tokenValues(n, tv);
    for (const t of tv.tokens) {
      if (t.code !== '') out.push(variant.code(t.code), variant.systemCode(t.system, t.code));
      if (t.system !== '') out.push(variant.system(t.system));
    }
  } else if (type === 'reference') {
    const rv: RefValues = { refs: [], identifiers: [] };
    for (const n of nodes) referenceValues(n, rv);
    for (const r of rv.refs) out.push(variant.ref(r.type ? `${r.type}/${r.id}` : r.id), ...(r.type ? [variant.ref(r.id)] : []));
  } else if (type === 'string' || type === 'uri') {
    const sv: string[] = [];
    for (const n of nodes) stringValues(n, sv);
    for (const s of sv) out.push(variant.text(type === 'string' ? normalizeString(s) : s));
  }
  return [...new Set(out)];
}

function compositeInto(b: Builder, sp: SearchParam, pr: Prepared, resource: Resource): void {
  const comps = sp.components ?? [];
  if (comps.length < 2) return;
  const evals = pr.comps;
  const p = pr.p;
  const last = comps[comps.length - 1];
  const ordered = last.type === 'quantity' || last.type === 'number' || last.type === 'date';
  for (const el of pr.ev(resource as unknown as Record<string, unknown>)) {
    // The last component first: most composites of an element are empty there (one value[x] per Observation).
    const lastNodes = evals[comps.length - 1](el);
    if (lastNodes.length === 0) continue;
    let combos: string[][] = [[]];
    for (let i = 0; i < comps.length - 1 && combos.length; i++) {
      const h = componentVariants(comps[i].type, evals[i](el));
      combos = combos.flatMap((c) => h.map((v) => [...c, v]));
    }
    if (combos.length === 0) continue;
    if (ordered) {
      const ranges: Array<{ lo: number; hi: number; system: string | null; code: string | null; unit: string | null }> = [];
      if (last.type === 'date') { const rs: Range[] = []; for (const n of lastNodes) dateValues(n, rs); for (const r of rs) ranges.push({ ...r, system: null, code: null, unit: null }); }
      else for (const n of lastNodes) numberValues(n, ranges as Num[]);
      if (ranges.length === 0) continue;
      for (const c of combos) {
        const h = compositeKey(sp.key, c);
        for (const r of ranges) b.out.composite.push({ p, h, lo: r.lo, hi: r.hi, system: r.system, code: r.code, unit: r.unit });
      }
    } else {
      const tails = componentVariants(last.type, lastNodes);
      for (const c of combos) for (const t of tails) {
        const h = compositeKey(sp.key, [...c, t]);
        const k = `c${h[0]}:${h[1]}`;
        if (b.seen.has(k)) continue;
        b.seen.add(k);
        b.out.composite.push({ p, h, lo: null, hi: null, system: null, code: null, unit: null });
      }
    }
  }
}

/** Adds the rows of one parameter; returns Patient ids it references (for compartments). */
export function extractParam(b: Builder, sp: SearchParam, resource: Resource, prepared?: Prepared): string[] {
  if (NOT_INDEXED.has(sp.code) || !sp.expression) return [];
  const pr = prepared ?? prepare(sp);
  const p = pr.p;
  if (sp.type === 'composite') { compositeInto(b, sp, pr, resource); return []; }
  let nodes: Node[];
  try {
    nodes = pr.ev(resource as unknown as Record<string, unknown>);
  } catch {
    return []; // an expression the engine cannot evaluate on this resource: no index entries
  }
  if (nodes.length === 0) return [];
  const patients: string[] = [];
  switch (sp.type) {
    case 'token': {
      const tv: TokenValues = { tokens: [], texts: [], ofType: [] };
      for (const n of nodes) tokenValues(n, tv);
      tokensInto(b, sp.key, p, tv, pr.textKey, pr.textP);
      break;
    }
    case 'string': case 'uri': {
      const sv: string[] = [];
      for (const n of nodes) stringValues(n, sv);
      for (const s of sv) b.string(p, sp.key, s, sp.type === 'string');
      break;
    }
    case 'reference': {
      const rv: RefValues = { refs: [], identifiers: [] };
      for (const n of nodes) referenceValues(n, rv);
      for (const r of rv.refs) {
        const k = `r${sp.key}\u0000${r.type}/${r.id}`;
        if (b.seen.has(k)) continue;
        b.seen.add(k);
        b.out.reference.push({ p, ttype: r.type, tid: r.id });
        if (r.type === 'Patient') patients.push(r.id);
      }
      if (rv.identifiers.length) tokensInto(b, pr.identKey, pr.identP, { tokens: rv.identifiers, texts: [], ofType: [] });
      break;
    }
    case 'date': {
      const rs: Range[] = [];
      for (const n of nodes) dateValues(n, rs);
      for (const r of rs) b.out.date.push({ p, lo: r.lo, hi: r.hi });
      break;
    }
    case 'number': case 'quantity': {
      const ns: Num[] = [];
      for (const n of nodes) numberValues(n, ns);
      for (const x of ns) b.out.number.push({ p, lo: x.lo, hi: x.hi, system: x.system, code: x.code, unit: x.unit });
      break;
    }
    case 'special': {
      for (const n of nodes) {
        const pos = positionValue(n);
        if (pos) b.out.composite.push({ p, h: p, lo: pos[0], hi: pos[1], system: null, code: null, unit: null });
      }
      break;
    }
  }
  return patients;
}

export function emptyIndex(resource: Resource): ExtractedIndex {
  return { compartments: [], token: [], string: [], reference: [], date: [], number: [], composite: [], resource };
}

/** Rows for extra parameters (a tenant's custom ones) appended to an extracted index. */
export function extractMore(index: ExtractedIndex, params: SearchParam[]): void {
  startResource(index.resource);
  const b = new Builder(index);
  for (const sp of params) extractParam(b, sp, index.resource);
}

/** Per type: the indexed parameters, and whether each links to the Patient compartment. */
const plans = new Map<string, Array<{ sp: SearchParam; pr: Prepared; compartment: boolean }>>();
function planOf(type: string): Array<{ sp: SearchParam; pr: Prepared; compartment: boolean }> {
  let plan = plans.get(type);
  if (!plan) {
    const codes = type === 'Patient' ? [] : patientCompartmentParams(type);
    plan = searchParamsOf(type).filter((sp) => !NOT_INDEXED.has(sp.code) && sp.expression)
      .map((sp) => ({ sp, pr: prepare(sp), compartment: codes.includes(sp.code) }));
    plans.set(type, plan);
  }
  return plan;
}

export function extractIndex(resource: Resource): ExtractedIndex {
  startResource(resource);
  const out = emptyIndex(resource);
  const b = new Builder(out);
  const type = resource.resourceType;
  const patients = new Set<string>();
  for (const { sp, pr, compartment } of planOf(type)) {
    const refs = extractParam(b, sp, resource, pr);
    if (compartment) for (const id of refs) patients.add(id);
  }
  // A Patient is in its own compartment only (linked patients are not granted each other's data).
  if (type === 'Patient' && resource.id) patients.add(resource.id);
  out.compartments = [...patients].map((id) => `Patient/${id}`);
  return out;
}

