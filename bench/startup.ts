// Benchmark: cold start to the first `/healthz` 200 (../shared/CONTRACT.md "ready") of `npm start` on an
// existing data dir (the loaded Synthea data: goal ≤ 3 s), and first start on an empty one, initdb
// included (goal ≤ 20 s). Each server is stopped (SIGTERM) before the next starts.
// Run: node --import tsx bench/startup.ts [--runs 3]
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { BENCH_DIR, loadedDataDir, freshDir, startServer, report, atMost, median } from './lib.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 3);

const existing = loadedDataDir();
const cold: number[] = [];
for (let i = 0; i < runs; i++) {
  const s = await startServer(existing);
  cold.push(s.readyMs);
  await s.stop();
}
const first: number[] = [];
const fresh = join(BENCH_DIR, 'startup-fresh');
for (let i = 0; i < Math.max(1, Math.min(runs, 2)); i++) {
  freshDir(fresh);
  const s = await startServer(fresh);
  first.push(s.readyMs);
  await s.stop();
}
rmSync(fresh, { recursive: true, force: true });
report({
  name: 'startup',
  metrics: { coldStartMedianMs: median(cold), coldStartMaxMs: Math.max(...cold), firstStartMedianMs: median(first), firstStartMaxMs: Math.max(...first), runs },
  goals: [atMost('coldStartMedianMs', median(cold), 3000), atMost('firstStartMedianMs', median(first), 20000)],
});
