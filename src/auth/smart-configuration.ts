// Discovery documents: SMART App Launch 2.2 §"SMART configuration" (/.well-known/smart-configuration
// under the FHIR base), OpenID Connect Discovery 1.0 §4 (`<issuer>/.well-known/openid-configuration`;
// the issuer is the FHIR base, so both live under /fhir), and the endpoints for the
// CapabilityStatement's `oauth-uris` extension (SMART 1.0 compatibility).
import type { Config } from '../config.js';
import { ASSERTION_ALGS } from './client-auth.js';

export const CAPABILITIES = [
  'launch-ehr', 'launch-standalone', 'authorize-post',
  'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'context-banner', 'context-style',
  'permission-offline', 'permission-online', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2',
];

export interface AuthEndpoints {
  authorize: string;
  token: string;
  introspect: string;
  revoke: string;
  jwks: string;
}

export function authEndpoints(config: Config): AuthEndpoints {
  const a = `${config.publicUrl}/auth`;
  return { authorize: `${a}/authorize`, token: `${a}/token`, introspect: `${a}/introspect`, revoke: `${a}/revoke`, jwks: `${a}/jwks` };
}

/** For the CapabilityStatement: rest.security.extension[oauth-uris] sub-extensions. */
export function oauthUrisExtension(config: Config): { url: string; extension: Array<{ url: string; valueUri: string }> } {
  const e = authEndpoints(config);
  return {
    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
    extension: [
      { url: 'authorize', valueUri: e.authorize },
      { url: 'token', valueUri: e.token },
      { url: 'introspect', valueUri: e.introspect },
      { url: 'revoke', valueUri: e.revoke },
    ],
  };
}

const SCOPES = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access',
  'patient/*.cruds', 'user/*.cruds', 'system/*.cruds', 'patient/*.rs', 'user/*.rs', 'system/*.rs', 'patient/*.read', 'user/*.read', 'system/*.read'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The issuer and endpoints both discovery documents state (SMART 2.2 §Discovery, OIDC Discovery 1.0 §3). */
function endpointFields(config: Config): Record<string, string> {
  const e = authEndpoints(config);
  return {
    issuer: config.fhirBase,
    jwks_uri: e.jwks,
    authorization_endpoint: e.authorize,
    token_endpoint: e.token,
    introspection_endpoint: e.introspect,
    revocation_endpoint: e.revoke,
  };
}

export function smartConfiguration(config: Config): Record<string, unknown> {
  return {
    ...endpointFields(config),
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: SCOPES,
    capabilities: CAPABILITIES,
  };
}

export function openidConfiguration(config: Config): Record<string, unknown> {
  return {
    ...endpointFields(config),
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: ['openid', 'fhirUser', 'profile', 'offline_access', 'online_access'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'fhirUser', 'profile'],
  };
}
