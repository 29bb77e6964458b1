// Errors a client can cause, each carrying its HTTP status and FHIR issue code
// (R4 valueset-issue-type). Only http/error-middleware.ts turns them into responses.

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

export interface Issue {
  severity: IssueSeverity;
  code: string;
  diagnostics?: string;
  expression?: string[];
}

export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, opts: { expression?: string[]; issues?: Issue[]; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.issues = opts.issues ?? [{ severity: 'error', code, diagnostics: message, ...(opts.expression ? { expression: opts.expression } : {}) }];
    this.headers = opts.headers ?? {};
  }
}

export const badRequest = (msg: string, expression?: string[]) => new FhirError(400, 'invalid', msg, { expression });
export const notFound = (msg: string) => new FhirError(404, 'not-found', msg);
export const gone = (msg: string) => new FhirError(410, 'deleted', msg);
export const conflict = (msg: string) => new FhirError(409, 'conflict', msg);
export const preconditionFailed = (msg: string) => new FhirError(412, 'conflict', msg);
export const unprocessable = (msg: string, issues?: Issue[]) => new FhirError(422, 'processing', msg, { issues });
export const notSupported = (msg: string) => new FhirError(405, 'not-supported', msg);
export const forbidden = (msg: string) => new FhirError(403, 'forbidden', msg);
export const unauthorized = (msg: string, challenge = 'Bearer') =>
  new FhirError(401, 'login', msg, { headers: { 'WWW-Authenticate': challenge } });
export const tooLarge = (msg: string) => new FhirError(413, 'too-costly', msg);
export const notAcceptable = (msg: string) => new FhirError(406, 'not-supported', msg);
export const unsupportedMediaType = (msg: string) => new FhirError(415, 'not-supported', msg);
export const tooManyRequests = (msg: string) => new FhirError(429, 'throttled', msg);
