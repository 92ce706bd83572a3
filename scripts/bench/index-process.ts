/**
 * bench:index's indexing process (scripts/bench/index.ts, step 4): indexes the bench's chain into a
 * store of its own and reports what it measured over IPC. It does nothing else, as the service's
 * indexer does, and runs compiled (the bench compiles it at start, as operators run the service from
 * dist/): through ts-node, the TypeScript compiler in the process would add about 100 MB of RSS and
 * 40 MB of heap that the service does not have.
 */
import { getHeapStatistics } from "node:v8";
import pino from "pino";
import { createPublicClient, http, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { GcWatch, type GcPauseTotal } from "../../node-service/src/api/prometheus";
import type { Deployment } from "../../node-service/src/chain/contracts";
import type { IndexState } from "../../node-service/src/domain/entities";
import { createEvidenceService } from "../../node-service/src/evidence/lookup";
import { stateReader } from "../../node-service/src/store/index-reader";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import type { IndexStore } from "../../node-service/src/store/index-store";
import { openDatabase } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { walkedOrderReceivables, walkedUses } from "../lib/evidence-walk";
import { liveHeap } from "../lib/gc";

export interface Commit {
  toBlock: number;
  /** Events in the index after this commit. */
  events: number;
  bytes: number;
  ms: number;
}

export interface IndexRun {
  stats: { eventCount: number; writes: number; writeMsTotal: number };
  ms: number;
  commits: Commit[];
  peakRss: number;
  rssBefore: number;
  maxRss: number;
  /** V8's heap limit in the indexing process (what --max-old-space-size sets). */
  heapLimit: number;
  heapIndexed: number;
  /** The garbage collector's pauses of the main thread while indexing, by kind (minor, major, incremental, weakcb). */
  gc: Record<string, GcPauseTotal>;
  /** The reload of the stored index in the same process (the baseline run only). */
  reload?: { heapReloaded: number; loadMs: number; lookups: LookupCost };
}

/** Median ms of the evidence lookups on the loaded index, keyed (the index's lists) and by the walk they did before. */
export interface LookupCost {
  receivables: number;
  hashKeyedMs: number;
  hashWalkMs: number;
  orderKeyedMs: number;
  orderWalkMs: number;
}

async function medianMs(runs: number, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/**
 * What a court's lookup of an invoice's hash, and of an order's receivables, costs on this index: the
 * keyed reads of the evidence service against the walk over every record the lookups did before (after
 * each new block), both checked to answer the same.
 */
async function lookupCost(state: IndexState, publicClient: PublicClient, deployment: Deployment): Promise<LookupCost> {
  const index = stateReader(state);
  const evidence = createEvidenceService({ publicClient, deployment, index: () => index });
  const root = Object.values(state.receivables).find((r) => !r.parentId);
  if (!root) throw new Error("no receivable to look up");
  const keyed = await evidence.hashUses(root.invoiceHash);
  if (JSON.stringify(keyed) !== JSON.stringify(walkedUses(state, root.invoiceHash)))
    throw new Error("keyed and walked hash lookups differ");
  const orderList = () => (state.receivablesByOrder[root.orderId] ?? []).map((id) => state.receivables[id].id);
  if (JSON.stringify(orderList()) !== JSON.stringify(walkedOrderReceivables(state, root.orderId)))
    throw new Error("keyed and walked order receivables differ");
  return {
    receivables: Object.keys(state.receivables).length,
    hashKeyedMs: await medianMs(21, () => evidence.hashUses(root.invoiceHash)),
    hashWalkMs: await medianMs(21, () => walkedUses(state, root.invoiceHash)),
    orderKeyedMs: await medianMs(21, orderList),
    orderWalkMs: await medianMs(21, () => walkedOrderReceivables(state, root.orderId)),
  };
}

export interface IndexJob {
  /** index: index the chain into a fresh store; start: open the store as a service process starting on it does. */
  mode: "index" | "start";
  url: string;
  deployment: Deployment;
  dataDir: string;
  databaseUrl?: string;
  /** Node.js flags of the indexing process. */
  nodeArgs: string[];
  /** Reload the index afterwards (its time, heap and evidence lookups). */
  reload: boolean;
  /** getLogs range in blocks; the indexer's commitMaxEvents (undefined: the store's). */
  range: number;
  commitEvents?: number;
}

/** What a process starting on an existing store measured while it loaded the index. */
export interface StartRun {
  eventCount: number;
  loadMs: number;
  peakRss: number;
  rssBefore: number;
  maxRss: number;
  heapLimit: number;
  /** Heap the loaded index retains (after a full GC, less the same before). */
  heapLoaded: number;
}

/** Samples the process's RSS every 25 ms until stopped; `stop` gives the highest seen. */
function rssPeak(): { rssBefore: number; stop: () => number } {
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  return {
    rssBefore,
    stop: () => {
      clearInterval(sampler);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/** Opens the store and loads its index, as a service process does when it starts (a restart). */
async function startProcess(job: IndexJob): Promise<StartRun> {
  const publicClient = createPublicClient({ chain: hardhat, transport: http(job.url) }) as PublicClient;
  const db = job.databaseUrl ? await openDatabase(job.databaseUrl) : undefined;
  try {
    const heapBefore = liveHeap();
    const rss = rssPeak();
    const t0 = performance.now();
    const indexer = await createIndexer({
      publicClient,
      deployment: job.deployment,
      dataDir: job.dataDir,
      store: db ? await createPostgresIndexStore(db) : undefined,
      logger: pino({ level: "warn" }),
    });
    const loadMs = performance.now() - t0;
    const peakRss = rss.stop();
    const heapLoaded = liveHeap() - heapBefore;
    const eventCount = indexer.state().eventCount;
    await indexer.stop();
    return {
      eventCount,
      loadMs,
      peakRss,
      rssBefore: rss.rssBefore,
      maxRss: process.resourceUsage().maxRSS * 1024,
      heapLimit: getHeapStatistics().heap_size_limit,
      heapLoaded,
    };
  } finally {
    await db?.close();
  }
}

/** Index, then (job.reload) reload, and report. */
async function indexerProcess(job: IndexJob): Promise<IndexRun> {
  const publicClient = createPublicClient({ chain: hardhat, transport: http(job.url) }) as PublicClient;
  const db = job.databaseUrl ? await openDatabase(job.databaseUrl) : undefined;
  const store = async (): Promise<IndexStore | undefined> => (db ? createPostgresIndexStore(db) : undefined);
  try {
    const heapBefore = liveHeap();
    const rss = rssPeak();
    const indexer = await createIndexer({
      publicClient,
      deployment: job.deployment,
      dataDir: job.dataDir,
      store: await store(),
      maxBlockRange: job.range,
      ...(job.commitEvents ? { commitMaxEvents: job.commitEvents } : {}),
      logger: pino({ level: "warn" }),
    });
    const commits: Commit[] = [];
    indexer.on("batch", (b) => {
      const s = indexer.stats();
      commits.push({ toBlock: b.toBlock, events: s.eventCount, bytes: s.lastWrite.bytes, ms: s.lastWrite.ms });
    });
    const gc = new GcWatch();
    const t0 = performance.now();
    await indexer.syncOnce();
    const ms = performance.now() - t0;
    await indexer.stop();
    const peakRss = rss.stop();
    const gcIndexing = Object.fromEntries(gc.stop().pauses);
    const { eventCount, writes, writeMsTotal } = indexer.stats();
    const heapAfterIndexing = liveHeap();
    const indexed = {
      stats: { eventCount, writes, writeMsTotal },
      ms,
      commits,
      peakRss,
      rssBefore: rss.rssBefore,
      heapLimit: getHeapStatistics().heap_size_limit,
      heapIndexed: heapAfterIndexing - heapBefore,
      gc: gcIndexing,
    };
    // The reload holds a second index beside the first: a heap limit sized for one would not hold it.
    if (!job.reload) return { ...indexed, maxRss: process.resourceUsage().maxRSS * 1024 };

    const tLoad = performance.now();
    const reloaded = await createIndexer({
      publicClient,
      deployment: job.deployment,
      dataDir: job.dataDir,
      store: await store(),
      logger: pino({ level: "warn" }),
    });
    const loadMs = performance.now() - tLoad;
    if (reloaded.state().eventCount !== eventCount) throw new Error("reloaded index differs from the indexed one");
    const heapReloaded = liveHeap() - heapAfterIndexing;
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const lookups = await lookupCost(reloaded.state(), publicClient, job.deployment);
    return { ...indexed, maxRss, reload: { heapReloaded, loadMs, lookups } };
  } finally {
    await db?.close();
  }
}

if (require.main === module)
  process.once("message", (job) => {
    const j = job as IndexJob;
    (j.mode === "start" ? startProcess(j) : indexerProcess(j))
      .then((run) => process.send!(run, () => process.exit(0)))
      .catch((err) => {
        console.error(err);
        process.exit(1);
      });
  });
