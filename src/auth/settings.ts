// Authorization-server settings from the environment (beside src/config.ts, which the core owns):
// token lifetimes, the signing key file, and the optional external OpenID Connect provider
// ("hospital SSO") that user sign-in may be delegated to.
export interface FederationSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** The id_token / userinfo claim naming the local fhirgate username. */
  usernameClaim: string;
  /** Label of the sign-in button. */
  label: string;
}

export interface AuthSettings {
  accessTokenSeconds: number;
  /** Backend services tokens (SMART Backend Services: at most 5 minutes recommended). */
  systemTokenSeconds: number;
  codeSeconds: number;
  refreshDays: number;
  onlineRefreshHours: number;
  sessionIdleSeconds: number;
  launchSeconds: number;
  pendingSeconds: number;
  /** Failed sign-ins before each further attempt is slowed, and before the account is locked. */
  slowAfter: number;
  lockAfter: number;
  lockSeconds: number;
  /** Delay added per failure past slowAfter (ms). */
  slowStepMs: number;
  signingKeyFile?: string;
  federation?: FederationSettings;
}

function num(v: string | undefined, d: number): number {
  const n = v === undefined || v === '' ? d : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${v}`);
  return n;
}

export function loadAuthSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const federation: FederationSettings | undefined = env.SSO_ISSUER
    ? {
        issuer: env.SSO_ISSUER,
        clientId: env.SSO_CLIENT_ID ?? '',
        clientSecret: env.SSO_CLIENT_SECRET || undefined,
        usernameClaim: env.SSO_USERNAME_CLAIM ?? 'preferred_username',
        label: env.SSO_LABEL ?? 'Hospital single sign-on',
      }
    : undefined;
  if (federation && !federation.clientId) throw new Error('SSO_ISSUER needs SSO_CLIENT_ID');
  return {
    accessTokenSeconds: num(env.ACCESS_TOKEN_SECONDS, 3600),
    systemTokenSeconds: num(env.SYSTEM_TOKEN_SECONDS, 300),
    codeSeconds: 60,
    refreshDays: num(env.REFRESH_TOKEN_DAYS, 90),
    onlineRefreshHours: 12,
    sessionIdleSeconds: 15 * 60,
    launchSeconds: 60 * 60,
    pendingSeconds: 30 * 60,
    slowAfter: 3,
    lockAfter: num(env.LOGIN_LOCK_AFTER, 5),
    lockSeconds: num(env.LOGIN_LOCK_SECONDS, 15 * 60),
    slowStepMs: 500,
    signingKeyFile: env.SIGNING_KEY_FILE || undefined,
    federation,
  };
}
