// FhirResponse → HTTP: status, headers, JSON text (stored text passes through untouched unless
// `_pretty=true` asks for indentation), HEAD without a body.
import type { Response } from 'express';
import type { FhirResponse } from '../fhir/types.js';
import type { JsonFlavour } from './negotiate.js';
import { parseJson } from '../json/parse.js';
import { stringifyJson } from '../json/stringify.js';

export function send(res: Response, r: FhirResponse, flavour: JsonFlavour, opts: { pretty?: boolean; head?: boolean } = {}): void {
  res.status(r.status);
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  let text = r.raw ?? (r.body !== undefined ? JSON.stringify(r.body) : undefined);
  if (text === undefined || r.status === 204 || r.status === 304) {
    res.end();
    return;
  }
  // Indented from the parsed text with its numbers' lexemes kept: a decimal's precision survives _pretty.
  if (opts.pretty) text = stringifyJson(parseJson(text), 2);
  res.setHeader('Content-Type', `${flavour}; charset=utf-8`);
  if (opts.head) {
    res.setHeader('Content-Length', Buffer.byteLength(text));
    res.end();
    return;
  }
  res.end(text);
}
