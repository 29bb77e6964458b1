// `fhirgate deid report [--k K]`: the k-anonymity of the de-identified copy over (birth year, sex, ZIP3):
// the smallest class size and how many patients fall in classes below k (DEID_K, default 5).
import type { CliDeps } from './main.js';
import { flag, parseArgs } from './args.js';
import { kAnonymityReport } from '../deid/k-anonymity.js';
import { loadDeidSettings } from '../deid/settings.js';

export async function run(args: string[], deps: CliDeps): Promise<Record<string, unknown>> {
  const a = parseArgs(args);
  const given = flag(a, 'k');
  const k = given !== undefined ? Number(given) : loadDeidSettings(process.env, deps.config.dataDir).k;
  if (!Number.isInteger(k) || k < 2) throw new Error('--k must be an integer of at least 2');
  return { tenant: deps.tenant, ...(await kAnonymityReport(deps.db, deps.tenant, k)) };
}
