// Composition (../shared/CONTRACT.md "Start"): config → database (DATABASE_URL or embedded in DATA_DIR)
// → migrations → HTTP → signals. SIGTERM/SIGINT: stop accepting, finish in-flight requests (≤ 10 s),
// stop the embedded database, exit 0.
import { createServer } from 'node:http';
import { answerClientErrors } from './http/client-errors.js';
import { loadConfig } from './config.js';
import { log } from './log.js';
import { openDatabase } from './store/database.js';
import { takeOverShutdownSignals } from './store/embedded.js';
import { migrate } from './store/migrate.js';
import { createApp } from './http/app.js';
import { registerAll } from './fhir/register.js';
import { createAuthRuntime } from './auth/runtime.js';
import { verifyBearer } from './auth/verify-token.js';
import { mountSmartRoutes } from './http/smart-routes.js';
import { startAuditMaintenance } from './audit/maintenance.js';
import { loadDeidSettings, setDeidSettings } from './deid/settings.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const started = Date.now();
  // The de-identification key (DEID_HMAC_KEY_FILE, else generated in DATA_DIR/secrets) is loaded before any write.
  setDeidSettings(loadDeidSettings(process.env, config.dataDir));
  const database = await openDatabase(config, log);
  let ready = false;
  registerAll();
  // The SMART runtime (keys, revocation feed) starts after migrations; its endpoints answer 503 until then.
  const auth = createAuthRuntime({ db: database.db, config });
  const app = createApp({
    config,
    db: database.db,
    log,
    ready: async () => ready && (await database.answers()),
    mounts: [(a) => mountSmartRoutes(a, auth)],
    authenticate: async (authorization, address) => ({ ...(await verifyBearer(authorization, auth)), address }),
  });
  const server = createServer(app);
  answerClientErrors(server);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const m = await migrate(database.db.pool);
  await auth.start();
  // Signed audit checkpoints and retention archiving run in the background (issue "Audit").
  const maintenance = startAuditMaintenance({ db: database.db, dataDir: config.dataDir, tenants: ['default'], log });
  ready = true;
  log.info({ port: config.port, host: config.host, migrations: m.applied.length, ms: Date.now() - started, embedded: !config.databaseUrl }, 'fhirgate ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(force);
    await maintenance.stop();
    await auth.close();
    await database.close();
    log.info('stopped');
    process.exit(0);
  };
  takeOverShutdownSignals();
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e) => {
  log.fatal({ err: { message: (e as Error).message } }, 'fhirgate failed to start');
  process.exit(1);
});
