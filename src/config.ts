// Configuration from the environment, as the operator contract (../shared/CONTRACT.md "Start") names it.
// Read once at start; everything else receives the Config object explicitly.
import { resolve } from 'node:path';

export interface Config {
  host: string;
  port: number;
  publicUrl: string;
  /** `$PUBLIC_URL/fhir`: every absolute URL the server emits starts here. */
  fhirBase: string;
  databaseUrl: string | undefined;
  dataDir: string;
  authOff: boolean;
  production: boolean;
  logLevel: string;
  /** Largest request body accepted before 413 (bytes). */
  maxBodyBytes: number;
  /** Pool size for request traffic. */
  poolSize: number;
  /**
   * Shared transactions in flight per kind of reading request (src/store/group-tx.ts: group commit of
   * reads and searches with their AuditEvents); 0 runs every request in a transaction of its own.
   */
  groupSlots: number;
  /**
   * The same for searches (PG_SEARCH_GROUP_SLOTS). Two by default: a search group's statements run one
   * after another on its one connection, so with a single slot the ×10 search mix left a core idle
   * (16 clients: 873–1,021 req/s with one slot, 1,074–1,150 with two; at 1,000 req/s on ×1 the same
   * latency). Reads by id keep one: more members per COMMIT, no higher throughput with two.
   */
  searchGroupSlots: number;
  /**
   * Most targets of a forward chain listed before its search (src/search/chain-targets.ts); a chain with
   * more is joined in the search itself. 0: always joined.
   */
  chainTargets: number;
  /** Port the embedded PostgreSQL listens on (loopback only). */
  embeddedPgPort: number;
  /** shared_buffers (MB) of the embedded PostgreSQL; undefined: a quarter of the memory (store/embedded.ts). */
  embeddedPgSharedBuffersMb?: number;
  /**
   * REST accesses leave AuditEvents. Only a development server (AUTH=off) may turn this off (AUDIT=off),
   * to measure what the audit costs; sign-in and token events are recorded regardless.
   */
  audit: boolean;
}

/**
 * A whole number from the environment variable `name`, or `fallback` when unset or empty. Anything else
 * (`abc`, `8080abc`, `1.5`, out of range) stops the start with a message naming the variable: a typo must
 * not quietly become another port or pool size.
 */
function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return fallback;
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, not '${env[name]}'`);
  }
  return n;
}

/** PUBLIC_URL: every absolute URL the server emits starts with it, so it must be an absolute http(s) URL. */
function publicUrlOf(env: NodeJS.ProcessEnv, port: number): string {
  const raw = env.PUBLIC_URL?.trim() || `http://localhost:${port}`;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.host || url.search || url.hash) {
    throw new Error(`PUBLIC_URL must be an absolute http:// or https:// URL without query or fragment, not '${env.PUBLIC_URL}'`);
  }
  return raw.replace(/\/+$/, '');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const publicUrl = publicUrlOf(env, port);
  const production = env.NODE_ENV === 'production';
  const authOff = env.AUTH === 'off';
  if (authOff && production) {
    throw new Error('AUTH=off is refused when NODE_ENV=production');
  }
  const groupSlots = Math.max(0, int(env, 'PG_GROUP_SLOTS', 1));
  const audit = env.AUDIT !== 'off';
  if (!audit && !authOff) {
    throw new Error('AUDIT=off is only accepted together with AUTH=off (a development server)');
  }
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    publicUrl,
    fhirBase: `${publicUrl}/fhir`,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.DATA_DIR ?? './.data'),
    authOff,
    production,
    logLevel: env.LOG_LEVEL ?? 'info',
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 32 * 1024 * 1024, 1),
    poolSize: int(env, 'PG_POOL_SIZE', 16, 1),
    groupSlots,
    searchGroupSlots: Math.max(0, int(env, 'PG_SEARCH_GROUP_SLOTS', groupSlots === 0 ? 0 : 2)),
    chainTargets: Math.max(0, int(env, 'SEARCH_CHAIN_TARGETS', 1000)),
    embeddedPgPort: int(env, 'EMBEDDED_PG_PORT', 0, 0, 65535),
    embeddedPgSharedBuffersMb: env.EMBEDDED_PG_SHARED_BUFFERS_MB?.trim() ? int(env, 'EMBEDDED_PG_SHARED_BUFFERS_MB', 0) : undefined,
    audit,
  };
}
