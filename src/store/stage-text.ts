// Text encodings for bulk writes, pure (import workers run them off the main thread): PostgreSQL's COPY
// text format (sql-copy "Text Format": tab-separated, \N for NULL, backslash escapes) and array literals
// (arrays.html "Array Value Input"), and a resource's search index as the column arrays of one staging row
// (store/bulk-write.ts), so 20–30 index rows cost one COPY row instead of 20–30 bound array elements.
import type { ExtractedIndex } from '../search/extract.js';
import type { Key } from '../search/hash.js';

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_G = /[\\\n\r\t]/g;
const COPY_ESC: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as a COPY text field: backslash, newline, carriage return and tab escaped. */
export function copyText(s: string): string {
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIAL_G, (c) => COPY_ESC[c]) : s;
}

const ELEM_SPECIAL = /[\\"\n\r\t]/;
const ELEM_SPECIAL_G = /[\\"\n\r\t]/g;
// Array quoting first (\ → \\, " → \"), then COPY escaping of the result (every \ doubled).
const ELEM_ESC: Record<string, string> = { '\\': '\\\\\\\\', '"': '\\\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A text[] as a COPY field: every element double-quoted (so commas, braces and "NULL" stay text). */
export function copyTextArray(values: ReadonlyArray<string | null>): string {
  if (values.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i) out += ',';
    out += v === null ? 'NULL' : ELEM_SPECIAL.test(v) ? `"${v.replace(ELEM_SPECIAL_G, (c) => ELEM_ESC[c])}"` : `"${v}"`;
  }
  return out + '}';
}

/** Decimal texts of keys already seen, by high then low half: parameter keys and common codes repeat. */
const keyTexts = new Map<number, Map<number, string>>();
let keyTextCount = 0;
const KEY_TEXTS_MAX = 100_000; // ~10 MB at most; cleared when full (workers and servers are long-lived)

/** The signed 64-bit decimal of a key (as src/search/hash.ts keyText). */
function keyDecimal(k: Key): string {
  let byLo = keyTexts.get(k[0]);
  let s = byLo?.get(k[1]);
  if (s !== undefined) return s;
  s = BigInt.asIntN(64, (BigInt(k[0]) << 32n) | BigInt(k[1] >>> 0)).toString();
  if (keyTextCount >= KEY_TEXTS_MAX) {
    keyTexts.clear();
    keyTextCount = 0;
    byLo = undefined;
  }
  if (!byLo) keyTexts.set(k[0], (byLo = new Map()));
  byLo.set(k[1], s);
  keyTextCount++;
  return s;
}

type Row = Record<string, unknown>;

/** One column of index rows as a COPY array field: keys as int8 decimals, numbers as they print, text quoted. */
function column(rows: readonly Row[], field: string, kind: 'key' | 'number' | 'text'): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i][field];
    if (i) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (kind === 'key') out += keyDecimal(v as Key);
    else if (kind === 'number') out += String(v);
    else {
      const t = v as string;
      out += ELEM_SPECIAL.test(t) ? `"${t.replace(ELEM_SPECIAL_G, (c) => ELEM_ESC[c])}"` : `"${t}"`;
    }
  }
  return out + '}';
}

/** The staging columns of the index arrays, in this order (bulk-write.ts STAGE_INDEX_COLUMNS). */
export const INDEX_COLUMNS: ReadonlyArray<[name: string, type: string]> = [
  ['tk_p', 'int8[]'], ['tk_h', 'int8[]'], ['tk_c', 'text[]'],
  ['st_p', 'int8[]'], ['st_v', 'text[]'], ['st_x', 'text[]'],
  ['rf_p', 'int8[]'], ['rf_tt', 'text[]'], ['rf_ti', 'text[]'],
  ['dt_p', 'int8[]'], ['dt_lo', 'int8[]'], ['dt_hi', 'int8[]'],
  ['nm_p', 'int8[]'], ['nm_lo', 'float8[]'], ['nm_hi', 'float8[]'], ['nm_sy', 'text[]'], ['nm_co', 'text[]'], ['nm_un', 'text[]'],
  ['cp_p', 'int8[]'], ['cp_h', 'int8[]'], ['cp_lo', 'float8[]'], ['cp_hi', 'float8[]'], ['cp_sy', 'text[]'], ['cp_co', 'text[]'], ['cp_un', 'text[]'],
];

type Kind = 'key' | 'number' | 'text';
/** Per index table of ExtractedIndex: its fields in INDEX_COLUMNS order. */
const LAYOUT: ReadonlyArray<[table: 'token' | 'string' | 'reference' | 'date' | 'number' | 'composite', fields: ReadonlyArray<[string, Kind]>]> = [
  ['token', [['p', 'key'], ['h', 'key'], ['c', 'text']]],
  ['string', [['p', 'key'], ['v', 'text'], ['x', 'text']]],
  ['reference', [['p', 'key'], ['ttype', 'text'], ['tid', 'text']]],
  ['date', [['p', 'key'], ['lo', 'number'], ['hi', 'number']]],
  ['number', [['p', 'key'], ['lo', 'number'], ['hi', 'number'], ['system', 'text'], ['code', 'text'], ['unit', 'text']]],
  ['composite', [['p', 'key'], ['h', 'key'], ['lo', 'number'], ['hi', 'number'], ['system', 'text'], ['code', 'text'], ['unit', 'text']]],
];
const EMPTY = new Map(LAYOUT.map(([t, f]) => [t, f.map(() => '{}').join('\t')]));

/** A resource's index rows as the INDEX_COLUMNS fields of its staging row (tab-separated, no line end). */
export function indexFields(ix: ExtractedIndex): string {
  let out = '';
  for (const [table, fields] of LAYOUT) {
    const rows = ix[table] as unknown as Row[];
    if (out) out += '\t';
    if (rows.length === 0) out += EMPTY.get(table);
    else for (let f = 0; f < fields.length; f++) out += (f ? '\t' : '') + column(rows, fields[f][0], fields[f][1]);
  }
  return out;
}

/** One version of a resource as its staging row (bulk-write.ts STAGE_COLUMNS), newline included. */
export function stageLine(v: { type: string; id: string; version: number; lastUpdated: string; compartments: readonly string[]; content: string }, index: string): string {
  return `${copyText(v.type)}\t${copyText(v.id)}\t${v.version}\t${v.lastUpdated}\t${copyTextArray(v.compartments)}\t${copyText(v.content)}\t${index}\n`;
}
