// The only place search SQL text is made (../shared/STYLE.md, Kysely's lesson): an immutable fragment
// tree, rendered once into { text, values } with $n placeholders. Every value is a bound parameter;
// SQL text enters only as literal template strings of this codebase or allow-listed identifiers.

export interface Sql {
  text: string;
  values: unknown[];
  /** Plan with the values, not once per shape (query.ts needsCustomPlan: chains to a range). */
  custom?: boolean;
}

type Part = string | Param | Frag;
class Param { constructor(readonly value: unknown, readonly cast?: string) {} }

export class Frag {
  constructor(readonly parts: readonly Part[]) {}
  get empty(): boolean { return this.parts.every((p) => p === ''); }
}

/** sql`a = ${value} and ${otherFrag}`: values become parameters, fragments are spliced. */
export function sql(strings: TemplateStringsArray, ...args: unknown[]): Frag {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    if (s) parts.push(s);
    if (i < args.length) {
      const a = args[i];
      parts.push(a instanceof Frag || a instanceof Param ? a : new Param(a));
    }
  });
  return new Frag(parts);
}

/** A value with an explicit SQL type (`$3::int8[]`), so PostgreSQL never has to guess. */
export const typed = (value: unknown, cast: string): Param => {
  if (!/^[a-z0-9_]+(\[\])?$/.test(cast)) throw new Error(`bad cast ${cast}`);
  return new Param(value, cast);
};

const IDENT = /^[a-z_][a-z0-9_]*$/;
/** An identifier from an allow-list in this codebase (table or column names), never from a request. */
export function ident(name: string): Frag {
  if (!IDENT.test(name)) throw new Error(`not an identifier: ${name}`);
  return new Frag([name]);
}

export const raw = (text: string): Frag => new Frag([text]);
export const empty = new Frag([]);

export function join(frags: Frag[], sep: string): Frag {
  const parts: Part[] = [];
  frags.forEach((f, i) => {
    if (i > 0) parts.push(sep);
    parts.push(f);
  });
  return new Frag(parts);
}

export const and = (frags: Frag[]): Frag => (frags.length === 0 ? raw('true') : frags.length === 1 ? frags[0] : sql`(${join(frags, ' and ')})`);
export const or = (frags: Frag[]): Frag => (frags.length === 0 ? raw('false') : frags.length === 1 ? frags[0] : sql`(${join(frags, ' or ')})`);

/** Renders a fragment: identical scalar values (same text, same cast) share one placeholder. */
export function render(f: Frag): Sql {
  const values: unknown[] = [];
  const seen = new Map<string, number>();
  let text = '';
  const walk = (x: Frag): void => {
    for (const p of x.parts) {
      if (typeof p === 'string') text += p;
      else if (p instanceof Frag) walk(p);
      else {
        const scalar = typeof p.value === 'string' || typeof p.value === 'number' || typeof p.value === 'boolean';
        const key = scalar ? `${typeof p.value}:${String(p.value)}:${p.cast ?? ''}` : undefined;
        let n = key ? seen.get(key) : undefined;
        if (n === undefined) {
          values.push(p.value);
          n = values.length;
          if (key) seen.set(key, n);
        }
        text += p.cast ? `$${n}::${p.cast}` : `$${n}`;
      }
    }
  };
  walk(f);
  return { text, values };
}
