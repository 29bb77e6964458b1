// Raw HTTP/1.1 over node:net, for requests fetch would normalise or refuse to send (CONNECT, no Host,
// a Content-Length that does not match the body, bytes that are not UTF-8).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { TestServer } from '../helpers/server.js';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: any;
  /** Interim (1xx) status codes received before the final answer. */
  interim: number[];
}

/**
 * Sends `parts` in order and resolves with the first final response, complete by its Content-Length
 * (or by the connection closing); rejects after `timeoutMs`, which is how a hang shows.
 */
export function rawRequest(port: number, parts: Array<string | Buffer>, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const interim: number[] = [];
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no complete answer within ${timeoutMs} ms: ${data.toString('latin1').slice(0, 200)}`)); }, timeoutMs);
    const tryParse = (closed: boolean): RawReply | undefined => {
      for (;;) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return undefined;
        const lines = data.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(lines[0]!.split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        if (status >= 100 && status < 200) {
          interim.push(status);
          data = data.subarray(end + 4);
          continue;
        }
        const rest = data.subarray(end + 4);
        const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
        if (length === undefined ? !closed : rest.length < length) return undefined;
        const body = rest.subarray(0, length ?? rest.length).toString('utf8');
        let json: unknown;
        try { json = body ? JSON.parse(body) : undefined; } catch { json = undefined; }
        return { status, headers, body, json, interim };
      }
    };
    const finish = (closed: boolean) => {
      const r = tryParse(closed);
      if (r) { clearTimeout(timer); socket.destroy(); resolve(r); }
      else if (closed) { clearTimeout(timer); reject(new Error(`connection closed without an answer: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`)); }
    };
    socket.on('connect', () => { for (const p of parts) socket.write(p); });
    socket.on('data', (c) => { data = Buffer.concat([data, c]); finish(false); });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
  });
}

/** A request head; `headers` are written as given (a value may hold further `\r\n`-joined lines). */
export function head(line: string, headers: Record<string, string | number> = {}): string {
  return `${line}\r\n${Object.entries({ Host: 'localhost', ...headers }).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

/** Opens a connection, writes `parts`, and drops it after `ms` without waiting for an answer. */
export function sendAndDrop(port: number, parts: Array<string | Buffer>, ms = 20): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      for (const p of parts) socket.write(p);
      setTimeout(() => { socket.destroy(); resolve(); }, ms);
    });
    socket.on('error', () => resolve());
  });
}

/** An OperationOutcome answer: this status, FHIR JSON, at least one issue, no HTML page and no stack trace. */
export function assertOutcome(r: RawReply, status: number): void {
  assert.equal(r.status, status, r.body);
  assert.match(r.headers['content-type'] ?? '', /^application\/fhir\+json/, r.body);
  assert.equal(r.json?.resourceType, 'OperationOutcome', r.body);
  assert.ok(r.json.issue.length >= 1);
  assert.doesNotMatch(r.body, /<html|at .*\.[jt]s:\d+|node:internal/i);
}

/** How many Patients are stored (nothing written by a refused request). */
export async function countPatients(server: TestServer): Promise<number> {
  const r = await server.db.pool.query(`select count(*)::int as n from fhir.resource where type = 'Patient'`);
  return r.rows[0].n;
}
