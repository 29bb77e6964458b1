// Runs import tasks (prepare.ts) on worker threads, or inline when asked for none. Results come back per
// task; the importer consumes them in task order, so files and lines are stored in the order given.
import { Worker } from 'node:worker_threads';
import type { ImportTask, TaskResult } from './prepare.js';

/** JSON files larger than this are prepared on the main thread, whose heap is not capped. */
export const WORKER_FILE_LIMIT = 8 << 20;

export interface Preparer {
  run(task: ImportTask): Promise<TaskResult>;
  close(): Promise<void>;
}

type Reply = { ok: true; result: TaskResult } | { ok: false; seq: number; message: string };

/**
 * A worker for `worker.ts`. Run from TypeScript sources (bin/fhirgate.js registers tsx in the main thread
 * only), the worker registers tsx itself before loading the module.
 */
function spawn(): Worker {
  const url = new URL('./worker' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url);
  // Bounded heaps (each MB counts once per worker): a worker's garbage is short-lived and its live set is
  // one task (a JSON file up to WORKER_FILE_LIMIT, or an NDJSON chunk); bigger files are prepared inline.
  // A young generation of 48 MB rather than 16: each task allocates a file's worth of short-lived objects
  // (parsed, stamped, de-identified, extracted), and a small one promotes them and collects them again
  // in full (measured: 450 → 340–370 µs of process CPU per Synthea resource, about 35 MB more resident).
  // An old generation of 112 MB rather than 160: V8 lets it fill to the cap before collecting in full, and
  // the import's resident set crept to 466–497 MB against the 500 MB goal (large Synthea set; 112 MB: peak
  // 427 MB, flat after 70 s, and the same 116–118 s).
  const resourceLimits = { maxOldGenerationSizeMb: 112, maxYoungGenerationSizeMb: 48 };
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { resourceLimits });
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, resourceLimits });
}

/** On the main thread (loaded only then: validation and extraction cost the main thread ~50 MB of code and tables). */
function inline(): Preparer {
  let mod: Promise<typeof import('./prepare.js')> | undefined;
  return {
    // A turn of the event loop first, so database replies are handled between tasks.
    run: async (task) => {
      const { prepareTask } = await (mod ??= import('./prepare.js'));
      await new Promise((r) => setImmediate(r));
      return prepareTask(task);
    },
    close: async () => {},
  };
}

export function createPreparer(workers: number): Preparer {
  const local = inline();
  if (workers <= 0) return local;
  const idle: Worker[] = [];
  const waiting: Array<{ task: ImportTask; resolve: (r: TaskResult) => void; reject: (e: Error) => void }> = [];
  const busy = new Map<Worker, { resolve: (r: TaskResult) => void; reject: (e: Error) => void }>();
  const all: Worker[] = [];
  let failure: Error | undefined;

  const next = (w: Worker) => {
    const job = waiting.shift();
    if (!job) return void idle.push(w);
    busy.set(w, job);
    w.postMessage(job.task);
  };
  for (let i = 0; i < workers; i++) {
    const w = spawn();
    all.push(w);
    w.on('message', (reply: Reply) => {
      const job = busy.get(w);
      busy.delete(w);
      if (job) {
        if (reply.ok) job.resolve(reply.result);
        else job.reject(new Error(`import worker failed on task ${reply.seq}: ${reply.message}`));
      }
      next(w);
    });
    w.on('error', (e) => {
      failure = e;
      busy.get(w)?.reject(e);
      busy.delete(w);
      for (const job of waiting.splice(0)) job.reject(e);
    });
    idle.push(w);
  }
  return {
    run: (task) =>
      (task.size ?? 0) > WORKER_FILE_LIMIT ? local.run(task) : new Promise<TaskResult>((resolve, reject) => {
        if (failure) return reject(failure);
        waiting.push({ task, resolve, reject });
        const w = idle.pop();
        if (w) next(w);
      }),
    close: async () => {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
