/**
 * The few Prometheus series the service exposes, in the text exposition format (version 0.0.4),
 * written here rather than pulling a client library for one histogram and some gauges.
 */

import { monitorEventLoopDelay } from "node:perf_hooks";
import { GCProfiler, getHeapStatistics } from "node:v8";

/** Request latency buckets in seconds: fine below 25 ms, where the API is expected to answer. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return parts.join(",");
}

export class LatencyHistogram {
  private readonly series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(labels: Record<string, string>, seconds: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) s.counts[i]++;
    s.sum += seconds;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      const base = labelText(s.labels);
      const sep = base ? "," : "";
      BUCKETS.forEach((le, i) => lines.push(`${this.name}_bucket{${base}${sep}le="${le}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${base}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${base ? `{${base}}` : ""} ${s.sum}`);
      lines.push(`${this.name}_count${base ? `{${base}}` : ""} ${s.count}`);
    }
    return lines.join("\n");
  }
}

let eventLoop: ReturnType<typeof monitorEventLoopDelay> | undefined;
/** The histogram's timer interval, ms: each sample is that interval plus the delay, so it is taken off. */
export const EVENT_LOOP_RESOLUTION_MS = 10;

/** The delay, in ms, that a monitorEventLoopDelay(EVENT_LOOP_RESOLUTION_MS) value `ns` stands for. */
export function loopDelayMs(ns: number): number {
  return Math.max(0, ns / 1e6 - EVENT_LOOP_RESOLUTION_MS);
}

/**
 * How late the process's event loop ran its turns (a blocked loop delays every request, and a request's
 * own timing, which starts once the loop reads it, does not show it): p50, p99 and max since the
 * previous scrape, in seconds; NaN at the first scrape, which starts the measuring. One scraper per
 * process, as the histogram restarts at each scrape.
 */
export function renderEventLoopDelay(): string {
  if (!eventLoop) {
    eventLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    eventLoop.enable();
  }
  const h = eventLoop;
  const seconds = (ns: number) => (h.count > 0 ? loopDelayMs(ns) / 1000 : NaN);
  const text = [
    gauge("scf_event_loop_delay_p50_seconds", "Median event-loop delay since the previous scrape", seconds(h.percentile(50))),
    gauge("scf_event_loop_delay_p99_seconds", "99th percentile event-loop delay since the previous scrape", seconds(h.percentile(99))),
    gauge("scf_event_loop_delay_max_seconds", "Longest event-loop delay since the previous scrape", seconds(h.max)),
  ].join("\n");
  h.reset();
  return text;
}

/** The label of each kind of collection, by the gcType V8's GC profiler reports. */
const GC_KINDS: Record<string, string> = {
  Scavenge: "minor",
  MinorMarkSweep: "minor",
  MinorMarkCompact: "minor",
  MarkSweepCompact: "major",
  IncrementalMarking: "incremental",
  ProcessWeakCallbacks: "weakcb",
};

/** Pauses of one kind of collection: how many, and how long in all. */
export interface GcPauseTotal {
  count: number;
  seconds: number;
}

/**
 * A process's garbage collections from its start on, from V8's GC profiler, which reports each
 * collection's kind, pause and heap before and after it. The profiler keeps what it saw until it is
 * read, so it is read on `read()` and every 10 s (on a timer that does not keep the process alive): it
 * holds at most that long's collections, about 3 KB each. Used by /metrics and by bench:index.
 */
export class GcWatch {
  private readonly profiler = new GCProfiler();
  private readonly timer: NodeJS.Timeout;
  /** Pauses by kind (minor, major, incremental, weakcb) since the start. */
  readonly pauses = new Map<string, GcPauseTotal>([...new Set(Object.values(GC_KINDS))].map((kind) => [kind, { count: 0, seconds: 0 }]));
  /** V8's heap in use right after the last full collection seen (NaN until one is seen). */
  liveBytes = NaN;

  constructor() {
    this.profiler.start();
    this.timer = setInterval(() => this.read(), 10_000).unref();
  }

  /** Takes in the collections the profiler saw since the last read. */
  read(): this {
    const collections = this.profiler.stop()?.statistics ?? [];
    this.profiler.start();
    for (const c of collections) {
      const total = this.pauses.get(GC_KINDS[c.gcType]);
      if (total) {
        total.count++;
        total.seconds += c.cost / 1e6; // the profiler's cost is in microseconds
      }
      if (c.gcType === "MarkSweepCompact") this.liveBytes = c.afterGC.heapStatistics.usedHeapSize;
    }
    return this;
  }

  /** Reads the last collections and stops watching. */
  stop(): this {
    this.read();
    clearInterval(this.timer);
    this.profiler.stop();
    return this;
  }
}

/** The service's watch, from the first scrape on. */
let gcWatch: GcWatch | undefined;

/**
 * Garbage collection and memory:
 * - how long collection paused the process's JavaScript, by kind (minor: the young generation's
 *   scavenges; major: mark-compact), as counters from the first scrape on: the part of the event loop's
 *   delay that is the collector's (README, bench:api, "Why each request's objects outlived it");
 * - the resident set, the V8 heap in use and its limit (--max-old-space-size, when set), and the heap in
 *   use just after the last full collection since the first scrape: what is still referenced, the live
 *   set that the limit must hold with room to spare (README, "What to monitor").
 */
export function renderGcAndMemory(): string {
  const watch = (gcWatch ??= new GcWatch()).read();
  const series = (name: string, help: string, value: (t: { count: number; seconds: number }) => number) =>
    [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} counter`,
      ...[...watch.pauses].map(([kind, t]) => `${name}{${labelText({ kind })}} ${value(t)}`),
    ].join("\n");
  const heap = getHeapStatistics();
  return [
    series("scf_gc_pause_seconds_total", "Time garbage collection paused this process, by kind, since the first scrape", (t) => t.seconds),
    series("scf_gc_pauses_total", "Garbage-collection pauses of this process, by kind, since the first scrape", (t) => t.count),
    gauge("process_resident_memory_bytes", "Resident memory of this process", process.memoryUsage.rss()),
    gauge("scf_heap_used_bytes", "V8 heap in use now, garbage not yet collected included", heap.used_heap_size),
    gauge("scf_heap_limit_bytes", "V8 heap limit of this process (--max-old-space-size)", heap.heap_size_limit),
    gauge(
      "scf_heap_live_bytes",
      "V8 heap in use just after the last full collection since the first scrape (NaN until one ran): the live set",
      watch.liveBytes,
    ),
  ].join("\n");
}

export function gauge(name: string, help: string, value: number, type: "gauge" | "counter" = "gauge"): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${Number.isFinite(value) ? value : "NaN"}`;
}
