// Signed checkpoints of the chain heads (issue: "the chain head is periodically signed (a checkpoint
// stored outside the table)"). Each checkpoint is stored twice: in audit.checkpoint (append-only, its
// own triggers) and as a line of DATA_DIR/audit-checkpoints/<tenant>.ndjson, outside the database.
// Why both: the file is the external anchor a database superuser cannot reach (it reveals a truncated
// tail or a recomputed chain); the table lets `audit verify` run where the data dir is not at hand.
// Neither can be forged without the Ed25519 key, which the database never sees.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/session.js';
import { withTx } from '../store/session.js';
import { addCheckpoint, readHeads, type Head, type SignedRecord } from '../store/audit-read.js';
import { canonicalJson } from './canonical.js';
import type { Signer } from './signing.js';

export interface CheckpointPayload {
  kind: 'fhirgate-audit-checkpoint';
  tenant: string;
  at: string;
  heads: Head[];
}

export function checkpointFile(dataDir: string, tenant: string): string {
  return join(dataDir, 'audit-checkpoints', `${tenant}.ndjson`);
}

/** Signs the tenant's current heads and stores the checkpoint in the database and in DATA_DIR. */
export async function writeCheckpoint(db: Db, tenant: string, signer: Signer, dataDir: string): Promise<CheckpointPayload> {
  return withTx(db, { tenant, role: 'auditor' }, async (tx) => {
    const heads = (await readHeads(tx)).filter((h) => h.pos > 0);
    const payload: CheckpointPayload = { kind: 'fhirgate-audit-checkpoint', tenant, at: new Date().toISOString(), heads };
    const signed = signer.sign(canonicalJson(payload));
    await addCheckpoint(tx, signed);
    // Written before COMMIT: a file line without a database row is harmless (verify accepts either).
    mkdirSync(join(dataDir, 'audit-checkpoints'), { recursive: true, mode: 0o700 });
    appendFileSync(checkpointFile(dataDir, tenant), JSON.stringify(signed) + '\n', { mode: 0o600 });
    return payload;
  });
}

/** The checkpoints kept outside the database. */
export function readCheckpointFile(dataDir: string, tenant: string): SignedRecord[] {
  const file = checkpointFile(dataDir, tenant);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SignedRecord);
}
