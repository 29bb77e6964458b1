// _summary and _elements (R4 search.html#summary, #elements; also allowed on read): reduce a resource
// to the requested elements and mark it SUBSETTED (R4 valueset-v3-ObservationValue "SUBSETTED") so no
// client mistakes it for the whole resource.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest } from '../errors.js';
import { shareLexemes } from '../json/lexemes.js';

type Json = Record<string, unknown>;
interface TypeElements { summary: string[]; mandatory: string[] }

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'capability', 'definitions', 'summary-elements.json');
let table: Record<string, TypeElements> | undefined;
function elementsOf(type: string): TypeElements {
  table ??= JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, TypeElements>;
  return table[type] ?? { summary: [], mandatory: [] };
}

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface Subsetting {
  summary?: SummaryMode;
  elements?: string[];
}

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

/** Reads _summary and _elements from request parameters; undefined when the whole resource is wanted. */
export function parseSubsetting(params: Array<[string, string]>): Subsetting | undefined {
  let summary: SummaryMode | undefined;
  let elements: string[] | undefined;
  for (const [name, value] of params) {
    if (name === '_summary') {
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw badRequest(`_summary must be true, text, data, count or false, not '${value.slice(0, 40)}'`);
      summary = value as SummaryMode;
    } else if (name === '_elements') {
      elements = [...(elements ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
    }
  }
  if ((summary === undefined || summary === 'false') && !elements) return undefined;
  return { summary, elements };
}

/** An element name `deceased[x]` matches `deceasedBoolean` and `_deceasedBoolean` too. */
function matches(key: string, names: string[]): boolean {
  const bare = key.startsWith('_') ? key.slice(1) : key;
  return names.some((n) => (n.endsWith('[x]') ? bare.startsWith(n.slice(0, -3)) : bare === n));
}

function tag(meta: unknown): Json {
  const m = { ...((meta as Json | undefined) ?? {}) };
  const tags = Array.isArray(m.tag) ? (m.tag as Json[]) : [];
  if (!tags.some((t) => t.code === 'SUBSETTED')) m.tag = [...tags, SUBSETTED];
  return m;
}

/** Applies the subsetting; returns the resource unchanged when nothing is removed. */
export function subset(resource: Json, s: Subsetting): Json {
  const type = resource.resourceType as string;
  const defs = elementsOf(type);
  const keep = (keys: (k: string) => boolean): Json => {
    const out: Json = {};
    for (const [k, v] of Object.entries(resource)) if (k === 'resourceType' || k === 'id' || keys(k)) out[k] = v;
    out.meta = tag(resource.meta);
    // Kept members are the resource's own: so are the lexemes of its top-level decimals (../json/lexemes.ts).
    return shareLexemes(resource, out);
  };
  if (s.elements && s.summary === undefined) {
    return keep((k) => k === 'meta' || matches(k, s.elements!) || matches(k, defs.mandatory));
  }
  switch (s.summary) {
    case 'true':
      return keep((k) => matches(k, defs.summary));
    case 'text':
      return keep((k) => k === 'text' || k === 'meta' || matches(k, defs.mandatory));
    case 'data':
      return keep((k) => k !== 'text');
    default:
      return resource;
  }
}
