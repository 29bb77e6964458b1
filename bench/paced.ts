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
import { Agent, request } from 'node:http';

export interface PacedResult {
  /** Answers per second over the run (below `rate` when the server could not keep up). */
  reqPerSec: number;
  p50ms: number;
  p90ms: number;
  p99ms: number;
  errors: number;
  total: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(2) : 0);

/** Offers `rate` requests per second for `seconds` to `base` (http://host:port), paths from `nextPath`. */
export async function paced(base: string, nextPath: () => string, opts: { rate: number; seconds: number; connections: number }): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const { hostname, port } = new URL(base);
  const total = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  let errors = 0;
  let answered = 0;
  const start = performance.now() + 5;
  const one = (due: number) => new Promise<void>((resolve) => {
    const req = request({ agent, hostname, port, path: nextPath(), method: 'GET', headers: { accept: 'application/fhir+json' } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        latencies.push(performance.now() - due);
        if (res.statusCode !== 200) errors++;
        answered++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
  const pending: Array<Promise<void>> = [];
  let sent = 0;
  // A timer loop sends whatever has fallen due since the last tick (setTimeout's granularity is ~1 ms).
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / opts.rate <= now) {
        pending.push(one(start + (sent * 1000) / opts.rate));
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / opts.rate - performance.now()));
      else done();
    };
    setTimeout(tick, 5);
  });
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    reqPerSec: Math.round(answered / elapsed),
    p50ms: percentile(latencies, 0.5),
    p90ms: percentile(latencies, 0.9),
    p99ms: percentile(latencies, 0.99),
    errors,
    total: answered,
  };
}
