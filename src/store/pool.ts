// The connection pool: the one place pg connections are made. Timestamps and bigints come back as
// text so nothing is re-formatted on the way through (FHIR instants are served as stored).
import pg from 'pg';

pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export function createPool(url: string, size: number): Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, idleTimeoutMillis: 30_000, application_name: 'fhirgate' });
  // An idle client that errors (e.g. the server restarted) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

export async function databaseAnswers(pool: Pool): Promise<boolean> {
  try {
    await pool.query('select 1');
    return true;
  } catch {
    return false;
  }
}
