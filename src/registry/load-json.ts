// Reads frozen data files under capability/ once (the registry is data: ../shared/STYLE.md, Blaze's lesson).
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const CAPABILITY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'capability');

export function loadCapabilityJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(join(CAPABILITY_DIR, relativePath), 'utf8')) as T;
}

/** A value computed on first use and kept (registry data never changes while the process runs). */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
