// `fhirgate migrate`: main.ts applies migrations before any command, so this reports what it applied.
import type { CliDeps } from './main.js';
import { migrate } from '../store/migrate.js';

export async function run(_args: string[], deps: CliDeps): Promise<Record<string, unknown>> {
  const r = await migrate(deps.db.pool);
  return { applied: r.applied, total: r.total };
}
