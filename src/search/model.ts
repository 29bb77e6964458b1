// The parsed and planned search (R4 search.html): what parse.ts and plan.ts produce and compile.ts turns
// into SQL. Pure data; a parameter is resolved on each resource type searched (a ParamSet), so system-level
// and multi-type searches compile the same way as type-level ones.
import type { SearchParam, SearchParamType } from '../registry/search-params.js';
import { FhirError } from '../errors.js';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** One parameter code resolved on every resource type searched (all of one parameter type). */
export interface ParamSet { code: string; type: SearchParamType; params: SearchParam[] }

/** The resources of one type a forward chain was found to point at (their ids). */
export interface ChainTarget { type: string; ids: string[] }

/** Internal string operators of _filter beyond the URL modifiers (search.html#filter: eq, ew). */
/** 'differs': _filter's ne on a string, "an item in the set has an unequal value" (search_filter.html). */
export type StringOp = 'starts' | 'exact' | 'contains' | 'equals' | 'ends' | 'differs';

export type Expr =
  | { k: 'and'; items: Expr[] }
  | { k: 'or'; items: Expr[] }
  | { k: 'not'; item: Expr }
  /** One occurrence of a parameter: its comma-separated values are ORed (search.html#combining). */
  | { k: 'value'; name: string; ps: ParamSet; modifier?: string; values: string[]; op?: StringOp; prefix?: Prefix }
  | { k: 'missing'; name: string; ps: ParamSet; missing: boolean }
  /**
   * Forward chain: a reference parameter whose target satisfies `inner` (search.html#chaining). `resolved`:
   * the targets, listed by a query run first (chain-targets.ts), grouped by type; absent when not resolved.
   * `local`: rids of the resources whose reference is a local '#id' to a contained resource satisfying
   * `inner` (search.html#contained), listed by the same query; absent when not listed (compile.ts then
   * finds them itself), empty when there are none.
   */
  | { k: 'chain'; name: string; ps: ParamSet; targets: string[]; inner: Expr; resolved?: ChainTarget[]; local?: string[] }
  /** Reverse chain: resources of `source` referring to this one through `ref` satisfy `inner` (search.html#has). */
  | { k: 'has'; name: string; source: string; ref: SearchParam; inner: Expr }
  | { k: 'id'; ids: string[] }
  | { k: 'lastUpdated'; name: string; values: string[] }
  | { k: 'text'; name: string; field: 'text' | 'content'; values: string[] }
  | { k: 'list'; name: string; ids: string[] }
  | { k: 'types'; types: string[] };

export interface SortKey { name: string; desc: boolean; ps?: ParamSet; column?: 'id' | 'last_updated' }

export interface IncludeSpec { source: string; param?: string; target?: string; iterate: boolean; rev: boolean; name: string }

export type TotalMode = 'none' | 'estimate' | 'accurate';
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchRequest {
  /** Resource types searched: one for type-level search, several for _type / system search. */
  types: string[];
  compartment?: { type: 'Patient'; id: string };
  where: Expr[];
  sort: SortKey[];
  count: number;
  total?: TotalMode;
  summary?: SummaryMode;
  elements?: string[];
  include: IncludeSpec[];
  cursor?: string;
  /**
   * _contained=true|both (search.html#contained): match contained resources of `types` ("true": only them,
   * "both": also top-level ones); _containedType: return their containers (default) or them alone.
   */
  contained?: { mode: 'true' | 'both'; returns: 'container' | 'contained' };
  /** Parameters ignored (unknown or unsupported), reported in an OperationOutcome entry. */
  ignored: Array<{ name: string; reason: string }>;
  /** Prefer: handling=strict turns ignored parameters into a 400. */
  strict: boolean;
}

/** A 400 naming the parameter (search.html#errors: "an error… that indicates which parameter"). */
export function paramError(name: string, message: string): FhirError {
  return new FhirError(400, 'invalid', `parameter ${name}: ${message}`, { expression: [name] });
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
