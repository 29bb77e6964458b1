// _filter (R4 search_filter.html), the common subset: paramPath op value joined with and / or / not( ),
// parentheses; ops eq ne co sw ew gt lt ge le sa eb ap pr in ni. A path may chain (subject.name).
// Each comparison becomes the same Expr a URL parameter would (resolve.ts), with the op as prefix,
// string operator or modifier, so _filter compiles through the one compiler.
import { paramError, type Expr, type Prefix, type StringOp } from './model.js';
import { resolveParam, UnknownParam, type ResolveCtx } from './resolve.js';

type Tok = { t: 'word'; v: string } | { t: 'str'; v: string } | { t: '(' } | { t: ')' };

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '(' || ch === ')') { out.push({ t: ch }); i++; continue; }
    if (ch === '"') {
      let v = '';
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) { v += s[i + 1]; i += 2; } else v += s[i++];
      }
      if (s[i] !== '"') throw paramError('_filter', 'unterminated string');
      i++;
      out.push({ t: 'str', v });
      continue;
    }
    let v = '';
    while (i < s.length && !/[\s()"]/.test(s[i])) v += s[i++];
    out.push({ t: 'word', v });
  }
  return out;
}

/** Deepest nesting of parentheses and not( ) in one _filter. */
const MAX_DEPTH = 32;

const ORDERED: Record<string, Prefix> = { eq: 'eq', ne: 'ne', gt: 'gt', lt: 'lt', ge: 'ge', le: 'le', sa: 'sa', eb: 'eb', ap: 'ap' };
const STRING_OPS: Record<string, StringOp> = { eq: 'equals', co: 'contains', sw: 'starts', ew: 'ends' };

/** Applies the comparison operator to the parameter Expr resolved from the path (chains: at the leaf). */
function applyOp(e: Expr, op: string, value: string): Expr {
  if (e.k === 'chain') return { ...e, inner: applyOp(e.inner, op, value) };
  if (e.k === 'id') {
    if (op === 'eq') return e;
    if (op === 'ne') return { k: 'not', item: e };
    throw paramError('_filter', `_id supports eq and ne, not ${op}`);
  }
  if (e.k === 'lastUpdated') {
    if (!ORDERED[op]) throw paramError('_filter', `_lastUpdated does not support ${op}`);
    return { ...e, values: [`${op}${value}`] };
  }
  if ((e.k === 'and' || e.k === 'or') && (op === 'eq' || op === 'ne')) return op === 'eq' ? e : { k: 'not', item: e }; // url|version (canonical.ts)
  if (e.k !== 'value') throw paramError('_filter', `${op} cannot be applied here`);
  if (op === 'pr') return { k: 'missing', name: e.name, ps: e.ps, missing: value === 'false' };
  const t = e.ps.type;
  if (t === 'string') {
    // ne: some value of the resource differs (search_filter.html), not "no value equals" (that is :not).
    if (op === 'ne') return { ...e, op: 'differs' };
    if (!STRING_OPS[op]) throw paramError('_filter', `string parameters support eq ne co sw ew pr, not ${op}`);
    return { ...e, op: STRING_OPS[op] };
  }
  if (t === 'date' || t === 'number' || t === 'quantity') {
    if (!ORDERED[op]) throw paramError('_filter', `${t} parameters support eq ne gt lt ge le sa eb ap pr, not ${op}`);
    return { ...e, prefix: ORDERED[op] };
  }
  if (t === 'token' || t === 'reference' || t === 'uri') {
    if (op === 'eq') return e;
    if (op === 'ne') return t === 'token' ? { ...e, modifier: 'not' } : { k: 'not', item: e };
    if (t === 'token' && (op === 'in' || op === 'ni')) return { ...e, modifier: op === 'in' ? 'in' : 'not-in' };
    if (t === 'uri' && op === 'sw') return { ...e, op: 'starts' }; // a plain prefix (:below is by path segment)
    throw paramError('_filter', `${t} parameters support eq ne pr${t === 'token' ? ' in ni' : ''}, not ${op}`);
  }
  throw paramError('_filter', `${t} parameters are not supported in _filter`);
}

export function parseFilter(text: string, types: string[], ctx: ResolveCtx): Expr {
  const toks = lex(text);
  let i = 0;
  const peekWord = (w: string) => { const t = toks[i]; return t?.t === 'word' && t.v.toLowerCase() === w; };
  const comparison = (): Expr => {
    const path = toks[i++];
    const op = toks[i++];
    const val = toks[i++];
    if (path?.t !== 'word' || op?.t !== 'word' || !val || (val.t !== 'word' && val.t !== 'str')) throw paramError('_filter', 'expected [parameter] [op] [value]');
    const o = op.v.toLowerCase();
    // One value: commas in it are data, not OR separators.
    const escaped = val.v.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
    let e: Expr;
    try {
      e = resolveParam(path.v, '_filter', o === 'pr' ? 'true' : escaped, types, ctx);
    } catch (err) {
      if (err instanceof UnknownParam) throw paramError('_filter', err.reason);
      throw err;
    }
    return applyOp(e, o, val.v);
  };
  // Nesting is bounded like _text's (params/text.ts): 5,000 '(' overflowed the parser's stack, a 500.
  const unary = (depth: number): Expr => {
    if (depth > MAX_DEPTH) throw paramError('_filter', `nests deeper than ${MAX_DEPTH} levels`);
    if (peekWord('not') && toks[i + 1]?.t === '(') { i++; return { k: 'not', item: unary(depth + 1) }; }
    if (toks[i]?.t === '(') {
      i++;
      const e = disjunction(depth + 1);
      if (toks[i++]?.t !== ')') throw paramError('_filter', 'missing )');
      return e;
    }
    return comparison();
  };
  const conjunction = (depth: number): Expr => {
    const items = [unary(depth)];
    while (peekWord('and')) { i++; items.push(unary(depth)); }
    return items.length === 1 ? items[0] : { k: 'and', items };
  };
  const disjunction = (depth: number): Expr => {
    const items = [conjunction(depth)];
    while (peekWord('or')) { i++; items.push(conjunction(depth)); }
    return items.length === 1 ? items[0] : { k: 'or', items };
  };
  if (toks.length === 0) throw paramError('_filter', 'is empty');
  const e = disjunction(0);
  if (i !== toks.length) throw paramError('_filter', 'unexpected text after the expression');
  return e;
}
