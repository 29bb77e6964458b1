// What a value found by a parameter's expression means to each parameter type (R4 search.html, the
// per-type tables: token on Coding/CodeableConcept/Identifier/ContactPoint/code/boolean, string on
// HumanName/Address parts, reference on Reference/canonical, date on date/Period/Timing, quantity on Quantity/Range).
import type { Node } from './path.js';
import { dateRange, periodRange, type Range } from './dates.js';
import { referenceType } from './path.js';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export interface Token { system: string; code: string }
export interface TokenValues { tokens: Token[]; texts: string[]; ofType: Array<[system: string, code: string, value: string]> }

function codingInto(c: Obj, out: TokenValues): void {
  const code = str(c.code);
  if (code !== undefined) out.tokens.push({ system: str(c.system) ?? '', code });
  else if (str(c.system)) out.tokens.push({ system: c.system as string, code: '' });
  if (str(c.display)) out.texts.push(c.display as string);
}

/** ContactPoint.system codes: an untyped {system, value} with one of these is a ContactPoint, not an Identifier. */
const CONTACT_SYSTEMS = new Set(['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other']);

/** Token values of one node; `texts` feed :text, `ofType` feeds :of-type. */
export function tokenValues(n: Node, out: TokenValues): void {
  const v = n.v;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') {
    out.tokens.push({ system: '', code: String(v) });
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Obj;
  const t = n.t;
  if (t === 'CodeableConcept' || (t === 'unknown' && (Array.isArray(o.coding) || (str(o.text) && !('value' in o))))) {
    for (const c of (o.coding as Obj[] | undefined) ?? []) if (c && typeof c === 'object') codingInto(c, out);
    if (str(o.text)) out.texts.push(o.text as string);
  } else if (t === 'Coding' || (t === 'unknown' && 'code' in o)) {
    codingInto(o, out);
  } else if (t === 'Identifier' || (t === 'unknown' && 'value' in o && !CONTACT_SYSTEMS.has(String(o.system)))) {
    const value = str(o.value);
    if (value === undefined) return;
    out.tokens.push({ system: str(o.system) ?? '', code: value });
    const type = o.type as Obj | undefined;
    if (type && typeof type === 'object') {
      if (str(type.text)) out.texts.push(type.text as string);
      for (const c of (type.coding as Obj[] | undefined) ?? []) if (str(c?.code)) out.ofType.push([str(c.system) ?? '', c.code as string, value]);
    }
  } else if (t === 'ContactPoint' || t === 'unknown') {
    // R4: ContactPoint tokens match on value only ([parameter]=[code]; no system part).
    if (str(o.value)) out.tokens.push({ system: '', code: o.value as string });
  } else if (t === 'Reference' && str(o.reference)) {
    out.tokens.push({ system: '', code: o.reference as string });
  }
}

const HUMAN_NAME = ['family', 'given', 'prefix', 'suffix', 'text'];
const ADDRESS = ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text'];

/** String values: the text itself, or the parts of a HumanName / Address (R4 search.html "string"). */
export function stringValues(n: Node, out: string[]): void {
  const v = n.v;
  if (typeof v === 'string') { out.push(v); return; }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Obj;
  const parts = n.t === 'HumanName' ? HUMAN_NAME : n.t === 'Address' ? ADDRESS : n.t === 'unknown' ? [...HUMAN_NAME, ...ADDRESS] : ['text', 'display', 'value'];
  for (const k of parts) {
    const x = o[k];
    if (typeof x === 'string') out.push(x);
    else if (Array.isArray(x)) for (const y of x) if (typeof y === 'string') out.push(y);
  }
  if (n.t === 'CodeableConcept') for (const c of (o.coding as Obj[] | undefined) ?? []) if (str(c?.display)) out.push(c.display as string);
}

export interface RefValue { type: string; id: string }
/** Splits a reference into [type, id] (relative, or absolute ending in Type/id); other URLs keep the whole text as id. */
export function parseReference(ref: string): RefValue | undefined {
  if (ref.startsWith('#')) return undefined; // contained: not searchable across resources
  const type = referenceType(ref);
  if (type && !/^[a-z][a-z0-9+.-]*:/i.test(ref)) {
    const parts = ref.split('/');
    const i = parts.indexOf(type);
    return { type, id: parts[i + 1] };
  }
  return { type: '', id: ref };
}

/**
 * `locals`: when given, receives the ids of local references '#id' (references.html#contained: a contained
 * resource is referenced by '#' + its id), which name nothing outside the resource (extract-rows.ts).
 */
export interface RefValues { refs: RefValue[]; identifiers: Token[]; locals?: string[] }
export function referenceValues(n: Node, out: RefValues): void {
  const v = n.v;
  if (typeof v === 'string') {
    // canonical / uri targets: the URL, and without |version too (R4 references.html "canonical")
    out.refs.push({ type: '', id: v });
    const bar = v.indexOf('|');
    if (bar > 0) out.refs.push({ type: '', id: v.slice(0, bar) });
    return;
  }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Obj;
  if (str(o.reference)) {
    const ref = o.reference as string;
    const r = parseReference(ref);
    if (r) out.refs.push(r);
    else if (ref.length > 1 && ref.startsWith('#')) out.locals?.push(ref.slice(1));
  }
  const ident = o.identifier as Obj | undefined;
  if (ident && str(ident.value)) out.identifiers.push({ system: str(ident.system) ?? '', code: ident.value as string });
}

/** Date ranges of one node: date/dateTime/instant, Period, Timing (events and bounds). */
export function dateValues(n: Node, out: Range[]): void {
  const v = n.v;
  if (typeof v === 'string') { const r = dateRange(v); if (r) out.push(r); return; }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Obj;
  if ('start' in o || 'end' in o) { const r = periodRange(o); if (r) out.push(r); return; }
  if (Array.isArray(o.event) || o.repeat) {
    for (const e of (o.event as unknown[]) ?? []) if (typeof e === 'string') { const r = dateRange(e); if (r) out.push(r); }
    const b = (o.repeat as Obj | undefined)?.boundsPeriod as Obj | undefined;
    if (b) { const r = periodRange(b); if (r) out.push(r); }
  }
}

export interface Num { lo: number; hi: number; system: string | null; code: string | null; unit: string | null }
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

function quantityOf(o: Obj, lo: number, hi: number, t: string): Num {
  const money = t === 'Money';
  return {
    lo, hi,
    system: money ? 'urn:iso:std:iso:4217' : (str(o.system) ?? null),
    code: money ? (str(o.currency) ?? null) : (str(o.code) ?? null),
    unit: str(o.unit) ?? null,
  };
}

/** Numbers and quantities: points, or a Range's low..high (an open side is unbounded). */
export function numberValues(n: Node, out: Num[]): void {
  const v = n.v;
  if (typeof v === 'number') { if (Number.isFinite(v)) out.push({ lo: v, hi: v, system: null, code: null, unit: null }); return; }
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) { out.push({ lo: Number(v), hi: Number(v), system: null, code: null, unit: null }); return; }
  if (typeof v !== 'object' || v === null) return;
  const o = v as Obj;
  if ('low' in o || 'high' in o) {
    const low = o.low as Obj | undefined;
    const high = o.high as Obj | undefined;
    const lo = num(low?.value);
    const hi = num(high?.value);
    if (lo === undefined && hi === undefined) return;
    out.push(quantityOf(low ?? high ?? {}, lo ?? -Number.MAX_VALUE, hi ?? Number.MAX_VALUE, 'Quantity'));
    return;
  }
  const value = num(o.value);
  if (value !== undefined) out.push(quantityOf(o, value, value, n.t));
}

/** Location.position for `near`: [latitude, longitude]. */
export function positionValue(n: Node): [number, number] | undefined {
  const o = n.v as Obj;
  const lat = num(o?.latitude);
  const lon = num(o?.longitude);
  return lat === undefined || lon === undefined ? undefined : [lat, lon];
}

