// Everything the authorization server keeps while running: keys, the revocation set, the cache of
// clients' JWK Sets, settings. Made once by mountSmart (or a CLI/test) and passed explicitly.
import type { Config } from '../config.js';
import type { Db } from '../store/session.js';
import { KeyRing } from './keys.js';
import { Revocations } from './revocations.js';
import { loadAuthSettings, type AuthSettings } from './settings.js';
import { ClientJwksCache } from './client-jwks.js';

export interface AuthRuntime {
  db: Db;
  config: Config;
  settings: AuthSettings;
  keys: KeyRing;
  revocations: Revocations;
  clientJwks: ClientJwksCache;
  /** The FHIR base: issuer of every token and the only accepted `aud`. */
  fhirBase: string;
  /** `${publicUrl}/auth/token`: the only accepted client-assertion `aud`. */
  tokenUrl: string;
  close(): Promise<void>;
}

export async function createAuthRuntime(deps: { db: Db; config: Config; settings?: Partial<AuthSettings> }): Promise<AuthRuntime> {
  const settings = { ...loadAuthSettings(), ...deps.settings };
  const keys = new KeyRing(deps.db, settings.signingKeyFile);
  await keys.load();
  const revocations = new Revocations(deps.db);
  await revocations.start();
  return {
    db: deps.db,
    config: deps.config,
    settings,
    keys,
    revocations,
    clientJwks: new ClientJwksCache(),
    fhirBase: deps.config.fhirBase,
    tokenUrl: `${deps.config.publicUrl}/auth/token`,
    close: () => revocations.stop(),
  };
}
