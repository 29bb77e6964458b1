// Clients' JWK Sets fetched from their registered JWKS URL (SMART Backend Services "JWKS URL"):
// https only (http only on loopback, for development), no redirects, 5 s timeout, 64 KiB cap,
// cached as long as Cache-Control max-age allows (default 5 min, at most 1 day), and re-fetched
// at most once a minute when an unknown kid turns up (key rotation at the client).
import type { JWK } from 'jose';

const MAX_BYTES = 64 * 1024;
const DEFAULT_TTL = 300;
const MAX_TTL = 86_400;
const REFETCH_COOLDOWN_MS = 60_000;

interface Entry { keys: JWK[]; fetchedAt: number; expiresAt: number }

function loopback(u: URL): boolean {
  return u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
}

function maxAge(cacheControl: string | null): number {
  if (!cacheControl) return DEFAULT_TTL;
  if (/\b(no-store|no-cache)\b/i.test(cacheControl)) return 0;
  const m = /\bmax-age=(\d+)/i.exec(cacheControl);
  return m ? Math.min(Number(m[1]), MAX_TTL) : DEFAULT_TTL;
}

export class ClientJwksCache {
  private entries = new Map<string, Entry>();
  private inflight = new Map<string, Promise<Entry>>();

  /** The keys at `url`; `refresh` asks for a fresh copy (unknown kid), honoured once a minute. */
  async get(url: string, refresh = false): Promise<JWK[]> {
    const now = Date.now();
    const e = this.entries.get(url);
    if (e && now < e.expiresAt && !(refresh && now - e.fetchedAt > REFETCH_COOLDOWN_MS)) return e.keys;
    let p = this.inflight.get(url);
    if (!p) {
      p = fetchJwks(url).finally(() => this.inflight.delete(url));
      this.inflight.set(url, p);
    }
    try {
      const fresh = await p;
      this.entries.set(url, fresh);
      return fresh.keys;
    } catch (err) {
      if (e) return e.keys; // a failing JWKS host does not erase keys already known
      throw err;
    }
  }
}

async function fetchJwks(url: string): Promise<Entry> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback(u))) throw new Error('JWKS URL must use https');
  const res = await fetch(u, { redirect: 'error', signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`JWKS URL answered ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_BYTES) throw new Error('JWKS too large');
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new Error('JWKS too large');
    }
    chunks.push(value);
  }
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
  const now = Date.now();
  return { keys: body.keys as JWK[], fetchedAt: now, expiresAt: now + maxAge(res.headers.get('cache-control')) * 1000 };
}
