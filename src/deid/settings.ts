// De-identification settings and the HMAC key (issue "Logs and secrets": keys come from the environment
// or files, never from the repository, and can be rotated). DEID_HMAC_KEY (at least 32 characters), else
// DEID_HMAC_KEY_FILE, else DATA_DIR/secrets/deid-hmac.key, generated (0600) on first use.
// DEID_MODE: safe-harbor (default; HIPAA §164.514(b)(2)) or date-shift (a per-patient constant shift,
// for limited data sets). DEID_K: the k the k-anonymity report checks against (default 5).
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type DeidMode = 'safe-harbor' | 'date-shift';

export interface DeidSettings {
  mode: DeidMode;
  key: Buffer;
  /** First 12 hex of SHA-256(key): names the key without revealing it; stored with every copy. */
  keyId: string;
  k: number;
  /** Where a generated key lives (rotation writes the next one there). */
  keyFile?: string;
}

const MIN_KEY_CHARS = 32;

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

function keyFromText(text: string, source: string): Buffer {
  const t = text.trim();
  if (t.length < MIN_KEY_CHARS) throw new Error(`${source}: the de-identification key must have at least ${MIN_KEY_CHARS} characters`);
  return Buffer.from(t, 'utf8');
}

/** DATA_DIR/secrets/deid-hmac.key, created with a random key when missing. */
export function generatedKeyFile(dataDir: string): string {
  const dir = join(dataDir, 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'deid-hmac.key');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return file;
}

export function loadDeidSettings(env: NodeJS.ProcessEnv = process.env, dataDir = resolve(env.DATA_DIR ?? './.data')): DeidSettings {
  const mode = (env.DEID_MODE ?? 'safe-harbor') as DeidMode;
  if (mode !== 'safe-harbor' && mode !== 'date-shift') throw new Error(`DEID_MODE must be safe-harbor or date-shift, not '${mode}'`);
  const k = Number(env.DEID_K ?? '5');
  if (!Number.isInteger(k) || k < 2) throw new Error('DEID_K must be an integer of at least 2');
  let key: Buffer;
  let keyFile: string | undefined;
  if (env.DEID_HMAC_KEY) key = keyFromText(env.DEID_HMAC_KEY, 'DEID_HMAC_KEY');
  else {
    keyFile = env.DEID_HMAC_KEY_FILE || generatedKeyFile(dataDir);
    key = keyFromText(readFileSync(keyFile, 'utf8'), keyFile);
  }
  return { mode, key, keyId: keyIdOf(key), k, keyFile };
}

/**
 * Rotation: the key file gets a new random key; the old one is kept beside it as `<file>.<keyId>.retired`
 * (so earlier exports can still be linked by whoever holds it). Pseudonyms change with the key, so the
 * caller rebuilds the de-identified copy (store/deid.ts rebuildDeid) in one transaction per tenant.
 */
export function rotateDeidKey(settings: DeidSettings): DeidSettings {
  if (!settings.keyFile) throw new Error('the key comes from DEID_HMAC_KEY: rotate it by changing the environment');
  renameSync(settings.keyFile, `${settings.keyFile}.${settings.keyId}.retired`);
  writeFileSync(settings.keyFile, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  const key = keyFromText(readFileSync(settings.keyFile, 'utf8'), settings.keyFile);
  return { ...settings, key, keyId: keyIdOf(key) };
}

let current: DeidSettings | undefined;

/**
 * The settings the write path uses (resource-write.ts has no Config in reach): loaded from the
 * environment on first use, or set explicitly at start-up (main) and in tests.
 */
export function deidSettings(): DeidSettings {
  current ??= loadDeidSettings();
  return current;
}

export function setDeidSettings(s: DeidSettings): void {
  current = s;
}
