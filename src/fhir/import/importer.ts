// `fhirgate import` end to end: files (files.ts) become tasks, prepared on worker threads (pool.ts),
// consumed in order and written in batches (writer.ts, write.ts) while the next batch is being prepared.
// Memory stays flat in the input size: NDJSON is read line by line in chunks, a JSON file is held only
// while its task runs, and at most a few tasks and `writers` + 1 batches are in memory; garbage is bounded too
// (boundHeap), so the process stays under ~400 MB resident whatever the input size.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { withTx, type Db, type DbContext } from '../../store/session.js';
import { FhirError } from '../../errors.js';
import { findMatches, parseCriteria } from '../criteria.js';
import { listImportFiles, type ImportFile } from './files.js';
import { ndjsonLines } from './ndjson-lines.js';
import { createPreparer } from './pool.js';
import type { Resolution } from './plan.js';
import type { ImportProblem, ImportTask, PreparedUnit, TaskResult } from './prepare.js';
import type { WriteCounts } from './write.js';
import { createBatchWriter } from './writer.js';
import { deidSettings } from '../../deid/settings.js';

export interface ImportOptions {
  keepIds: boolean;
  /** The server's FHIR base (references and request URLs under it are made relative). */
  base: string;
  /** Worker threads preparing resources; 0 prepares on the main thread. */
  workers: number;
  /** Resources per database transaction. */
  batchSize?: number;
  /** Batches written concurrently, each in its own transaction and connection. */
  writers?: number;
  /** NDJSON lines per task. */
  chunkLines?: number;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  files: number;
  filesDone: number;
  resources: number;
  rejected: number;
}

export interface ImportSummary extends WriteCounts {
  files: number;
  /** Resources stored or already current: created + updated + unchanged. */
  resources: number;
  rejected: number;
  problems: ImportProblem[];
}

/**
 * The main thread's heap, bounded: V8 grows an uncapped heap to several times its live set when allocation
 * is fast (measured: 480 MB resident for a ~65 MB live set), and the CLI cannot pass --max-old-space-size.
 * Past this many bytes in use, a batch boundary runs a full collection (~40 ms, about every 3 batches).
 */
const HEAP_CAP = 112 << 20;
let fullGc: (() => void) | undefined;
function boundHeap(): void {
  if (v8.getHeapStatistics().used_heap_size < HEAP_CAP) return;
  if (!fullGc) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  fullGc();
}

/** Problems listed in the summary; the rest are counted. */
const MAX_PROBLEMS = 100;

/**
 * An NDJSON file in chunks of lines. A file that cannot be read to its end (truncated or corrupt gzip, a read
 * error) is reported with the first line it could not read, as a JSON file that cannot be read is (prepare.ts); the lines
 * before are imported and so is every other file.
 */
async function* ndjsonTasks(
  file: ImportFile, base: Omit<ImportTask, 'seq' | 'file' | 'gzip' | 'now'>, chunkLines: number, seq: () => number, problem: (p: ImportProblem) => void,
): AsyncGenerator<ImportTask> {
  let chunk: string[] = [];
  let bytes = 0;
  let first = 1;
  let n = 0;
  const task = (): ImportTask => ({ ...base, seq: seq(), file: file.path, gzip: false, lines: chunk, firstLine: first, now: new Date().toISOString() });
  try {
    for await (const line of ndjsonLines(file.path, file.gzip)) {
      n++;
      chunk.push(line);
      bytes += line.length;
      if (chunk.length >= chunkLines || bytes > 8 << 20) {
        yield task();
        chunk = [];
        bytes = 0;
        first = n + 1;
      }
    }
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 200);
    problem({ file: file.path, ...(n ? { line: n + 1 } : {}), message: `cannot read${n ? ` from line ${n + 1} on` : ''}: ${why}` });
  }
  if (chunk.length) yield task();
}

export async function importPaths(db: Db, tenant: string, paths: string[], opts: ImportOptions): Promise<ImportSummary> {
  const unreadable: ImportProblem[] = [];
  const files = listImportFiles(paths, unreadable);
  // A backend service with every system/ scope: row-level security (030_rls.sql) admits its writes per scope.
  const ctx: DbContext = { tenant, role: 'system', scopes: 'system/*.cruds', actor: 'fhirgate import' };
  const batchSize = opts.batchSize ?? 1000;
  const preparer = createPreparer(opts.workers);
  const summary: ImportSummary = { files: files.length, resources: 0, created: 0, updated: 0, unchanged: 0, rejected: 0, problems: [] };
  let problemCount = 0;
  let filesDone = 0;
  const report = (p: ImportProblem, resources: number) => {
    problemCount++;
    summary.rejected += resources;
    if (summary.problems.length < MAX_PROBLEMS) summary.problems.push(p);
  };
  for (const p of unreadable) report(p, 0);
  const progress = () => opts.onProgress?.({ files: files.length, filesDone, resources: summary.created + summary.updated + summary.unchanged, rejected: summary.rejected });

  const writer = createBatchWriter(db, ctx, Math.max(1, opts.writers ?? 2), summary, report, progress);
  let batch: PreparedUnit[] = [];
  let batchItems = 0;
  const flush = async () => {
    boundHeap();
    const units = batch;
    batch = [];
    batchItems = 0;
    await writer.submit(units);
  };

  /** Looks up conditional criteria against what is stored so far (earlier batches written first). */
  async function resolve(needs: string[]): Promise<Array<[string, Resolution]>> {
    await flush();
    await writer.drain();
    return withTx(db, ctx, async (tx) => {
      const out: Array<[string, Resolution]> = [];
      for (const c of needs) {
        const q = c.indexOf('?');
        try {
          out.push([c, (await findMatches(tx, { fhirBase: '' }, c.slice(0, q), parseCriteria(c.slice(q + 1)), 2)).map((m) => m.id)]);
        } catch (e) {
          if (!(e instanceof FhirError)) throw e;
          // The message names the parameter and the rule; quoted values (a birth date, an identifier) are left out.
          out.push([c, e.message.replace(/'[^']*'/g, '…').slice(0, 200)]);
        }
      }
      return out;
    }, { readOnly: true });
  }

  async function consume(task: ImportTask, pending: Promise<TaskResult>): Promise<void> {
    let r = await pending;
    if (r.needs.length) {
      task.resolved = [...task.resolved, ...(await resolve(r.needs))];
      r = await preparer.run(task);
    }
    for (const p of r.problems) report(p, 0);
    summary.rejected += r.rejected;
    for (const u of r.units) {
      summary.unchanged += u.matched;
      batch.push(u);
      batchItems += u.items.length;
    }
    if (batchItems >= batchSize) await flush();
  }

  let seq = 0;
  const next = () => seq++;
  const d = deidSettings();
  const deid = { mode: d.mode, key: d.key.toString('base64'), keyId: d.keyId, k: d.k };
  const base = { keepIds: opts.keepIds, base: opts.base, tenant, deid, resolved: [] as Array<[string, Resolution]> };
  const queue: Array<{ task: ImportTask; pending: Promise<TaskResult> }> = [];
  const depth = opts.workers + 2; // tasks prepared ahead: enough to keep every worker busy, no more (memory)
  try {
    for (const file of files) {
      const tasks = file.format === 'ndjson'
        ? ndjsonTasks(file, base, opts.chunkLines ?? 1000, next, (p) => report(p, 0))
        : (async function* () { yield { ...base, seq: next(), file: file.path, gzip: file.gzip, size: file.gzip ? file.size * 8 : file.size, now: new Date().toISOString() }; })();
      for await (const task of tasks) {
        const pending = preparer.run(task);
        pending.catch(() => {}); // consumed in order below; an early failure must not go unhandled meanwhile
        queue.push({ task, pending });
        while (queue.length >= depth) {
          const q = queue.shift()!;
          await consume(q.task, q.pending);
        }
      }
      filesDone++;
    }
    while (queue.length) {
      const q = queue.shift()!;
      await consume(q.task, q.pending);
    }
    await flush();
  } finally {
    await writer.drain().finally(() => preparer.close()); // never leave a write running behind the caller
  }
  summary.resources = summary.created + summary.updated + summary.unchanged;
  if (problemCount > summary.problems.length) summary.problems.push({ file: '', message: `… and ${problemCount - summary.problems.length} more problems` });
  return summary;
}
