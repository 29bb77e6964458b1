// What `fhirgate import PATH…` reads (../shared/CONTRACT.md "Command line"): FHIR JSON files (one
// resource or one Bundle each) and NDJSON files (one resource per line, as Bulk Data writes them),
// given directly or found in folders. Folders are walked in sorted order, so an import is repeatable.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type ImportFormat = 'json' | 'ndjson';

export interface ImportFile {
  path: string;
  format: ImportFormat;
  /** `.gz`: read through gunzip. */
  gzip: boolean;
  size: number;
}

const NDJSON = /\.(ndjson|jsonl)(\.gz)?$/i;
const JSON_FILE = /\.json(\.gz)?$/i;

/** The format a file name announces; a file named explicitly that announces none is read as JSON. */
export function formatOf(path: string): ImportFormat | undefined {
  if (NDJSON.test(path)) return 'ndjson';
  if (JSON_FILE.test(path)) return 'json';
  return undefined;
}

function describe(path: string, size: number, explicit: boolean): ImportFile | undefined {
  const format = formatOf(path) ?? (explicit ? 'json' : undefined);
  if (!format) return undefined;
  return { path, format, gzip: /\.gz$/i.test(path), size };
}

/** A folder entry that could not be listed or examined (a broken link, no permission): reported, not fatal. */
export interface UnreadablePath {
  file: string;
  message: string;
}

const reason = (e: unknown) => `cannot read: ${(e as { code?: unknown })?.code ?? (e instanceof Error ? e.message.split('\n')[0] : String(e))}`;

function walk(dir: string, out: ImportFile[], unreadable: UnreadablePath[]): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    return void unreadable.push({ file: dir, message: reason(e) });
  }
  for (const name of names) {
    if (name.startsWith('.')) continue; // editor and OS droppings (.DS_Store, .#file)
    const path = join(dir, name);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      // One bad entry (a link to a file since removed) must not cost the folder's other files.
      // Only what would have been imported (or may be a folder) is worth a problem; other names are skipped anyway.
      if (!formatOf(name) && name.includes('.')) continue;
      const broken = (e as { code?: unknown })?.code === 'ENOENT'; // listed, yet not there: a link to nothing
      unreadable.push({ file: path, message: broken ? 'cannot read: a broken link (ENOENT)' : reason(e) });
      continue;
    }
    if (st.isDirectory()) walk(path, out, unreadable);
    else if (st.isFile()) {
      const f = describe(path, st.size, false);
      if (f) out.push(f);
    }
  }
}

/**
 * Every file to import, in order: the paths as given, each folder expanded in place. A path given that does
 * not exist is the operator's mistake and stops the import before anything is written; what cannot be read
 * inside a folder is appended to `unreadable` and left out.
 */
export function listImportFiles(paths: string[], unreadable: UnreadablePath[] = []): ImportFile[] {
  const out: ImportFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      throw new Error(code === 'ENOENT' || code === 'ENOTDIR' ? `no such file or folder: ${p}` : `cannot read ${p}: ${String(code ?? e)}`);
    }
    if (st.isDirectory()) walk(p, out, unreadable);
    else {
      const f = describe(p, st.size, true);
      if (f) out.push(f);
    }
  }
  return out;
}

