// An open-loop load at a fixed rate (the search issue's "≥ 1,000 requests/s … p50 ≤ 5 ms, p99 ≤ 30 ms"):
// request i is due at start + i / rate, spread evenly, whatever the answers before it did, over at most
// `connections` keep-alive connections. Its latency runs from when it was due, not from when a free
// connection took it, so a slow server is charged for the queue it causes (wrk2's correction for
// coordinated omission).
//
// Why not autocannon's overallRate: it gives each connection a quota per second and sends it back to back
// at the start of the second (lib/httpClient.js: `reqsMadeThisSecond`, reset by a 1 s interval), so its
// "1,000 req/s" is a saturating closed loop for most of each second and idle for the rest. Measured
// here, ×1 mix: at an offered 100 req/s its p50 was 9 ms, while each query alone answers in 3–4 ms.
//
// The client shares the server's 2 cores, so it is kept lean: plain sockets, requests written as one
// string, answers framed by Content-Length (or chunked encoding) without building a response object.
// node:http's client cost 166–239 µs of CPU per request here, 17–24 % of the machine at 1,000 req/s.
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PacedResult {
  /** Answers per second over the run (below `rate` when the server could not keep up). */
  reqPerSec: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  errors: number;
  total: number;
  /** The same figures per query shape (shapeOf): the issue asks p50 and p99 of each query, not of the mix. */
  byShape: Record<string, { total: number; p50ms: number; p99ms: number }>;
}

/** A path's shape: the path and its parameter names, values left out (`/fhir/Observation?patient&code`). */
export function shapeOf(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  return `${path.slice(0, q)}?${path.slice(q + 1).split('&').map((kv) => kv.split('=')[0]).join('&')}`;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(2) : 0);

/** Where one answer ends in `buf` (HTTP/1.1 framing, RFC 9112 §6), or -1 while it is incomplete. */
export function answerEnd(buf: Buffer): number {
  const head = buf.indexOf('\r\n\r\n');
  if (head < 0) return -1;
  const headers = buf.toString('latin1', 0, head).toLowerCase();
  const len = /\r\ncontent-length:\s*(\d+)/.exec(headers);
  if (len) {
    const end = head + 4 + Number(len[1]);
    return buf.length >= end ? end : -1;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(headers)) {
    let at = head + 4;
    for (;;) {
      const line = buf.indexOf('\r\n', at);
      if (line < 0) return -1;
      const size = parseInt(buf.toString('latin1', at, line), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      const next = line + 2 + size + 2;
      if (buf.length < next) return -1;
      if (size === 0) return next;
      at = next;
    }
  }
  return head + 4; // no body (204, 304)
}

interface Conn { socket: Socket; buf: Buffer; due: number; shape: string; busy: boolean; dead?: boolean }

/** Offers `rate` requests per second for `seconds` to `base` (http://host:port), paths from `nextPath`. */
export async function paced(base: string, nextPath: () => string, opts: { rate: number; seconds: number; connections: number }): Promise<PacedResult> {
  const { hostname, port } = new URL(base);
  const host = `${hostname}:${port}`;
  const total = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  const byShape = new Map<string, number[]>();
  let errors = 0;
  let answered = 0;
  let sent = 0;
  /** Requests fallen due while every connection was busy: their due times, oldest first. */
  const queue: number[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const settle = () => { if (answered + errors === total) finish(); };

  const send = (c: Conn, due: number) => {
    c.busy = true;
    c.due = due;
    const path = nextPath();
    c.shape = shapeOf(path);
    c.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/fhir+json\r\n\r\n`);
  };
  const conns: Conn[] = await Promise.all(Array.from({ length: opts.connections }, () => new Promise<Conn>((resolve, reject) => {
    const c: Conn = { socket: connect({ host: hostname, port: Number(port), noDelay: true }), buf: Buffer.alloc(0), due: 0, shape: '', busy: false };
    c.socket.once('connect', () => resolve(c));
    c.socket.once('error', reject);
  })));
  for (const c of conns) {
    c.socket.on('data', (d: Buffer) => {
      c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
      const end = answerEnd(c.buf);
      if (end < 0) return;
      if (c.buf.toString('latin1', 9, 12) === '200') {
        const ms = performance.now() - c.due;
        latencies.push(ms);
        let own = byShape.get(c.shape);
        if (!own) byShape.set(c.shape, (own = []));
        own.push(ms);
        answered++;
      } else errors++;
      c.buf = c.buf.subarray(end);
      c.busy = false;
      const next = queue.shift();
      if (next !== undefined) send(c, next);
      settle();
    });
    c.socket.on('error', () => {
      if (c.dead) return;
      if (c.busy) errors++;
      c.dead = c.busy = true; // never chosen again
      if (conns.every((x) => x.dead)) { errors += queue.length + total - sent; queue.length = 0; sent = total; }
      settle();
    });
  }

  const start = performance.now() + 5;
  // A timer loop sends whatever has fallen due since the last tick (setTimeout's granularity is ~1 ms).
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / opts.rate <= now) {
        const due = start + (sent * 1000) / opts.rate;
        const free = conns.find((c) => !c.busy);
        if (free) send(free, due);
        else queue.push(due);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / opts.rate - performance.now()));
      else done();
    };
    setTimeout(tick, 5);
  });
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.socket.destroy();
  latencies.sort((a, b) => a - b);
  return {
    reqPerSec: Math.round(answered / elapsed),
    p50ms: percentile(latencies, 0.5),
    p90ms: percentile(latencies, 0.9),
    p99ms: percentile(latencies, 0.99),
    errors,
    total: answered,
    byShape: Object.fromEntries([...byShape].map(([k, v]) => {
      v.sort((a, b) => a - b);
      return [k, { total: v.length, p50ms: percentile(v, 0.5), p99ms: percentile(v, 0.99) }];
    })),
  };
}

/**
 * paced() in a fresh node process (bench/paced-child.ts), offering `paths` in order: the caller's own
 * garbage collection then cannot delay the client and be counted as the server's latency.
 */
export async function pacedInChild(base: string, paths: string[], opts: { rate: number; seconds: number; connections: number }): Promise<PacedResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./paced-child.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin.end(JSON.stringify({ base, paths, ...opts }));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`paced-child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as PacedResult;
}
