// OAuth client-side helpers for the tests: PKCE pairs, client assertions (RFC 7523), form posts to
// the token endpoint, and a cookie-keeping HTTP "browser" that walks the sign-in forms without
// Chromium (for the many token-endpoint refusals that need a fresh code each).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = `${randomUUID()}-${randomUUID()}`;
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface ClientKey { alg: 'RS384' | 'ES384'; kid: string; privateKey: CryptoKey; publicJwk: JWK }

export async function clientKey(alg: 'RS384' | 'ES384'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomBytes(8).toString('hex');
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function assertion(clientId: string, key: ClientKey, aud: string, o: { exp?: number; jti?: string; iss?: string; jku?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: o.jti ?? randomBytes(32).toString('hex') })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...(o.jku ? { jku: o.jku } : {}) })
    .setIssuer(o.iss ?? clientId).setSubject(clientId).setAudience(aud).setExpirationTime(o.exp ?? now + 300)
    .sign(key.privateKey);
}

export interface Posted { status: number; headers: Headers; json: any; text: string }

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Posted> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers }, body: new URLSearchParams(form).toString() });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

export const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });

/** A minimal cookie-keeping browser over fetch, following redirects by hand. */
export class HttpBrowser {
  private jar = new Map<string, string>();
  constructor(private readonly base: string) {}

  private cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, url: string, form?: Record<string, string | string[]>): Promise<{ status: number; location?: string; html: string; url: string }> {
    const abs = new URL(url, this.base).toString();
    let body: string | undefined;
    if (form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
      body = p.toString();
    }
    const res = await fetch(abs, { method, redirect: 'manual', body, headers: { cookie: this.cookieHeader(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const v = pair.slice(eq + 1);
      if (/Max-Age=0/i.test(c) || v === '') this.jar.delete(pair.slice(0, eq));
      else this.jar.set(pair.slice(0, eq), v);
    }
    return { status: res.status, location: res.headers.get('location') ?? undefined, html: await res.text(), url: abs };
  }

  /** GETs `url`, following redirects that stay on the server; returns the final page or the outside Location. */
  async go(url: string, method = 'GET', form?: Record<string, string | string[]>): Promise<{ status: number; html: string; url: string; outside?: URL }> {
    let r = await this.request(method, url, form);
    for (let i = 0; i < 10 && r.location; i++) {
      const next = new URL(r.location, r.url);
      if (next.origin !== new URL(this.base).origin) return { ...r, outside: next };
      r = await this.request('GET', next.toString());
    }
    return r;
  }
}

export function field(html: string, name: string): string | undefined {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  return m?.[1].replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d)));
}

export function checkboxes(html: string, name = 'scope'): Array<{ value: string; checked: boolean }> {
  const out: Array<{ value: string; checked: boolean }> = [];
  const re = new RegExp(`<input type="checkbox" name="${name}" value="([^"]*)"( checked)?>`, 'g');
  for (let m = re.exec(html); m; m = re.exec(html)) out.push({ value: m[1].replace(/&#(\d+);/g, (_, d) => String.fromCharCode(Number(d))), checked: !!m[2] });
  return out;
}

export interface SignIn { username: string; password: string; otp?: string; patient?: string; grant?: (offered: Array<{ value: string; checked: boolean }>) => string[] }

/** Walks authorize → sign-in → (patient) → consent with HttpBrowser; returns the redirect back to the app. */
export async function authorizeOverHttp(base: string, query: Record<string, string>, who: SignIn, browser = new HttpBrowser(base)): Promise<URL> {
  let page = await browser.go(`/auth/authorize?${new URLSearchParams(query)}`);
  for (let step = 0; step < 6 && !page.outside; step++) {
    const req = field(page.html, 'req') ?? '';
    if (page.html.includes('name="password"')) page = await browser.go('/auth/login', 'POST', { req, username: who.username, password: who.password });
    else if (page.html.includes('name="otp"')) page = await browser.go('/auth/otp', 'POST', { req, otp: who.otp ?? '' });
    else if (page.html.includes('name="patient"')) page = await browser.go('/auth/patient', 'POST', { req, patient: who.patient ?? '' });
    else if (page.html.includes('action="/auth/consent"')) {
      const offered = checkboxes(page.html);
      const scope = who.grant ? who.grant(offered) : offered.filter((o) => o.checked).map((o) => o.value);
      page = await browser.go('/auth/consent', 'POST', { req, scope });
    } else throw new Error(`unexpected page: ${page.status} ${page.html.slice(0, 300)}`);
  }
  if (!page.outside) throw new Error(`no redirect back to the app: ${page.status} ${page.html.slice(0, 300)}`);
  return page.outside;
}
