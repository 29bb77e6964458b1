// A worker thread of the import (pool.ts): prepares tasks (prepare.ts) off the main thread, so parsing,
// validation and index extraction use the cores the database leaves free. The source resource kept on
// each extracted index is dropped before posting: the main thread rebuilds it from the content if it
// ever needs it, which costs less than cloning every resource's object tree back.
import { parentPort } from 'node:worker_threads';
import { prepareTask, type ImportTask } from './prepare.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');

port.on('message', (task: ImportTask) => {
  try {
    const result = prepareTask(task);
    for (const u of result.units) for (const i of u.items) delete (i.index as { resource?: unknown }).resource;
    port.postMessage({ ok: true, result });
  } catch (e) {
    port.postMessage({ ok: false, seq: task.seq, message: (e as Error).message ?? String(e) });
  }
});
