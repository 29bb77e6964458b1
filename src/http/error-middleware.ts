// The one place errors become HTTP: a FhirError keeps its status and issues; body-parser errors (too
// large, bad encoding) map to 413/400; anything else is a 500 OperationOutcome with no stack trace,
// logged without request data.
import type { NextFunction, Request, Response } from 'express';
import { FhirError } from '../errors.js';
import { outcome } from '../fhir/outcome.js';
import type { Logger } from '../log.js';

export function toFhirError(err: unknown): FhirError | undefined {
  if (err instanceof FhirError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number };
  if (e?.type === 'entity.too.large') return new FhirError(413, 'too-costly', 'the request body is larger than this server accepts');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new FhirError(415, 'not-supported', 'unsupported body encoding');
  if (e?.type === 'request.aborted') return new FhirError(400, 'incomplete', 'the request was aborted');
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new FhirError(status, 'invalid', 'the request could not be read');
  return undefined;
}

/**
 * A URL no route answers (outside /fhir, or `//fhir//…`, `OPTIONS *`): a 404 OperationOutcome, not
 * Express's HTML page (R4 http.html "Status codes").
 */
export function noSuchEndpoint(_req: Request, _res: Response, next: NextFunction): void {
  next(new FhirError(404, 'not-found', 'there is no endpoint at this URL; the FHIR API is under /fhir'));
}

export function errorMiddleware(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let fe = toFhirError(err);
    if (!fe) {
      log.error({ err: { message: (err as Error)?.message?.slice(0, 300), name: (err as Error)?.name }, method: req.method }, 'internal error');
      fe = new FhirError(500, 'exception', 'internal server error');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(fe.status);
    for (const [k, v] of Object.entries(fe.headers)) res.setHeader(k, v);
    res.setHeader('Content-Type', 'application/fhir+json; charset=utf-8');
    res.end(JSON.stringify(outcome(fe.issues)));
  };
}
