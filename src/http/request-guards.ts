// Checks on a request's framing, made before its body is read.
import type { NextFunction, Request, Response } from 'express';
import { badRequest, tooLarge } from '../errors.js';

/**
 * RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request
 * message that lacks a Host header field". Node's own answer has no body (client-errors.ts turns it off).
 */
export function requireHost(req: Request, _res: Response, next: NextFunction): void {
  if (req.httpVersion === '1.1' && req.headers.host === undefined) next(badRequest('an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)'));
  else next();
}

/**
 * A body whose declared Content-Length is over the limit is refused at once (RFC 9110 §15.5.14, 413),
 * before any of it is read: the body parser would otherwise wait for every declared byte before
 * answering, and a client that declares more than it sends would wait for ever. What the client
 * still sends is read and discarded by node, so the client can read the answer while it sends.
 */
export function refuseDeclaredOversize(limit: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      next(tooLarge(`the request body (Content-Length ${declared}) is larger than this server accepts (${limit} bytes)`));
    } else next();
  };
}
