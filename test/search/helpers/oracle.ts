// An independent in-memory search evaluator for the property test: hand-written FHIRPath per parameter,
// evaluated with the fhirpath package over the loaded resources, and the R4 search.html matching rules
// re-implemented here from the spec text (not from src/search), so the compiler is checked against them.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { Resource } from 'fhir/r4';

type Kind = 'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'composite';
interface Def { kind: Kind; path: string; target?: string }

export const DEFS: Record<string, Record<string, Def>> = {
  Patient: {
    name: { kind: 'string', path: 'Patient.name' }, family: { kind: 'string', path: 'Patient.name.family' },
    given: { kind: 'string', path: 'Patient.name.given' }, 'address-city': { kind: 'string', path: 'Patient.address.city' },
    gender: { kind: 'token', path: 'Patient.gender' }, active: { kind: 'token', path: 'Patient.active' },
    identifier: { kind: 'token', path: 'Patient.identifier' }, birthdate: { kind: 'date', path: 'Patient.birthDate' },
    organization: { kind: 'reference', path: 'Patient.managingOrganization', target: 'Organization' },
  },
  Observation: {
    code: { kind: 'token', path: 'Observation.code' }, status: { kind: 'token', path: 'Observation.status' },
    category: { kind: 'token', path: 'Observation.category' }, subject: { kind: 'reference', path: 'Observation.subject' },
    patient: { kind: 'reference', path: 'Observation.subject', target: 'Patient' }, date: { kind: 'date', path: 'Observation.effective' },
    'value-quantity': { kind: 'quantity', path: 'Observation.value.ofType(Quantity)' },
    'code-value-quantity': { kind: 'composite', path: 'Observation' },
  },
  Encounter: {
    class: { kind: 'token', path: 'Encounter.class' }, status: { kind: 'token', path: 'Encounter.status' },
    date: { kind: 'date', path: 'Encounter.period' }, patient: { kind: 'reference', path: 'Encounter.subject', target: 'Patient' },
  },
  RiskAssessment: { probability: { kind: 'number', path: 'RiskAssessment.prediction.probability' } },
  Organization: { name: { kind: 'string', path: 'Organization.name' } },
};

const eval1 = (r: unknown, path: string): any[] => fhirpath.evaluate(r as object, path, {}, r4 as never) as any[];
const fold = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

// ---- dates: [start, end) in ms, from the precision of the text (search.html#date) ----
function span(text: string): [number, number] | undefined {
  const m = /^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d))?(Z|[+-]\d\d:\d\d)?)?)?)?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => (m[i] === undefined ? undefined : Number(m[i])));
  if (mo === undefined) return [Date.UTC(y!, 0), Date.UTC(y! + 1, 0)];
  if (d === undefined) return [Date.UTC(y!, mo - 1), Date.UTC(y!, mo)];
  if (h === undefined) return [Date.UTC(y!, mo - 1, d), Date.UTC(y!, mo - 1, d + 1)];
  let off = 0;
  if (m[7] && m[7] !== 'Z') off = (m[7][0] === '-' ? -1 : 1) * (Number(m[7].slice(1, 3)) * 60 + Number(m[7].slice(4, 6))) * 60000;
  const t = Date.UTC(y!, mo - 1, d, h, mi!, s ?? 0) - off;
  return [t, t + (s === undefined ? 60000 : 1000)];
}
function targetSpan(v: any): [number, number] | undefined {
  if (typeof v === 'string') return span(v);
  if (v && (v.start || v.end)) {
    const a = v.start ? span(v.start) : undefined;
    const b = v.end ? span(v.end) : undefined;
    return [a ? a[0] : -Infinity, b ? b[1] : Infinity];
  }
  return undefined;
}
const PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)/;
function dateMatch(value: string, t: [number, number], now: number): boolean {
  const p = PREFIX.exec(value)?.[1] ?? 'eq';
  let [lo, hi] = span(value.replace(PREFIX, ''))!;
  const [a, b] = t;
  if (p === 'ap') { const w = Math.ceil(Math.max(Math.abs(now - lo), Math.abs(now - hi)) * 0.1); lo -= w; hi += w; }
  const contained = a >= lo && b <= hi;
  switch (p) {
    case 'eq': return contained;
    case 'ne': return !contained;
    case 'gt': return b > hi;
    case 'lt': return a < lo;
    case 'ge': return b > hi || contained;
    case 'le': return a < lo || contained;
    case 'sa': return a >= hi;
    case 'eb': return b <= lo;
    default: return a < hi && b > lo;
  }
}

// ---- numbers: eq is the value's precision range, the rest compare with the value (search.html#number) ----
function numMatch(value: string, v: number): boolean {
  const p = PREFIX.exec(value)?.[1] ?? 'eq';
  const text = value.replace(PREFIX, '');
  const q = Number(text);
  const dec = text.includes('.') ? text.split('.')[1].length : 0;
  const half = 0.5 * 10 ** -dec;
  switch (p) {
    case 'eq': return v >= q - half && v < q + half;
    case 'ne': return !(v >= q - half && v < q + half);
    case 'gt': case 'sa': return v > q;
    case 'lt': case 'eb': return v < q;
    case 'ge': return v >= q;
    case 'le': return v <= q;
    // Within 10 % of the value (search.html#prefix "ap"); the tolerance keeps a value exactly on the edge
    // inside (146.7 for ap163: |146.7 − 163| is 16.300000000000011 in binary floating point).
    default: return Math.abs(v - q) <= Math.abs(q) * 0.1 + 1e-9;
  }
}

interface Tok { system?: string; code?: string; text: string[] }
function tokens(v: any): Tok[] {
  if (typeof v !== 'object') return [{ code: String(v), text: [] }];
  if (Array.isArray(v.coding) || v.text) return [...(v.coding ?? []).map((c: any) => ({ system: c.system, code: c.code, text: [c.display, v.text].filter(Boolean) })), ...(v.coding?.length ? [] : [{ text: [v.text] }])];
  if ('value' in v) return [{ system: v.system, code: v.value, text: [] }];
  return [{ system: v.system, code: v.code, text: [v.display].filter(Boolean) }];
}
function tokenMatch(value: string, t: Tok): boolean {
  if (!value.includes('|')) return t.code === value;
  const [s, c] = value.split('|');
  if (c === '') return t.system === s;
  return (s === '' ? t.system === undefined : t.system === s) && t.code === c;
}

function stringParts(v: any): string[] {
  if (typeof v === 'string') return [v];
  return ['family', 'given', 'prefix', 'suffix', 'text', 'line', 'city', 'state', 'postalCode', 'country'].flatMap((k) => (v[k] === undefined ? [] : [].concat(v[k])));
}

export class Oracle {
  private byRef = new Map<string, Resource>();
  constructor(readonly all: Resource[], readonly now: number) {
    for (const r of all) this.byRef.set(`${r.resourceType}/${r.id}`, r);
  }

  /** One parameter (name may carry a modifier, a chain, or be _has/_id) with comma-separated values. */
  matches(r: Resource, name: string, value: string): boolean {
    if (name === '_id') return value.split(',').includes(r.id!);
    if (name.startsWith('_has:')) {
      const [, type, ref, inner] = name.split(':');
      return this.all.some((o) => o.resourceType === type && this.refs(o, DEFS[type][ref]).includes(`${r.resourceType}/${r.id}`) && this.matches(o, inner, value));
    }
    const dot = name.indexOf('.');
    if (dot > 0) {
      const [head, mod] = name.slice(0, dot).split(':');
      const def = DEFS[r.resourceType][head];
      return this.refs(r, def).some((ref) => {
        const t = this.byRef.get(ref);
        return t !== undefined && (!mod || t.resourceType === mod) && this.matches(t, name.slice(dot + 1), value);
      });
    }
    const [code, mod] = name.split(':');
    const def = DEFS[r.resourceType][code];
    const vals = eval1(r, def.path);
    if (mod === 'missing') return (vals.length === 0) === (value === 'true');
    if (mod === 'not') return !value.split(',').some((v) => vals.some((x) => tokens(x).some((t) => tokenMatch(v, t))));
    return value.split(',').some((v) => this.one(r, def, mod, v, vals));
  }

  private refs(r: Resource, def: Def): string[] {
    return eval1(r, def.path).map((x) => x.reference as string).filter((ref) => ref && (!def.target || ref.startsWith(`${def.target}/`)));
  }

  private one(r: Resource, def: Def, mod: string | undefined, v: string, vals: any[]): boolean {
    switch (def.kind) {
      case 'string': return vals.flatMap(stringParts).some((s) => (mod === 'exact' ? s === v : mod === 'contains' ? fold(s).includes(fold(v)) : fold(s).startsWith(fold(v))));
      case 'token':
        if (mod === 'text') return vals.flatMap(tokens).some((t) => t.text.some((x) => fold(x).startsWith(fold(v))));
        return vals.flatMap(tokens).some((t) => tokenMatch(v, t));
      case 'reference': return this.refs(r, def).some((ref) => ref === v || ref.endsWith(`/${v}`));
      case 'date': return vals.some((x) => { const t = targetSpan(x); return t !== undefined && dateMatch(v, t, this.now); });
      case 'number': return vals.some((x) => numMatch(v, Number(x)));
      case 'quantity': {
        const [n, sys, unit] = v.split('|');
        return vals.some((q) => numMatch(n, q.value) && (unit === undefined || unit === '' || (sys ? q.system === sys && q.code === unit : q.code === unit || q.unit === unit)));
      }
      case 'composite': {
        const [tok, qty] = v.split('$');
        return eval1(r, 'Observation.code').flatMap(tokens).some((t) => tokenMatch(tok, t))
          && eval1(r, 'Observation.value.ofType(Quantity)').some((q) => numMatch(qty, q.value));
      }
    }
  }

  search(type: string, params: Array<[string, string]>): string[] {
    return this.all.filter((r) => r.resourceType === type && params.every(([k, v]) => this.matches(r, k, v))).map((r) => `${type}/${r.id}`).sort();
  }
}
