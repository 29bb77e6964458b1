// The key that signs audit checkpoints and archive anchors (Ed25519, node:crypto). It lives outside the
// database, so whoever can rewrite the audit tables (a superuser) still cannot forge a signed head: only
// an external anchor reveals a truncated tail or a recomputed chain (patterns §3.2–3.3).
// AUDIT_SIGNING_KEY_FILE (PEM PKCS#8), else DATA_DIR/secrets/audit-signing.pem generated (0600) on first
// use. Verification trusts the current public key plus every retired one: AUDIT_TRUSTED_KEYS_FILE, else
// DATA_DIR/secrets/audit-signing-trusted.json (rotation appends to it).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedRecord } from '../store/audit-read.js';

export interface Signer {
  keyId: string;
  sign(payload: string): SignedRecord;
}

export interface TrustedKeys {
  has(keyId: string): boolean;
  verify(r: SignedRecord): boolean;
}

export function keyIdOf(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

interface KeyPaths { keyFile: string; trustedFile: string; generated: boolean }

export function keyPaths(dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyPaths {
  const secrets = join(dataDir, 'secrets');
  return {
    keyFile: env.AUDIT_SIGNING_KEY_FILE || join(secrets, 'audit-signing.pem'),
    trustedFile: env.AUDIT_TRUSTED_KEYS_FILE || join(secrets, 'audit-signing-trusted.json'),
    generated: !env.AUDIT_SIGNING_KEY_FILE,
  };
}

function readTrusted(file: string): string[] {
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: string[] };
  return parsed.keys ?? [];
}

function writeTrusted(file: string, pems: string[]): void {
  writeFileSync(file, JSON.stringify({ keys: [...new Set(pems)] }, null, 1) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

function generate(paths: KeyPaths): void {
  mkdirSync(join(paths.keyFile, '..'), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(paths.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(paths.keyFile, 0o600);
  writeTrusted(paths.trustedFile, [...readTrusted(paths.trustedFile), publicKey.export({ type: 'spki', format: 'pem' }) as string]);
}

/** The signing key (generated into DATA_DIR when no file is configured). */
export function loadSigner(dataDir: string, env: NodeJS.ProcessEnv = process.env): Signer {
  const paths = keyPaths(dataDir, env);
  if (!existsSync(paths.keyFile)) {
    if (!paths.generated) throw new Error(`AUDIT_SIGNING_KEY_FILE ${paths.keyFile} does not exist`);
    generate(paths);
  }
  const privateKey = createPrivateKey(readFileSync(paths.keyFile));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the audit signing key must be an Ed25519 key');
  const keyId = keyIdOf(createPublicKey(privateKey));
  return { keyId, sign: (payload) => ({ payload, keyId, signature: sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64') }) };
}

/** Public keys whose signatures `audit verify` accepts: the current one and every retired one. */
export function loadTrustedKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): TrustedKeys {
  const paths = keyPaths(dataDir, env);
  const keys = new Map<string, KeyObject>();
  for (const pem of readTrusted(paths.trustedFile)) {
    const k = createPublicKey(pem);
    keys.set(keyIdOf(k), k);
  }
  if (existsSync(paths.keyFile)) {
    const k = createPublicKey(createPrivateKey(readFileSync(paths.keyFile)));
    keys.set(keyIdOf(k), k);
  }
  return {
    has: (id) => keys.has(id),
    verify: (r) => {
      const k = keys.get(r.keyId);
      if (!k) return false;
      try {
        return verify(null, Buffer.from(r.payload, 'utf8'), k, Buffer.from(r.signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

/** Rotation of a generated key: the old private key is destroyed, its public key stays trusted. */
export function rotateSigningKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Signer {
  const paths = keyPaths(dataDir, env);
  if (!paths.generated) throw new Error('AUDIT_SIGNING_KEY_FILE is configured: rotate by pointing it at a new key and adding the old public key to AUDIT_TRUSTED_KEYS_FILE');
  if (existsSync(paths.keyFile)) {
    const old = createPrivateKey(readFileSync(paths.keyFile));
    const pub = createPublicKey(old);
    writeTrusted(paths.trustedFile, [...readTrusted(paths.trustedFile), pub.export({ type: 'spki', format: 'pem' }) as string]);
    unlinkSync(paths.keyFile); // a retired private key could still sign "old" checkpoints: it is destroyed
  }
  return loadSigner(dataDir, env);
}
