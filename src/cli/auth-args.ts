// Strict flags for the auth commands on top of args.ts: unknown flags, positional words and a
// single-valued flag given twice are errors, so a typo never registers a half-configured client.
import { parseArgs } from './args.js';

export function parseFlags(argv: string[], known: { single: string[]; repeat?: string[] }): { one: Record<string, string>; all: Record<string, string[]> } {
  const { positional, flags } = parseArgs(argv);
  if (positional.length) throw new Error(`unexpected argument: ${positional[0]}`);
  const one: Record<string, string> = {};
  const all: Record<string, string[]> = {};
  for (const [name, values] of flags) {
    if (known.repeat?.includes(name)) all[name] = values;
    else if (known.single.includes(name)) {
      if (values.length > 1) throw new Error(`--${name} given twice`);
      one[name] = values[0];
    } else throw new Error(`unknown option --${name}`);
  }
  return { one, all };
}
