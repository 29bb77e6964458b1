// Plain HTTP against a test server, keeping status, headers and parsed JSON (tests assert all three).
import assert from 'node:assert/strict';
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${base}/${path}`, {
    method,
    headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The reply is an OperationOutcome with this status (and, if given, text matching `pattern`). */
export function assertOutcome(r: Reply, status: number, pattern?: RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.text);
  if (pattern) assert.match(r.text, pattern);
}

/** POSTs a batch or transaction Bundle of these entries to the base. */
export const postBundle = (base: string, type: 'transaction' | 'batch', entry: unknown[], headers: Record<string, string> = {}) =>
  call(base, 'POST', '', { resourceType: 'Bundle', type, entry }, headers);

/** The current meta.versionId at `path`, or undefined. */
export const versionAt = async (base: string, path: string) =>
  (await call(base, 'GET', path)).json?.meta?.versionId as string | undefined;
