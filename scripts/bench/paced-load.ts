/**
 * An open-loop HTTP load at a fixed rate, for the "p99 at N req/s" figures. autocannon's rate limit
 * sends each connection's share of a second back to back at the start of the second (so 500 req/s
 * arrives as one burst of 500), and its coordinated-omission correction takes the interval between
 * requests as ceil(1 / rate per connection) = 1 ms, adding a made-up sample for each millisecond a
 * response took beyond the first (autocannon 8, lib/run.js): both inflate the tail it reports. Here
 * request i is due at start + i / rate, spread evenly, sent on a keep-alive pool of `connections`
 * sockets (over several base URLs in turn), and its latency runs from when it was due, so a request
 * held back by a full pool or a late timer counts its wait: no coordinated omission, and no samples
 * that were not measured.
 */
import http from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { EVENT_LOOP_RESOLUTION_MS, loopDelayMs } from "../../node-service/src/api/prometheus";

export interface PacedResult {
  /** Requests answered per second over the run. */
  rps: number;
  /** Latencies from each request's due time to its last response byte, in ms (nearest rank). */
  p50: number;
  p99: number;
  total: number;
  /** Answers other than 2xx, and requests that failed. */
  non2xx: number;
  /** This (the client's) event loop's delay during the run, p99 and max in ms: a late client counts its lateness. */
  clientLoop: { p99: number; max: number };
}

/** The p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function pacedLoad(opts: {
  urls: string[];
  rate: number;
  durationS: number;
  connections: number;
  headers?: Record<string, string>;
}): Promise<PacedResult> {
  const { urls, rate, durationS } = opts;
  const agents = urls.map(() => new http.Agent({ keepAlive: true, maxSockets: Math.max(1, Math.floor(opts.connections / urls.length)) }));
  const latencies: number[] = [];
  let non2xx = 0;
  const count = Math.round(rate * durationS);
  const sent: Promise<void>[] = [];

  const send = (i: number, due: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = http.get(urls[i % urls.length], { agent: agents[i % urls.length], headers: opts.headers }, (res) => {
        if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) non2xx++;
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - due);
          resolve();
        });
        res.on("error", () => {
          non2xx++;
          resolve();
        });
      });
      req.on("error", () => {
        non2xx++;
        resolve();
      });
    });

  const loop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  loop.enable();
  const start = performance.now();
  for (let i = 0; i < count;) {
    const now = performance.now();
    // Every request due by now goes out (a late timer sends the ones it owes at once; their wait counts).
    while (i < count && start + (i * 1000) / rate <= now) {
      sent.push(send(i, start + (i * 1000) / rate));
      i++;
    }
    if (i < count) await new Promise((r) => setTimeout(r, Math.max(0, start + (i * 1000) / rate - performance.now())));
  }
  await Promise.all(sent);
  const elapsedS = (performance.now() - start) / 1000;
  loop.disable();
  for (const a of agents) a.destroy();
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    rps: latencies.length / elapsedS,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    total: count,
    non2xx,
    clientLoop: { p99: loopDelayMs(loop.percentile(99)), max: loopDelayMs(loop.max) },
  };
}
