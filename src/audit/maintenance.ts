// The audit store's periodic work, started by the server (main.ts): sign a checkpoint of every tenant's
// chain heads (AUDIT_CHECKPOINT_SECONDS, default 300), and archive events older than the retention
// period (AUDIT_RETENTION_DAYS, default 2190 = 6 years, HIPAA's documentation retention, 45 CFR
// 164.316(b)(2)) once a day. Failures are logged without PHI and retried at the next tick.
import type { Db } from '../store/session.js';
import type { Logger } from '../log.js';
import { writeCheckpoint } from './checkpoint.js';
import { archiveExpired } from './archive.js';
import { loadSigner, type Signer } from './signing.js';

export interface AuditSettings {
  checkpointSeconds: number;
  retentionDays: number;
}

export function loadAuditSettings(env: NodeJS.ProcessEnv = process.env): AuditSettings {
  const n = (v: string | undefined, d: number, name: string) => {
    const x = v === undefined || v === '' ? d : Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`${name} must be a positive number`);
    return x;
  };
  return {
    checkpointSeconds: n(env.AUDIT_CHECKPOINT_SECONDS, 300, 'AUDIT_CHECKPOINT_SECONDS'),
    retentionDays: n(env.AUDIT_RETENTION_DAYS, 2190, 'AUDIT_RETENTION_DAYS'),
  };
}

export interface AuditMaintenance {
  /** Runs both jobs now (tests, shutdown). */
  runOnce(): Promise<void>;
  stop(): void;
}

export function startAuditMaintenance(deps: { db: Db; dataDir: string; tenants: string[]; log: Logger; settings?: AuditSettings; signer?: Signer }): AuditMaintenance {
  const settings = deps.settings ?? loadAuditSettings();
  const signer = deps.signer ?? loadSigner(deps.dataDir);
  let lastArchive = 0;
  let running = false;
  const tick = async (forceArchive: boolean) => {
    if (running) return;
    running = true;
    try {
      for (const tenant of deps.tenants) {
        try {
          if (forceArchive || Date.now() - lastArchive > 86_400_000) {
            const r = await archiveExpired(deps.db, tenant, settings.retentionDays, { dataDir: deps.dataDir, signer });
            if (r.archived) deps.log.info({ archived: r.archived, files: r.files.length }, 'audit: events archived');
          }
          await writeCheckpoint(deps.db, tenant, signer, deps.dataDir);
        } catch (e) {
          deps.log.error({ err: { code: (e as { code?: string }).code, name: (e as Error).name } }, 'audit: maintenance failed');
        }
      }
      if (forceArchive || Date.now() - lastArchive > 86_400_000) lastArchive = Date.now();
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(false), settings.checkpointSeconds * 1000);
  timer.unref();
  return { runOnce: () => tick(true), stop: () => clearInterval(timer) };
}
