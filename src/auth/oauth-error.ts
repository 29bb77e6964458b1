// OAuth 2.0 errors with RFC 6749 names (§4.1.2.1 authorization, §5.2 token) and the status each
// needs: 400 for request errors, 401 for client authentication failures (with WWW-Authenticate when
// the client used HTTP Basic, §5.2), never a FHIR OperationOutcome.
export type OAuthErrorCode =
  | 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type'
  | 'invalid_scope' | 'access_denied' | 'unsupported_response_type' | 'server_error' | 'temporarily_unavailable'
  | 'unsupported_token_type';

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(code: OAuthErrorCode, description: string, status?: number, headers: Record<string, string> = {}) {
    super(description);
    this.code = code;
    this.status = status ?? (code === 'invalid_client' ? 401 : code === 'server_error' ? 500 : 400);
    this.headers = code === 'invalid_client' && !headers['WWW-Authenticate'] ? { ...headers, 'WWW-Authenticate': 'Basic realm="fhirgate"' } : headers;
  }
  body(): { error: string; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

export const invalidRequest = (d: string) => new OAuthError('invalid_request', d);
export const invalidClient = (d: string) => new OAuthError('invalid_client', d);
export const invalidGrant = (d: string) => new OAuthError('invalid_grant', d);
export const invalidScope = (d: string) => new OAuthError('invalid_scope', d);
