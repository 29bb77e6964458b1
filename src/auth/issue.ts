// The token response (RFC 6749 §5.1 + SMART App Launch 2.2 "Response with access token"):
// access_token, token_type Bearer, expires_in, scope as granted, id_token for openid, refresh_token
// for offline_access/online_access, and the launch context (patient, encounter, fhirContext,
// need_patient_banner, smart_style_url).
import { createRefreshToken } from '../store/auth-grants.js';
import type { AuthRuntime } from './runtime.js';
import { randomToken, sha256 } from './secrets.js';
import { signAccessToken, signIdToken, type GrantData } from './tokens.js';

/** What an authorization code will become, stored with the code. */
export interface CodeData {
  grant: GrantData;
  redirectUri: string;
  codeChallenge?: string;
  nonce?: string;
}

export interface IssueOptions {
  nonce?: string;
  newRefresh?: boolean;
  /** Scopes the refresh token keeps (a refresh may narrow the access token, never the grant). */
  refreshScopes?: string[];
  /** Keep this expiry (online_access) instead of a fresh offline period. */
  refreshExpires?: Date;
  system?: boolean;
}

export function smartStyleUrl(rt: AuthRuntime): string {
  return `${rt.config.publicUrl}/auth/smart-style.json`;
}

export async function issueTokens(rt: AuthRuntime, g: GrantData, grantId: string | undefined, scopes: string[], o: IssueOptions): Promise<Record<string, unknown>> {
  const seconds = o.system ? rt.settings.systemTokenSeconds : rt.settings.accessTokenSeconds;
  const issuer = { keys: rt.keys, fhirBase: rt.fhirBase };
  const { token } = await signAccessToken(issuer, g, scopes, seconds, grantId);
  const out: Record<string, unknown> = { access_token: token, token_type: 'Bearer', expires_in: seconds, scope: scopes.join(' ') };
  if (o.system) return out;
  const launchScope = scopes.includes('launch') || scopes.includes('launch/patient');
  if (g.patient && (launchScope || scopes.some((s) => s.startsWith('patient/')))) out.patient = g.patient;
  if (g.encounter && (scopes.includes('launch') || scopes.includes('launch/encounter'))) out.encounter = g.encounter;
  // fhirContext carries launch resources other than the patient and encounter, which have their own
  // fields; fhirgate launches carry no others, and an empty array is valid for SMART 2.0 (strings)
  // and 2.2 (objects) alike, which Inferno checks differently.
  out.fhirContext = [];
  out.need_patient_banner = !g.ehrLaunch;
  out.smart_style_url = smartStyleUrl(rt);
  if (scopes.includes('openid') && g.userId) out.id_token = await signIdToken(issuer, { ...g, scopes }, o.nonce, seconds);
  const keep = o.refreshScopes ?? scopes;
  const offline = keep.includes('offline_access');
  if (grantId && o.newRefresh && (offline || keep.includes('online_access'))) {
    const refresh = randomToken(32);
    const expires = o.refreshExpires ?? new Date(Date.now() + (offline ? rt.settings.refreshDays * 86_400_000 : rt.settings.onlineRefreshHours * 3_600_000));
    await createRefreshToken(rt.db, sha256(refresh), grantId, keep.join(' '), expires);
    out.refresh_token = refresh;
  }
  return out;
}
