// The node arguments `npm start` runs the server with (package.json "start"), for the benchmarks and tests
// that spawn the server themselves: they then run exactly what an operator runs, flags included.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };

/** `node --max-semi-space-size=64 --import tsx src/main.ts` → the arguments after `node`. */
export const startArgs: string[] = pkg.scripts.start.trim().split(/\s+/).slice(1);
