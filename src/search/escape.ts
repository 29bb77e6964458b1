// Search value escaping (R4 search.html#escaping): `\,` `\$` `\|` and `\\` stand for the literal
// characters; unescaped `,` separates OR values, `$` composite components, `|` token/quantity parts.

/** Splits at unescaped `sep`, keeping escapes in the pieces (unescape each piece when it is final). */
export function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function unescape(s: string): string {
  return s.replace(/\\([\\,$|])/g, '$1');
}

/** Comma-separated OR values of one parameter occurrence. */
export function orValues(s: string): string[] {
  return splitEscaped(s, ',');
}
