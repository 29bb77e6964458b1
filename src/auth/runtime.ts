// Everything the authorization server keeps while running: keys, the revocation set, the cache of
// clients' JWK Sets, settings. Made once at start and passed explicitly. Two phases, so the HTTP
// app can be built (and listen, answering 503) before migrations have made the auth tables:
// createAuthRuntime (sync) → mount routes → migrate → rt.start() (loads keys, starts listening).
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { KeyRing } from './keys.js';
import { Revocations } from './revocations.js';
import { loadAuthSettings, type AuthSettings } from './settings.js';
import { ClientJwksCache } from './client-jwks.js';
import { Federation } from './federation.js';

export interface AuthRuntime {
  db: Db;
  config: Config;
  settings: AuthSettings;
  keys: KeyRing;
  revocations: Revocations;
  clientJwks: ClientJwksCache;
  /** Sign-in delegated to an external OpenID Connect provider, when configured. */
  federation?: Federation;
  /** Tenant of the HTTP endpoints (one per server for now). */
  tenant: string;
  /** The FHIR base: issuer of every token and the only accepted `aud`. */
  fhirBase: string;
  /** `${publicUrl}/auth/token`: the only accepted client-assertion `aud`. */
  tokenUrl: string;
  /** Loads the keys and the revocation set; idempotent. Needs migrations applied. */
  start(): Promise<void>;
  /** Whether start() has completed. */
  isReady(): boolean;
  close(): Promise<void>;
}

export function createAuthRuntime(deps: { db: Db; config: Config; settings?: Partial<AuthSettings> }): AuthRuntime {
  const settings = { ...loadAuthSettings(), ...deps.settings };
  const keys = new KeyRing(deps.db, settings.signingKeyFile);
  const revocations = new Revocations(deps.db);
  let starting: Promise<void> | undefined;
  let ready = false;
  return {
    db: deps.db,
    config: deps.config,
    settings,
    keys,
    revocations,
    clientJwks: new ClientJwksCache(),
    federation: settings.federation ? new Federation(settings.federation, `${deps.config.publicUrl}/auth/sso/callback`) : undefined,
    tenant: 'default',
    fhirBase: deps.config.fhirBase,
    tokenUrl: `${deps.config.publicUrl}/auth/token`,
    start() {
      starting ??= (async () => {
        await keys.load();
        await revocations.start();
        ready = true;
      })();
      starting.catch(() => { starting = undefined; });
      return starting;
    },
    isReady: () => ready,
    close: () => revocations.stop(),
  };
}

/** create + start, for the CLI, tests and benchmarks (migrations already applied). */
export async function startAuthRuntime(deps: { db: Db; config: Config; settings?: Partial<AuthSettings> }): Promise<AuthRuntime> {
  const rt = createAuthRuntime(deps);
  await rt.start();
  return rt;
}
