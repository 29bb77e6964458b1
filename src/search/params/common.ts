// What every parameter-type compiler shares: the compile context and the shape of its answer, an
// index-table condition (rendered by compile.ts as `rid in (select rid from <schema>.<table> x where …)`).
import type { Frag } from '../sql.js';
import type { ParamSet } from '../model.js';
import { keyText, paramKey } from '../hash.js';
import { typed, sql, ident } from '../sql.js';

/**
 * Which copy a search reads: the identified tables (schema fhir) or the de-identified mirror (schema deid,
 * migrations/040_deid_search_index.sql), the only one the researcher role can read. Same table shapes.
 */
export type SearchSchema = 'fhir' | 'deid';

export interface Ctx {
  tenant: string;
  /** The server's FHIR base: absolute references under it are local (search.html#reference). */
  base: string;
  /** "Now" for the `ap` prefix, in epoch ms (passed in so compilation stays pure). */
  now: number;
  /** A fresh table alias. */
  alias(prefix: string): string;
  /** Schema of every table the query names (default fhir). */
  schema?: SearchSchema;
}

/** `<schema>.<table>` for the context's schema (allow-listed names only). */
export function tbl(ctx: { schema?: SearchSchema }, name: 'resource' | IndexTable | 'sp_text' | 'sp_contained'): Frag {
  return sql`${ident(ctx.schema ?? 'fhir')}.${ident(name)}`;
}

export type IndexTable = 'sp_token' | 'sp_string' | 'sp_reference' | 'sp_date' | 'sp_number' | 'sp_composite';

/**
 * Rows of `table` (alias x) that match; `negate` asks for resources with no such row (:not, :not-in).
 * `targets`: for a reference to named resources, the type of each (undefined when the value leaves it open).
 */
export interface IndexCond { table: IndexTable; where: Frag; negate?: boolean; targets?: Array<string | undefined> }

/** `col = $k` for one key, `col = any($keys)` for several: a single key keeps the btree's rid order. */
export function inKeys(col: Frag, keys: string[]): Frag {
  const uniq = [...new Set(keys)];
  return uniq.length === 1 ? sql`${col} = ${typed(uniq[0], 'int8')}` : sql`${col} = any(${typed(uniq, 'int8[]')})`;
}

/** `x.p` restricted to the parameter's key on each searched type (optionally a derived one, e.g. ':text'). */
export function paramKeys(ps: ParamSet, suffix = ''): string[] {
  return ps.params.map((p) => keyText(paramKey(p.key + suffix)));
}

/** The index table holding a parameter type's rows (for :missing and _sort). */
export const TABLE_OF: Record<string, IndexTable> = {
  token: 'sp_token', string: 'sp_string', uri: 'sp_string', reference: 'sp_reference', date: 'sp_date',
  number: 'sp_number', quantity: 'sp_number', composite: 'sp_composite', special: 'sp_composite',
};
