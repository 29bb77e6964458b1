// Index rows of one resource for a list of search parameters (tables in migrations/010_search_index.sql):
// each parameter's FHIRPath expression (path.ts) evaluated and its values turned into typed rows per R4
// search.html's per-type rules (values.ts), composites per search.html#composite (keys.ts compositeShape).
// Used for top-level resources (extract.ts) and contained ones (extract-contained.ts). Pure: no IO.
import type { SearchParam } from '../registry/search-params.js';
import { compilePath, compileRelative, type Node, type Evaluator } from './path.js';
import { paramKey, type Key } from './hash.js';
import { tokenCode, tokenSystemCode, tokenSystem, tokenOfType, derived, normalizeString, MAX_STRING, LONG_SEP, compositeKey, compositeShape, variant } from './keys.js';
import { tokenValues, stringValues, referenceValues, dateValues, numberValues, positionValue, type TokenValues, type RefValues, type Num } from './values.js';
import type { Range } from './dates.js';

export interface TokenRow { p: Key; h: Key; c: string | null }
export interface StringRow { p: Key; v: string; x: string | null }
export interface ReferenceRow { p: Key; ttype: string; tid: string }
export interface DateRow { p: Key; lo: number; hi: number }
export interface NumberRow { p: Key; lo: number; hi: number; system: string | null; code: string | null; unit: string | null }
export interface CompositeRow { p: Key; h: Key; lo: number | null; hi: number | null; system: string | null; code: string | null; unit: string | null }

/** The rows of one resource, per index table. */
export interface RowSet {
  token: TokenRow[];
  string: StringRow[];
  reference: ReferenceRow[];
  date: DateRow[];
  number: NumberRow[];
  composite: CompositeRow[];
}

export const emptyRows = (): RowSet => ({ token: [], string: [], reference: [], date: [], number: [], composite: [] });

/** Parameters answered from fhir.resource columns or other tables (sp_text), never indexed here. */
const NOT_INDEXED = new Set(['_id', '_lastUpdated', '_text', '_content', '_query', '_list', '_filter']);
export const isIndexed = (sp: SearchParam): boolean => !NOT_INDEXED.has(sp.code) && !!sp.expression;

type Component = (el: Node, resource: Record<string, unknown>) => Node[];
/** Per parameter, compiled once: its key, evaluator, and composite component evaluators. */
export interface Prepared { p: Key; ev: Evaluator; comps: Component[]; shape: ReturnType<typeof compositeShape>; textKey: string; textP: Key; identKey: string; identP: Key }
const prepared = new WeakMap<SearchParam, Prepared>();
export function prepare(sp: SearchParam): Prepared {
  let pr = prepared.get(sp);
  if (!pr) {
    const textKey = derived(sp.key, 'text');
    const identKey = derived(sp.key, 'identifier');
    const comps = sp.components ?? [];
    pr = { p: paramKey(sp.key), ev: compilePath(sp.expression, sp.resourceType), comps: comps.map((c) => compileRelative(c.expression, sp.resourceType)),
      shape: comps.length ? compositeShape(comps.map((c) => c.type)) : undefined, textKey, textP: paramKey(textKey), identKey, identP: paramKey(identKey) };
    prepared.set(sp, pr);
  }
  return pr;
}

/** Id → type of a resource's contained resources: what its local references '#id' name (references.html#contained). */
export function containedTypes(resource: object): Map<string, string> {
  const out = new Map<string, string>();
  const list = (resource as { contained?: unknown }).contained;
  if (Array.isArray(list)) {
    for (const c of list as Array<{ resourceType?: unknown; id?: unknown } | null>) {
      if (c && typeof c === 'object' && typeof c.resourceType === 'string' && typeof c.id === 'string' && c.id !== '' && !out.has(c.id)) out.set(c.id, c.resourceType);
    }
  }
  return out;
}

export class Builder {
  readonly seen = new Set<string>();
  /** Token keys already written, by low half → high halves (a cheap exact duplicate check). */
  private readonly tokens = new Map<number, number[]>();
  /**
   * `locals`: the types of the contained resources local references name; a contained resource's Builder is
   * given its container's (siblings reference each other by '#id'), a top-level one reads its own on first need.
   */
  constructor(readonly out: RowSet, private locals?: Map<string, string>) {}
  /** The type of the contained resource '#id' names, from `resource`'s contained list unless given. */
  localType(id: string, resource: object): string | undefined {
    this.locals ??= containedTypes(resource);
    return this.locals.get(id);
  }
  token(p: Key, h: Key, c: string | null): void {
    const his = this.tokens.get(h[1]);
    if (his) {
      if (his.includes(h[0])) return;
      his.push(h[0]);
    } else this.tokens.set(h[1], [h[0]]);
    this.out.token.push({ p, h, c });
  }
  string(p: Key, pk: string, raw: string, normalize: boolean): void {
    const cut = raw.length > MAX_STRING ? raw.slice(0, MAX_STRING) : raw;
    const v = normalize ? normalizeString(cut) : cut;
    // x: the original when it differs from v; for a value longer than the index holds, the whole original
    // and the whole normalised text (LONG_SEP, keys.ts), so :exact, :contains, ends-with and long
    // starts-with values are decided on all of it, not on the indexed prefix.
    const x = cut !== raw ? `${raw}${LONG_SEP}${normalize ? normalizeString(raw) : raw}` : v === cut ? null : cut;
    const k = `s${pk}\u0000${v}\u0000${x}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.out.string.push({ p, v, x });
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

type Ranged = { lo: number; hi: number; system: string | null; code: string | null; unit: string | null };

/** An ordered component's values: date ranges, or numbers/quantities (a Range as low..high). */
function rangesOf(type: string, nodes: Node[]): Ranged[] {
  if (type === 'date') { const rs: Range[] = []; for (const n of nodes) dateValues(n, rs); return rs.map((r) => ({ ...r, system: null, code: null, unit: null })); }
  const ns: Num[] = [];
  for (const n of nodes) numberValues(n, ns);
  return ns;
}

/** Point values of a number component (a Range is not a coordinate). */
const pointsOf = (nodes: Node[]): number[] => rangesOf('number', nodes).filter((r) => r.lo === r.hi).map((r) => r.lo);

function compositeInto(b: Builder, sp: SearchParam, pr: Prepared, resource: Record<string, unknown>): void {
  const comps = sp.components ?? [];
  const shape = pr.shape;
  if (!shape) return;
  const evals = pr.comps;
  const p = pr.p;
  const n = comps.length;
  const last = comps[n - 1];
  const hashedCount = shape.ordered === 0 ? n - 1 : shape.hashed;
  for (const el of pr.ev(resource)) {
    // The last component first: most composites of an element are empty there (one value[x] per Observation).
    const lastNodes = evals[n - 1](el, resource);
    if (lastNodes.length === 0) continue;
    let combos: string[][] = [[]];
    for (let i = 0; i < hashedCount && combos.length; i++) {
      const h = componentVariants(comps[i].type, evals[i](el, resource));
      combos = combos.flatMap((c) => h.map((v) => [...c, v]));
    }
    if (combos.length === 0) continue;
    if (shape.ordered === 1) {
      const ranges = rangesOf(last.type, lastNodes);
      for (const c of combos) {
        const h = compositeKey(sp.key, c);
        for (const r of ranges) b.out.composite.push({ p, h, lo: r.lo, hi: r.hi, system: r.system, code: r.code, unit: r.unit });
      }
    } else if (shape.ordered === 2) {
      // Two coordinates (e.g. window start and end): the first in lo, the second in hi.
      const firsts = pointsOf(evals[n - 2](el, resource));
      const seconds = pointsOf(lastNodes);
      for (const c of combos) {
        const h = compositeKey(sp.key, c);
        for (const lo of firsts) for (const hi of seconds) b.out.composite.push({ p, h, lo, hi, system: null, code: null, unit: null });
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
export function extractParam(b: Builder, sp: SearchParam, resource: object, pr: Prepared = prepare(sp)): string[] {
  if (!isIndexed(sp)) return [];
  const res = resource as Record<string, unknown>;
  const p = pr.p;
  if (sp.type === 'composite') { compositeInto(b, sp, pr, res); return []; }
  let nodes: Node[];
  try {
    nodes = pr.ev(res);
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
      const rv: RefValues = { refs: [], identifiers: [], locals: [] };
      for (const n of nodes) referenceValues(n, rv);
      for (const r of rv.refs) {
        const k = `r${sp.key}\u0000${r.type}/${r.id}`;
        if (b.seen.has(k)) continue;
        b.seen.add(k);
        b.out.reference.push({ p, ttype: r.type, tid: r.id });
        if (r.type === 'Patient') patients.push(r.id);
      }
      // A local reference '#id' (references.html#contained) as ttype = the contained resource's type, tid = '#id':
      // a chain follows it into that contained resource (search.html#contained: "chained parameters will be
      // evaluated inside contained resources", compile.ts). No stored resource has an id with '#' (id's regex),
      // so includes, _has, compartments and reference searches by id never meet these rows.
      for (const id of rv.locals!) {
        const type = b.localType(id, res);
        const k = `r${sp.key}\u0000${type}/#${id}`;
        if (!type || b.seen.has(k)) continue;
        b.seen.add(k);
        b.out.reference.push({ p, ttype: type, tid: `#${id}` });
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
