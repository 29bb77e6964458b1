// Opening the database the contract names: DATABASE_URL when set, else the embedded PostgreSQL in
// DATA_DIR. One function for the server and every CLI command, so both use the same database.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Db } from './session.js';
import { createPool, databaseAnswers } from './pool.js';
import { startEmbedded } from './embedded.js';

export interface OpenDatabase {
  db: Db;
  url: string;
  answers(): Promise<boolean>;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger, opts: { poolSize?: number } = {}): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  let stopEmbedded = async () => {};
  if (!url) {
    const embedded = await startEmbedded(config.dataDir, log, { port: config.embeddedPgPort, sharedBuffersMb: config.embeddedPgSharedBuffersMb });
    url = embedded.url;
    if (embedded.owned) stopEmbedded = embedded.stop;
  }
  const pool = createPool(url, opts.poolSize ?? config.poolSize);
  return {
    db: { pool, groupSlots: config.groupSlots, kindSlots: { search: config.searchGroupSlots } },
    url,
    answers: () => databaseAnswers(pool),
    close: async () => {
      await pool.end().catch(() => {});
      await stopEmbedded();
    },
  };
}
