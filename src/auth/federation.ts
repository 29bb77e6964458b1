// Sign-in delegated to an external OpenID Connect provider (hospital SSO) with openid-client:
// authorization code + PKCE S256 + state + nonce (OpenID Connect Core §3.1). The provider proves who
// the user is; the local login named by the configured claim supplies role and fhirUser.
import * as oidc from 'openid-client';
import type { FederationSettings } from './settings.js';

export interface FederationStart { url: string; verifier: string; state: string; nonce: string }

function loopback(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

export class Federation {
  private config: Promise<oidc.Configuration> | undefined;
  constructor(readonly settings: FederationSettings, private readonly redirectUri: string) {}

  private configuration(): Promise<oidc.Configuration> {
    if (!this.config) {
      const issuer = new URL(this.settings.issuer);
      // Plain http only for a provider on loopback (development and tests).
      const options = issuer.protocol === 'http:' && loopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined;
      const auth = this.settings.clientSecret ? oidc.ClientSecretBasic(this.settings.clientSecret) : oidc.None();
      this.config = oidc.discovery(issuer, this.settings.clientId, undefined, auth, options);
      this.config.catch(() => { this.config = undefined; });
    }
    return this.config;
  }

  async start(): Promise<FederationStart> {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri, scope: 'openid profile', response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    });
    return { url: url.toString(), verifier, state, nonce };
  }

  /** The local username the provider vouches for, from the callback URL. */
  async finish(callbackUrl: URL, expected: { verifier: string; state: string; nonce: string }): Promise<string> {
    const config = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: expected.verifier, expectedState: expected.state, expectedNonce: expected.nonce, idTokenExpected: true,
    });
    const claims: Record<string, unknown> = tokens.claims() ?? {};
    let value = claims[this.settings.usernameClaim];
    if (value === undefined && tokens.access_token && typeof claims.sub === 'string') {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      value = info[this.settings.usernameClaim];
    }
    if (typeof value !== 'string' || !value) throw new Error(`the provider sent no ${this.settings.usernameClaim} claim`);
    return value;
  }
}
