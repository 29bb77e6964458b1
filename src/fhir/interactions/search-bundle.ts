// searchset Bundles (R4 bundle.html#searchset, search.html#return): self/next/previous links as absolute
// GET URLs under the FHIR base, entry.fullUrl, search.mode match / include / outcome. Stored resources are
// spliced in as stored text (no re-serialisation) unless _summary/_elements asks for a subset, which is
// re-serialised with its decimals' lexemes (../../json/).
import { randomUUID } from 'node:crypto';
import { subset, type Subsetting } from '../summary.js';
import { outcome } from '../outcome.js';
import { parseJson } from '../../json/parse.js';
import { stringifyJson } from '../../json/stringify.js';

export interface BundleEntry { type: string; id: string; content: string; mode: 'match' | 'include' }

export interface BundleInput {
  base: string;
  total?: number;
  links: Array<{ relation: string; url: string }>;
  entries: BundleEntry[];
  warnings: string[];
  matchSubset?: Subsetting;
  includeSubset?: Subsetting;
}

function body(e: BundleEntry, s: Subsetting | undefined): string {
  return s ? stringifyJson(subset(parseJson(e.content) as Record<string, unknown>, s)) : e.content;
}

export function searchsetText(b: BundleInput): string {
  const parts: string[] = [
    `{"resourceType":"Bundle","id":${JSON.stringify(randomUUID())},"meta":{"lastUpdated":${JSON.stringify(new Date().toISOString())}},"type":"searchset"`,
  ];
  if (b.total !== undefined) parts.push(`,"total":${b.total}`);
  parts.push(`,"link":${JSON.stringify(b.links)}`);
  const entries: string[] = [];
  for (const e of b.entries) {
    const s = e.mode === 'match' ? b.matchSubset : b.includeSubset;
    entries.push(`{"fullUrl":${JSON.stringify(`${b.base}/${e.type}/${e.id}`)},"resource":${body(e, s)},"search":{"mode":"${e.mode}"}}`);
  }
  if (b.warnings.length) {
    const oo = outcome(b.warnings.map((w) => ({ severity: 'warning', code: 'not-supported', diagnostics: w })));
    entries.push(`{"resource":${JSON.stringify(oo)},"search":{"mode":"outcome"}}`);
  }
  if (entries.length) parts.push(`,"entry":[${entries.join(',')}]`);
  parts.push('}');
  return parts.join('');
}

/** A GET URL for the search with `replace` applied (the cursor of another page, or none for self). */
export function searchUrl(base: string, path: string, params: Array<[string, string]>, replace: Record<string, string | undefined>): string {
  const kept = params.filter(([k]) => !(k in replace));
  for (const [k, v] of Object.entries(replace)) if (v !== undefined) kept.push([k, v]);
  const qs = new URLSearchParams(kept).toString();
  return `${base}${path ? `/${path}` : ''}${qs ? `?${qs}` : ''}`;
}
