// A throwaway embedded PostgreSQL for benchmarks, configured as the server runs it (fsync and
// synchronous_commit on, group commit settings of src/store/embedded.ts). The data directory is made
// 0755 so the cluster can run as an unprivileged OS user when the bench runs as root.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded } from '../src/store/embedded.js';
import { createLogger } from '../src/log.js';

export async function benchDatabase(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-bench-pg-'));
  chmodSync(dir, 0o755);
  const h = await startEmbedded(dir, createLogger('silent'));
  return { url: h.url, stop: async () => { await h.stop(); rmSync(dir, { recursive: true, force: true }); } };
}
