// A worker thread of the import (pool.ts): prepares tasks (prepare.ts) off the main thread, so parsing,
// validation and index extraction use the cores the database leaves free. Results are strings (content and
// staging rows), which cost little to clone back, unlike object trees.
import { parentPort } from 'node:worker_threads';
import { prepareTask, type ImportTask } from './prepare.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');

port.on('message', (task: ImportTask) => {
  try {
    const result = prepareTask(task);
    port.postMessage({ ok: true, result });
  } catch (e) {
    port.postMessage({ ok: false, seq: task.seq, message: e instanceof Error ? e.message : String(e) });
  }
});
