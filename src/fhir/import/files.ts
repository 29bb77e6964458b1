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

function walk(dir: string, out: ImportFile[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue; // editor and OS droppings (.DS_Store, .#file)
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) walk(path, out);
    else if (st.isFile()) {
      const f = describe(path, st.size, false);
      if (f) out.push(f);
    }
  }
}

/**
 * Every file to import, in order: the paths as given, each folder expanded in place. A path that does not
 * exist is the operator's mistake and stops the import before anything is written.
 */
export function listImportFiles(paths: string[]): ImportFile[] {
  const out: ImportFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`no such file or folder: ${p}`);
    }
    if (st.isDirectory()) walk(p, out);
    else {
      const f = describe(p, st.size, true);
      if (f) out.push(f);
    }
  }
  return out;
}

