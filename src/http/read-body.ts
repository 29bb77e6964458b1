// The request body as a Buffer (req.body), its Content-Encoding decoded (RFC 9110 §8.4), up to the server's
// limit. In place of Express's body parser, which reads a refused body to its end before answering: with
// `Transfer-Encoding: chunked` an endless body then held the socket until node's requestTimeout (300 s).
// Here a body is refused (413, RFC 9110 §15.5.14) the moment it crosses the limit, and the rest is not read:
// the answer says `Connection: close` and node closes the connection after it, as RFC 9112 §9.6 allows ("a
// server ... MUST initiate closure of the connection after it sends the response" with the close option;
// §9.3 "a server that chooses not to read the rest of a request body ... closes the connection").
import type { NextFunction, Request, Response } from 'express';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FhirError, badRequest, tooLarge, unsupportedMediaType } from '../errors.js';

/** The codings decoded (RFC 9110 §8.4.1); a stacked or other coding is 415 (§15.5.16). */
const DECODERS: Record<string, () => Transform> = { gzip: createGunzip, deflate: createInflate, br: createBrotliDecompress };

/** RFC 9112 §6.3: a request has a body when it has Transfer-Encoding or Content-Length. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && !Number.isNaN(Number(length)));
}

/**
 * `err` answered before the body was read to its end: the connection is closed after the answer, so the
 * unread rest is never read (a client may send without end); reading stops now (req.pause: node stops
 * reading the socket once the request's buffer is full).
 */
function unread(req: Request, err: FhirError): FhirError {
  if (req.complete) return err;
  req.pause();
  return new FhirError(err.status, err.issues[0]?.code ?? 'invalid', err.message, { issues: err.issues, headers: { ...err.headers, Connection: 'close' } });
}

export function readBody(limit: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!hasBody(req)) return next();
    const coding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    let decoder: Transform | undefined;
    if (coding !== 'identity') {
      const make = DECODERS[coding];
      if (!make) return next(unread(req, unsupportedMediaType(`the content coding '${coding.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}' is not supported (gzip, deflate, br or identity, one of them)`)));
      decoder = make();
    }
    const chunks: Buffer[] = [];
    let wire = 0;
    let size = 0;
    let done = false;
    const finish = (err?: FhirError): void => {
      if (done) return;
      done = true;
      req.off('data', onWire).off('end', onEnd).off('close', onClose);
      if (decoder) {
        decoder.removeAllListeners('data');
        decoder.on('error', () => {}).destroy();
      }
      if (err) return next(unread(req, err));
      req.body = Buffer.concat(chunks, size);
      next();
    };
    const over = () => finish(tooLarge(`the request body is larger than this server accepts (${limit} bytes)`));
    // The limit holds for the decoded body and for the bytes on the wire alike: a coding can produce
    // nothing from endless input (empty deflate blocks), or much from little.
    const take = (c: Buffer): void => {
      size += c.length;
      if (size > limit) return over();
      chunks.push(c);
    };
    const onWire = (c: Buffer): void => {
      wire += c.length;
      if (wire > limit) return over();
      if (decoder) decoder.write(c);
      else take(c);
    };
    const onEnd = (): void => {
      if (decoder) decoder.end();
      else finish();
    };
    // A connection gone before the end of the body: nothing is dispatched (and nobody reads the answer).
    // A request read whole closes too (after 'end'), while its decoder may still be flushing.
    const onClose = (): void => {
      if (!req.complete) finish(new FhirError(400, 'incomplete', 'the request was aborted before its body ended'));
    };
    if (decoder) {
      decoder.on('data', take);
      decoder.on('end', () => finish());
      decoder.on('error', () => finish(badRequest(`the body is not valid ${coding} data (its Content-Encoding)`)));
    }
    req.on('data', onWire).on('end', onEnd).on('close', onClose);
  };
}
