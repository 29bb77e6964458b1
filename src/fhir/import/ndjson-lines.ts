// The lines of an NDJSON file (Bulk Data's format: one resource per line, LF or CRLF ended), streamed, through
// gunzip for `.gz`. A read or gunzip failure (a truncated download, a file that is not gzip, EACCES) rejects
// the iteration, where the importer reports it against the file; it never escapes as an uncaught error.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export async function* ndjsonLines(path: string, gzip: boolean): AsyncGenerator<string> {
  const raw = createReadStream(path);
  let input: Readable = raw;
  if (gzip) {
    const gunzip = createGunzip();
    // pipe() does not forward errors: unforwarded, a read error of a .gz file was thrown uncaught (the
    // process died with a stack trace) and the line iteration waited forever.
    raw.on('error', (e) => gunzip.destroy(e));
    input = raw.pipe(gunzip);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let first = true;
  try {
    for await (let line of lines) {
      // A UTF-8 byte order mark (editors on Windows write one) is not part of the first line's JSON.
      if (first && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      first = false;
      yield line;
    }
  } finally {
    lines.close();
    raw.destroy();
  }
}
