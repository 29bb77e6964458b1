// _text and _content (R4 search.html#text, #content, 3.1.1.4.20): "search on the narrative of the resource, and
// the entire content of the resource respectively … a text-based search, which may involve searching multiple
// words … and logical operations such as AND, OR etc." (`_text=(bone OR liver) and metastases`).
// The value is parsed here into a tsquery built from SQL operators over bound words, never text spliced into
// a query string: words → plainto_tsquery, "quoted phrases" → phraseto_tsquery, AND (or adjacency) → &&,
// OR → ||, NOT / a leading '-' → !!, parentheses group. Comma-separated values are ORed. Matching reads
// fhir.sp_text (migrations/015_search_text.sql: one tsvector per resource and document, GIN-indexed); the
// de-identified copy has no such table, so there the documents are computed from each row's content.
import { sql, ident, raw, type Frag } from '../sql.js';
import type { Expr } from '../model.js';
import { paramError } from '../model.js';
import { tbl, type Ctx } from './common.js';

type TextExpr = Extract<Expr, { k: 'text' }>;

/** Bounds on one value: words and phrases, and nesting depth (a search, not a program). */
const MAX_TERMS = 32;
const MAX_DEPTH = 8;

type Tok = { t: 'word'; v: string } | { t: 'phrase'; v: string } | { t: '(' } | { t: ')' } | { t: 'op'; v: 'and' | 'or' | 'not' };

function lex(s: string, name: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '(' || ch === ')') { out.push({ t: ch }); i++; continue; }
    if (ch === '-' && (s[i + 1] === '"' || /[^\s()-]/.test(s[i + 1] ?? ' ')) && (i === 0 || /[\s(]/.test(s[i - 1]))) {
      out.push({ t: 'op', v: 'not' }); i++; continue;
    }
    if (ch === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw paramError(name, 'a quoted phrase is not closed');
      out.push({ t: 'phrase', v: s.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    let w = '';
    while (i < s.length && !/[\s()"]/.test(s[i])) w += s[i++];
    const k = w.toLowerCase();
    out.push(k === 'and' || k === 'or' || k === 'not' ? { t: 'op', v: k } : { t: 'word', v: w });
  }
  return out;
}

/** One search value → a tsquery expression (SQL), or a 400 naming the parameter. */
export function textQuery(value: string, name: string): Frag {
  const toks = lex(value, name);
  let i = 0;
  let terms = 0;
  const isOp = (v: string) => { const t = toks[i]; return t?.t === 'op' && t.v === v; };
  const unary = (depth: number): Frag => {
    if (depth > MAX_DEPTH) throw paramError(name, `nests deeper than ${MAX_DEPTH} levels`);
    const t = toks[i++];
    if (!t) throw paramError(name, 'ends where a word, "phrase" or ( was expected');
    if (t.t === 'op' && t.v === 'not') return sql`(!! ${unary(depth + 1)})`;
    if (t.t === '(') {
      const e = disjunction(depth + 1);
      if (toks[i++]?.t !== ')') throw paramError(name, 'has a ( without its )');
      return e;
    }
    if (t.t === 'word' || t.t === 'phrase') {
      if (++terms > MAX_TERMS) throw paramError(name, `has more than ${MAX_TERMS} words and phrases`);
      return t.t === 'word' ? sql`plainto_tsquery('simple', ${t.v})` : sql`phraseto_tsquery('simple', ${t.v})`;
    }
    throw paramError(name, `has '${t.t === 'op' ? t.v.toUpperCase() : t.t}' where a word, "phrase" or ( was expected`);
  };
  const conjunction = (depth: number): Frag => {
    let e = unary(depth);
    for (;;) {
      if (isOp('and')) i++;
      else if (!toks[i] || toks[i].t === ')' || isOp('or')) return e;
      e = sql`(${e} && ${unary(depth)})`;
    }
  };
  const disjunction = (depth: number): Frag => {
    let e = conjunction(depth);
    while (isOp('or')) { i++; e = sql`(${e} || ${conjunction(depth)})`; }
    return e;
  };
  if (toks.length === 0) throw paramError(name, 'has no words to search for');
  const e = disjunction(0);
  if (i !== toks.length) throw paramError(name, 'has a ) without its (');
  return e;
}

/** The documents computed from a row's content: the same definitions as fhir.text_narrative/text_content (015). */
const ON_THE_FLY = {
  text: (r: Frag) => sql`to_tsvector('simple', regexp_replace(coalesce(${r}.content::jsonb #>> '{text,div}', ''), '<[^>]*>|&[A-Za-z0-9#]+;', ' ', 'g'))`,
  content: (r: Frag) => sql`jsonb_to_tsvector('simple', ${r}.content::jsonb, '["string"]')`,
};

/** The resource row r matches the text search (any of the comma-separated values). */
export function textPredicate(e: TextExpr, r: Frag, ctx: Ctx): Frag {
  const q = e.values.map((v) => textQuery(v, e.name)).reduce((a, b) => sql`(${a} || ${b})`);
  if ((ctx.schema ?? 'fhir') !== 'fhir') return sql`${ON_THE_FLY[e.field](r)} @@ ${q}`;
  const t = ident(ctx.alias('t'));
  const doc = raw(e.field === 'text' ? 'narrative' : 'content');
  return sql`${r}.rid in (select ${t}.rid from ${tbl(ctx, 'sp_text')} ${t} where ${t}.tenant = ${ctx.tenant} and ${t}.${doc} @@ ${q})`;
}
