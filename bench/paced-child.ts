// Runs bench/paced.ts in a process of its own: the paths and options come as one JSON document on stdin,
// the result goes out as one JSON line on stdout. A benchmark process that has run autocannon and holds
// its samples collects garbage for tens of milliseconds at a time; in the same process as the paced
// client, those pauses delay its sends and reads, and latency counted from the due time charged them to
// the server. Run by pacedInChild() (paced.ts), not by hand.
import { paced } from './paced.js';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const { base, paths, rate, seconds, connections } = JSON.parse(input) as { base: string; paths: string[]; rate: number; seconds: number; connections: number };
let i = 0;
const result = await paced(base, () => paths[i++ % paths.length], { rate, seconds, connections });
process.stdout.write(`${JSON.stringify(result)}\n`);
