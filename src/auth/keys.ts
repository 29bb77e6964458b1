// The key ring: RS256 keys that sign id_tokens (OpenID Connect Core §3.1.3.7: RS256 required by
// SMART/Inferno) and access tokens (RFC 9068 `at+jwt`). Generated on first start and kept in the
// database, or loaded from SIGNING_KEY_FILE (PEM PKCS#8 or a private JWK); the JWKS at
// /auth/jwks publishes the current and previous keys so rotation never breaks issued tokens.
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Db } from '../store/session.js';
import { insertFirstKey, publishedKeys, rotateKeys, type KeyRecord } from '../store/auth-keys.js';

export const SIGNING_ALG = 'RS256';

interface LoadedKey { kid: string; privateKey: CryptoKey | KeyObject; publicKey: KeyObject; publicJwk: JWK }

export class KeyRing {
  private current!: LoadedKey;
  private byKid = new Map<string, LoadedKey>();
  private jwks: { keys: JWK[] } = { keys: [] };
  /** Incremented by every load(): caches of verified tokens are dropped when it changes. */
  generation = 0;

  constructor(private readonly db: Db, private readonly keyFile?: string) {}

  async load(): Promise<void> {
    const loaded: LoadedKey[] = [];
    let current: LoadedKey | undefined;
    if (this.keyFile) {
      current = await fromFile(this.keyFile);
      loaded.push(current);
    }
    let records = await publishedKeys(this.db);
    if (!records.some((r) => r.status === 'current')) {
      await insertFirstKey(this.db, await newKey());
      records = await publishedKeys(this.db);
    }
    for (const r of records) {
      const k = await fromRecord(r);
      if (r.status === 'current' && !current) current = k;
      if (!loaded.some((x) => x.kid === k.kid)) loaded.push(k);
    }
    this.current = current!;
    this.byKid = new Map(loaded.map((k) => [k.kid, k]));
    this.jwks = { keys: loaded.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALG, use: 'sig' })) };
    this.generation++;
  }

  /** Makes a new current key; the old current stays published as previous. */
  async rotate(): Promise<void> {
    await rotateKeys(this.db, await newKey());
    await this.load();
  }

  signingKey(): { kid: string; key: CryptoKey | KeyObject } {
    return { kid: this.current.kid, key: this.current.privateKey };
  }

  verificationKey(kid: string | undefined): KeyObject | undefined {
    return kid ? this.byKid.get(kid)?.publicKey : undefined;
  }

  publicJwks(): { keys: JWK[] } {
    return this.jwks;
  }
}

async function newKey(): Promise<Omit<KeyRecord, 'status'>> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg: SIGNING_ALG, privateJwk: privateJwk as Record<string, unknown>, publicJwk: publicJwk as Record<string, unknown> };
}

async function fromRecord(r: KeyRecord): Promise<LoadedKey> {
  const privateKey = (await importJWK(r.privateJwk as JWK, SIGNING_ALG)) as CryptoKey | KeyObject;
  const publicKey = createPublicKey({ key: r.publicJwk as never, format: 'jwk' });
  return { kid: r.kid, privateKey, publicKey, publicJwk: r.publicJwk as JWK };
}

async function fromFile(path: string): Promise<LoadedKey> {
  const text = readFileSync(path, 'utf8').trim();
  const privateKey = text.startsWith('{')
    ? ((await importJWK(JSON.parse(text) as JWK, SIGNING_ALG)) as CryptoKey | KeyObject)
    : await importPKCS8(text, SIGNING_ALG, { extractable: true });
  const full = await exportJWK(privateKey);
  const publicJwk: JWK = { kty: full.kty, n: full.n, e: full.e };
  if (publicJwk.kty !== 'RSA') throw new Error('SIGNING_KEY_FILE must hold an RSA private key (RS256)');
  const publicKey = createPublicKey({ key: publicJwk as never, format: 'jwk' });
  return { kid: await calculateJwkThumbprint(publicJwk), privateKey, publicKey, publicJwk };
}
