// `fhirgate audit verify` (CONTRACT.md "Command line"): checks the tenant's whole audit chain, its signed
// checkpoints and archive anchors; prints {"events":N,"ok":true,…} or fails naming the first broken event.
// --checkpoint: after a clean verification, sign and store the current heads. --no-archives: skip
// re-walking archived files.
import type { CliDeps } from './main.js';
import { parseArgs } from './args.js';
import { verifyAudit } from '../audit/verify.js';
import { loadSigner, loadTrustedKeys } from '../audit/signing.js';
import { writeCheckpoint } from '../audit/checkpoint.js';

export async function run(args: string[], deps: CliDeps): Promise<Record<string, unknown>> {
  const a = parseArgs(args, ['checkpoint', 'no-archives']);
  const dataDir = deps.config.dataDir;
  const report = await verifyAudit(deps.db, deps.tenant, { dataDir, trusted: loadTrustedKeys(dataDir), archives: !a.flags.has('no-archives') });
  if (a.flags.has('checkpoint')) await writeCheckpoint(deps.db, deps.tenant, loadSigner(dataDir), dataDir);
  return { ...report };
}
