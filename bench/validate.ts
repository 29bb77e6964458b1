// Micro-benchmark of resource validation (the importer validates every resource; target: well under
// 50 µs per Synthea resource). Validates each entry of the Synthea bundles one by one, the way the
// importer and the REST write path do, and prints resources/s plus any resource that fails (Synthea
// is valid R4: a failure is a validator bug).
// Run: /work/shared/data/unpack.sh .fixtures && node --import tsx bench/validate.ts [DIR|FILE …] [--rounds N]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateResource } from '../src/fhir/validation/validate.js';

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 3;
const inputs = args.length ? args : ['.fixtures/synthea/small'];

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name))).filter((f) => f.endsWith('.json'));
}

// Each bundle's entries, validated as separate resources (the Bundle itself is also checked once below).
const resources: unknown[] = [];
const bundles: unknown[] = [];
for (const file of inputs.flatMap(files)) {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  if (json.resourceType === 'Bundle') {
    bundles.push(json);
    for (const e of json.entry ?? []) if (e.resource) resources.push(e.resource);
  } else resources.push(json);
}

let t = performance.now();
const first = validateResource(resources[0]);
const firstMs = performance.now() - t;

// Correctness pass: every resource must validate clean.
t = performance.now();
const failures = new Map<string, { count: number; example: string }>();
for (const r of resources) {
  for (const issue of validateResource(r)) {
    const key = `${issue.code} ${issue.diagnostics}`;
    const f = failures.get(key);
    if (f) f.count++;
    else failures.set(key, { count: 1, example: String((r as { id?: string }).id) });
  }
}
const warmMs = performance.now() - t;
const bundleIssues = bundles.reduce((n: number, b) => n + validateResource(b).length, 0);

// Timed rounds over the warmed validators.
let best = Infinity;
for (let i = 0; i < rounds; i++) {
  t = performance.now();
  for (const r of resources) validateResource(r);
  best = Math.min(best, performance.now() - t);
}

const perSecond = Math.round(resources.length / (best / 1000));
console.log(JSON.stringify({
  files: inputs, resources: resources.length, bundles: bundles.length,
  firstValidationMs: Math.round(firstMs), firstPassMs: Math.round(warmMs), bestRoundMs: Math.round(best),
  microsPerResource: Number(((best * 1000) / resources.length).toFixed(2)), resourcesPerSecond: perSecond,
  invalidResources: [...failures.values()].reduce((n, f) => n + f.count, 0), bundleIssues, firstIssues: first.length,
}));
for (const [key, f] of [...failures].slice(0, 30)) console.log(`  ${f.count}× ${key} (e.g. ${f.example})`);
if (failures.size || bundleIssues) process.exitCode = 1;
