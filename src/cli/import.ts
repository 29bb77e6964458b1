// `fhirgate import PATH… [--keep-ids] [--workers N] [--writers N] [--batch-size N]` (../shared/CONTRACT.md "Command line"): loads FHIR JSON
// files (a resource, or a transaction/batch/collection Bundle) and NDJSON files, or folders of them, into
// the tenant; prints `{"resources":N,"seconds":S}` plus counts and the problems found (file and line or
// entry: a malformed file or an invalid resource is reported and skipped, the rest is imported).
// --keep-ids: resources keep the ids they carry (POST entries with an id become updates of that id);
// NDJSON always keeps ids. Progress goes to stderr, only on a terminal, and names no file (file names
// can carry patient names, as Synthea's do).
import { availableParallelism } from 'node:os';
import type { CliDeps } from './main.js';
import { parseArgs, flag } from './args.js';
import { importPaths, type ImportProgress } from '../fhir/import/importer.js';
import { analyzeAfterLoad } from '../store/bulk-write.js';

const KNOWN = new Set(['keep-ids', 'workers', 'writers', 'batch-size']);

function intFlag(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return n;
}

/** One line, rewritten in place: counts and rate only. */
function progressLine(started: number): (p: ImportProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 250) return;
    last = now;
    const s = (now - started) / 1000;
    const rate = s > 0 ? Math.round(p.resources / s) : 0;
    process.stderr.write(`\rimporting: ${p.filesDone}/${p.files} files, ${p.resources} resources (${rate}/s), ${p.rejected} rejected\x1b[K`);
  };
}

export async function run(argv: string[], deps: CliDeps): Promise<Record<string, unknown>> {
  const args = parseArgs(argv, ['keep-ids']);
  for (const name of args.flags.keys()) if (!KNOWN.has(name)) throw new Error(`unknown option --${name}`);
  if (args.positional.length === 0) throw new Error('usage: fhirgate import PATH… [--keep-ids] [--tenant T]');
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  const summary = await importPaths(deps.db, deps.tenant, args.positional, {
    keepIds: flag(args, 'keep-ids') === 'true',
    base: deps.config.fhirBase,
    // PostgreSQL needs a core of its own (it is the bottleneck: bench/import.ts); the rest prepare
    // resources. One worker on the 2-core reference box keeps up with the database and saves ~70 MB.
    workers: intFlag(flag(args, 'workers'), 'workers', 0) ?? Math.min(4, Math.max(1, availableParallelism() - 1)),
    writers: intFlag(flag(args, 'writers'), 'writers', 1),
    batchSize: intFlag(flag(args, 'batch-size'), 'batch-size', 1),
    onProgress: tty ? progressLine(started) : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  if (summary.created + summary.updated > 0) await analyzeAfterLoad(deps.db);
  const seconds = Math.round((Date.now() - started) / 10) / 100;
  const { resources, created, updated, unchanged, rejected, files, problems } = summary;
  return { resources, seconds, files, created, updated, unchanged, rejected, ...(problems.length ? { problems } : {}) };
}
