/**
 * STATUS: usable. createIndexer, syncOnce/start/stop, state(), the "batch" and "reorg" events and the
 * per-contract reducers work and are tested (test/service/indexer*.test.ts).
 *
 * The reorg-safe indexer: historical sync by block ranges (historical.ts), decode (decode.ts), one
 * pure reducer per contract (reducers/), the store (store/index-store.ts), then following the head by
 * polling.
 *
 * How reorgs are survived (the choice, and why): each reducer returns mutations instead of changing
 * the state, so applying a block can record its exact inverse (the version of each record it
 * replaced as it was before the block, and how many items it appended to each list). That undo
 * information is kept only for blocks within `reorgDepth` of the head, together with their hashes;
 * deeper blocks are treated as final and cost nothing. On a parent-hash mismatch (or when the checkpoint's block is no longer on chain) the
 * indexer walks the recent hashes down to the newest one the node still has, undoes the blocks above
 * it, and fetches again from there. A fork deeper than the undo window, or another chain, means the
 * index is rebuilt from the deployment block instead of serving stale data. Compared with keeping
 * raw events and re-reducing from a snapshot, this keeps one copy of the state and makes a rollback
 * cost proportional to the rolled-back blocks, not to the history.
 *
 * Durability: the state, the checkpoint (block number and hash), the recent hashes and the undo
 * information are one document written atomically (fsync'd temp file renamed over the old one), so a
 * kill at any point leaves either the previous commit or the new one. During a long sync, commits
 * happen every `commitIntervalMs` (stretched so writing takes at most `maxWriteShare` of the time) or
 * every `commitMaxEvents` events, never per event; one range is fetched ahead while one is reduced,
 * and on a store that takes what it writes when asked (PostgreSQL: `snapshotOnSave`) the next range
 * is reduced while a commit is written. The checkpoint and the listeners follow a commit once stored.
 * Following the head, listeners hear of new events at once, but the store is written only when writing
 * stays under `headWriteShare` of the time: lowdb serializes the whole index on the event loop, and
 * writing it for every new block would stall every request the service answers. A crash then re-reads
 * at most that interval's blocks from the chain.
 */
import pino, { type Logger } from "pino";
import { BlockNotFoundError, keccak256, type Block, type Hex, type Log, type PublicClient } from "viem";
import type { Deployment } from "../chain/contracts";
import { emptyIndexState, type Address, type IndexState } from "../domain/entities";
import {
  createLowdbIndexStore,
  STORE_VERSION,
  type ChainIdentity,
  type Checkpoint,
  type IndexStore,
  type StoredIndex,
  type WriteStats,
} from "../store/index-store";
import { createDecoder, INDEXED_CONTRACTS, type DecodedEvent } from "./decode";
import { createLogFetcher } from "./historical";
import { ChangeSet, trackChanges, undoBlock, type BlockUndo } from "../domain/mutations";
import { applyEvents } from "./reduce";

export type { DecodedEvent } from "./decode";

export interface BatchEvent {
  fromBlock: number;
  toBlock: number;
  /** The events of blocks fromBlock..toBlock, in chain order, as committed. */
  events: DecodedEvent[];
}

export interface ReorgEvent {
  /** The last block kept: everything above it was undone (deployment start block - 1 when the index was wiped). */
  forkBlock: number;
  /** The indexed block before the rollback: blocks forkBlock+1..droppedFrom were dropped. */
  droppedFrom: number;
}

export interface IndexerStats {
  indexedBlock: number;
  /** Block time (seconds) of indexedBlock, once this process has fetched that block; 0 until then. */
  indexedBlockTime: number;
  headBlock: number;
  lag: number;
  eventCount: number;
  eventsPerSecond: number;
  /** Size and duration of the last store write, and totals since start. */
  lastWrite: WriteStats;
  writes: number;
  writeMsTotal: number;
  /** getLogs calls the node refused for their size or answered too late, and the current range size. */
  rangeRefusals: number;
  blockRange: number;
}

export interface Indexer {
  /**
   * The reduced state; callers treat it as read-only. Changed in place as blocks are applied, but
   * replaced by a new object when the index is rebuilt: call state() again instead of keeping it.
   */
  state(): IndexState;
  /** The last committed checkpoint. */
  checkpoint(): { blockNumber: number; blockHash: Hex } | null;
  /** Catches up once to head minus confirmations, then commits. */
  syncOnce(): Promise<void>;
  /** Historical sync, then follows the head by polling until stop(). */
  start(): Promise<void>;
  /** Stops following and flushes the store. */
  stop(): Promise<void>;
  /**
   * Why the indexer stopped following the chain, or null: the node now serves another chain (chain
   * id, genesis hash or contract code changed). The index is kept as it was; an operator acts.
   */
  halted(): string | null;
  on(event: "batch", fn: (b: BatchEvent) => void): () => void;
  on(event: "reorg", fn: (r: ReorgEvent) => void): () => void;
  stats(): IndexerStats;
}

export interface IndexerOptions {
  publicClient: PublicClient;
  deployment: Deployment;
  dataDir: string;
  /** Blocks below the head left unindexed until they are this deep (0 on a local chain). */
  confirmations?: number;
  pollIntervalMs?: number;
  /** Largest getLogs range in blocks; halved while the node refuses it. */
  maxBlockRange?: number;
  logger?: Logger;
  /** How many recent blocks keep their hash and undo information (the deepest reorg survived without a rebuild). */
  reorgDepth?: number;
  /** During a sync, commit at least this often... */
  commitIntervalMs?: number;
  /** ...or when this many events are waiting (default: the store's commitMaxEvents, else 50,000). */
  commitMaxEvents?: number;
  /** Largest share of sync time spent writing the store (stretches the commit interval as the file grows); 1 = no limit. */
  maxWriteShare?: number;
  /** Following the head: largest share of the time spent writing the store (default 0.02). */
  headWriteShare?: number;
  /** Another store implementation (defaults to lowdb under dataDir). */
  store?: IndexStore;
  /** How often the chain's identity (chain id, genesis hash, contract code) is checked again (default 5 s). */
  identityCheckMs?: number;
}

const HEADER_CONCURRENCY = 16;

interface FetchedRange {
  from: number;
  to: number;
  logs: Log[];
  blocks: Map<number, Block>;
  startedAt: number;
}
const MAX_INCONSISTENT_RETRIES = 5;

/**
 * `earlier` with the events of `later` after it, in chain order as the listeners hear them. In place:
 * a batch is nobody else's until it is emitted.
 */
function joined(earlier: BatchEvent, later: BatchEvent): BatchEvent {
  earlier.toBlock = later.toBlock;
  for (const e of later.events) earlier.events.push(e);
  return earlier;
}

/**
 * A commit's cost that does not depend on what it carries, in events: on PostgreSQL a commit of a few
 * events took 12-16 ms (a transaction, the writer's lock check, the WAL flush: pg-failover's commits at
 * the head), a catch-up commit 40-75 us per event (bench:index), so about 200 events' worth. A commit of
 * fewer events than this is taken to cost what any such commit costs.
 */
export const COMMIT_FIXED_COST_EVENTS = 100;

/**
 * How long after the last commit the next one is due, so that writing takes at most `share` of the time:
 * the next write's expected cost times (1 - share) / share, and never less than `minMs`. The next write
 * is expected to cost what the last one did (lowdb rewrites the whole index, whatever changed); given
 * `pendingEvents` (a store whose commit writes what changed: PostgreSQL), it is expected to cost per
 * event what the last one did, so a large commit (a catch-up of thousands of events) does not hold back
 * the small ones at the head that follow it, and a reader of the committed index with them. Below
 * COMMIT_FIXED_COST_EVENTS a commit's cost is its fixed part: 16 ms for 3 events is not 5 ms per event
 * (which held 40 pending events back for 10 s at the head, and a reader with them).
 */
export function commitInterval(o: {
  minMs: number;
  share: number;
  lastWrite: { ms: number; events: number };
  pendingEvents?: number;
}): number {
  const expected =
    o.pendingEvents !== undefined
      ? (o.lastWrite.ms * Math.max(COMMIT_FIXED_COST_EVENTS, o.pendingEvents)) / Math.max(COMMIT_FIXED_COST_EVENTS, o.lastWrite.events)
      : o.lastWrite.ms;
  return Math.max(o.minMs, (expected * (1 - o.share)) / o.share);
}

export async function createIndexer(opts: IndexerOptions): Promise<Indexer> {
  const { publicClient, deployment } = opts;
  const confirmations = opts.confirmations ?? 0;
  const pollIntervalMs = opts.pollIntervalMs ?? 1000;
  const reorgDepth = opts.reorgDepth ?? 128;
  const commitIntervalMs = opts.commitIntervalMs ?? 2000;
  const maxWriteShare = Math.min(1, Math.max(0.01, opts.maxWriteShare ?? 0.2));
  const headWriteShare = Math.min(1, Math.max(0.001, opts.headWriteShare ?? 0.02));
  const logger = opts.logger ?? pino({ name: "indexer", level: process.env.LOG_LEVEL ?? "warn" });
  const store = opts.store ?? (await createLowdbIndexStore(opts.dataDir, (m) => logger.warn(m)));
  const commitMaxEvents = opts.commitMaxEvents ?? store.commitMaxEvents ?? 50_000;
  const decoder = createDecoder(deployment);
  const fetcher = createLogFetcher({ publicClient, addresses: decoder.addresses, maxBlockRange: opts.maxBlockRange ?? 2000, logger });

  // The chain we are talking to must be the deployment's chain; the saved index must be of that chain.
  const chainId = await publicClient.getChainId();
  const genesis = await publicClient.getBlock({ blockNumber: 0n });
  if (chainId !== deployment.chainId) throw new Error(`RPC chain id ${chainId} is not the deployment's chain id ${deployment.chainId}`);
  if (genesis.hash !== deployment.genesisHash.toLowerCase()) {
    throw new Error(
      `RPC genesis ${genesis.hash} is not the deployment's genesis ${deployment.genesisHash}: wrong deployment file for this chain`,
    );
  }
  const identity: ChainIdentity = {
    chainId,
    genesisHash: genesis.hash as Hex,
    startBlock: deployment.startBlock,
    contracts: Object.fromEntries(INDEXED_CONTRACTS.map((n) => [n, deployment.contracts[n].toLowerCase() as Address])),
  };
  const floorBlock = deployment.startBlock - 1;
  // The code at the deployment's addresses, as the node serves it now: it must never change.
  const codeHashes = new Map<string, Hex>();
  for (const [name, address] of Object.entries(identity.contracts)) {
    const code = await publicClient.getCode({ address });
    if (!code || code === "0x")
      throw new Error(`no contract code at ${name}'s address ${address} on this chain: wrong deployment file for this chain`);
    codeHashes.set(name, keccak256(code));
  }
  const identityCheckMs = opts.identityCheckMs ?? 5000;
  let identityCheckedAt = performance.now();
  let haltReason: string | null = null;

  /**
   * Checks that the node still serves the deployment's chain. On a change the indexer halts: it keeps
   * its index (never rebuilt from another chain) and stops syncing until the service is restarted
   * against a matching node and deployment file.
   */
  async function checkIdentity(force: boolean): Promise<boolean> {
    if (haltReason) return false;
    if (!force && performance.now() - identityCheckedAt < identityCheckMs) return true;
    const [nowChainId, nowGenesis] = await Promise.all([publicClient.getChainId(), publicClient.getBlock({ blockNumber: 0n })]);
    let reason: string | null = null;
    if (nowChainId !== identity.chainId) reason = `the node now serves chain id ${nowChainId}, not ${identity.chainId}`;
    else if (nowGenesis.hash !== identity.genesisHash)
      reason = `the node's genesis block is now ${nowGenesis.hash}, not ${identity.genesisHash}`;
    else {
      for (const [name, address] of Object.entries(identity.contracts)) {
        const code = await publicClient.getCode({ address });
        const hash = code && code !== "0x" ? keccak256(code) : null;
        if (hash !== codeHashes.get(name)) {
          reason = `the contract code at ${name}'s address ${address} changed`;
          break;
        }
      }
    }
    identityCheckedAt = performance.now();
    if (!reason) return true;
    haltReason = `chain identity changed: ${reason}. Chain data is not served; the index is kept as it was. Restore the node, or restart the service with the deployment file of this chain`;
    logger.error({ reason }, "chain identity changed: the indexer stopped");
    return false;
  }

  /** `s`, its changes journaled: the index is changed only by applyMutations and undoBlock, so memos over it read the journal. */
  const journaled = (s: IndexState) => (trackChanges(s), s);
  // In-memory index; `tip` may be ahead of `committed` between commits.
  let state = journaled(emptyIndexState());
  let tip: Checkpoint | null = null;
  /** Block time of `tip` in seconds, when this process fetched that block (0: unknown, after a load or a rollback). */
  let tipTime = 0;
  let committed: Checkpoint | null = null;
  let recent = new Map<number, Hex>();
  let undo: BlockUndo[] = [];
  let undoFloor = floorBlock;
  /** What changed since the last commit (null: the whole state is new, e.g. after a wipe). */
  let changes: ChangeSet | null = null;
  /** Events applied since the last commit, for the listeners once they are stored, and how many. */
  let pending: BatchEvent | null = null;
  let uncommittedEvents = 0;
  /**
   * The commit being written while the next range is reduced (a store that takes what it writes when
   * `save` is called: IndexStore.snapshotOnSave), or null. Commits are written one at a time, in order.
   */
  let writing: Promise<void> | null = null;

  /** Takes the saved index when it belongs to this chain and deployment; otherwise starts over. */
  async function load(): Promise<void> {
    // A commit still being written settles first (stored or not, the load reads what is stored), and
    // what was applied since the last commit is dropped with the state that held it.
    await written().catch(() => undefined);
    pending = null;
    uncommittedEvents = 0;
    const saved = await store.load();
    if (saved && saved.version === STORE_VERSION && sameIdentity(saved.identity, identity)) {
      state = journaled(saved.state);
      tip = committed = saved.checkpoint;
      recent = new Map(saved.recentBlocks.map((b) => [b.blockNumber, b.blockHash]));
      undo = saved.undo;
      undoFloor = saved.undoFloor;
      changes = new ChangeSet();
      return;
    }
    if (saved && saved.version !== STORE_VERSION)
      logger.warn(
        { savedVersion: saved.version, version: STORE_VERSION },
        `the saved index is of format ${saved.version}, this version keeps ${STORE_VERSION}: rebuilding the index from the chain`,
      );
    else if (saved)
      logger.warn(
        { saved: saved.identity, current: identity },
        "chain reset detected (chain id, genesis or contracts differ): rebuilding the index",
      );
    state = journaled(emptyIndexState());
    tip = committed = null;
    recent = new Map();
    undo = [];
    undoFloor = floorBlock;
    await store.save(document(), null);
    changes = new ChangeSet();
  }
  await load();

  let lastCommitAt = performance.now();
  let headBlock = (tip as Checkpoint | null)?.blockNumber ?? floorBlock;
  let writes = 0;
  let writeMsTotal = 0;
  let lastWrite: WriteStats = { bytes: 0, ms: 0 };
  /**
   * The write the next commit's cost is expected from, with the events it carried: the last one, except
   * that on a store whose commit costs what changed a whole rewrite (a new writer's first) is not taken
   * as a cost per event (it would hold back the next commits at the head by 49 times its duration).
   */
  let costSample = { ms: 0, events: 0 };
  /** Events applied per range with the time it took, for events per second over the last 10 s. */
  const rate: { from: number; to: number; events: number }[] = [];
  const batchListeners = new Set<(b: BatchEvent) => void>();
  const reorgListeners = new Set<(r: ReorgEvent) => void>();

  function document(): StoredIndex {
    return {
      version: STORE_VERSION,
      identity,
      checkpoint: tip,
      recentBlocks: [...recent].sort((a, b) => a[0] - b[0]).map(([blockNumber, blockHash]) => ({ blockNumber, blockHash })),
      undoFloor,
      undo,
      state,
    };
  }

  function emit<T>(listeners: Set<(x: T) => void>, value: T) {
    for (const fn of listeners) {
      try {
        fn(value);
      } catch (err) {
        logger.error({ err }, "indexer listener failed");
      }
    }
  }

  /** Waits for the commit being written, if any; its failure is thrown here. */
  async function written(): Promise<void> {
    const w = writing;
    writing = null;
    if (w) await w;
  }

  /**
   * Commits the index as it is now. Resolves once it is stored; with `overlap`, on a store that allows
   * it, once the write has started (`writing`: the caller goes on reducing while the database writes).
   * Listeners hear a batch only once it is stored. A failed write stores nothing: its changes and events
   * go back to wait for the next commit, which writes them with its own.
   */
  async function commit(overlap = false): Promise<void> {
    await written();
    const sent = changes;
    const batch = pending;
    const events = uncommittedEvents;
    const at = tip;
    // Asked before the save: a store's answer may change once it is under way (store/postgres/leader.ts).
    const overlapping = overlap && sent !== null && store.snapshotOnSave === true;
    changes = new ChangeSet();
    pending = null;
    uncommittedEvents = 0;
    const saved = store.save(document(), sent).then(
      (w) => {
        writes += 1;
        writeMsTotal += w.ms;
        lastWrite = w;
        if (!(w.whole && store.costFollowsChanges)) costSample = { ms: w.ms, events };
        committed = at;
        lastCommitAt = performance.now();
        logger.debug({ checkpoint: at, bytes: w.bytes, ms: Math.round(w.ms) }, "index committed");
        if (batch) emit(batchListeners, batch);
      },
      (err: unknown) => {
        if (sent === null || changes === null) changes = null;
        else changes.absorb(sent);
        pending = batch && pending ? joined(batch, pending) : (batch ?? pending);
        uncommittedEvents += events;
        throw err;
      },
    );
    if (overlapping) {
      writing = saved;
      saved.catch(() => undefined); // thrown by `written()`
    } else await saved;
  }

  /** Tells listeners about the events applied since they last heard, in chain order. */
  function flushBatch(): void {
    const batch = pending;
    pending = null;
    if (batch) emit(batchListeners, batch);
  }

  async function blockHashAt(n: number): Promise<Hex | null> {
    try {
      return (await publicClient.getBlock({ blockNumber: BigInt(n) })).hash as Hex;
    } catch (err) {
      if (err instanceof BlockNotFoundError) return null;
      throw err;
    }
  }

  async function headers(numbers: number[]): Promise<Map<number, Block>> {
    const out = new Map<number, Block>();
    for (let i = 0; i < numbers.length; i += HEADER_CONCURRENCY) {
      const chunk = numbers.slice(i, i + HEADER_CONCURRENCY);
      const blocks = await Promise.all(chunk.map((n) => publicClient.getBlock({ blockNumber: BigInt(n) })));
      chunk.forEach((n, j) => out.set(n, blocks[j]));
    }
    return out;
  }

  /** Starts over from the deployment block: another chain, or a fork deeper than the undo window. */
  async function wipe(reason: string): Promise<void> {
    const droppedFrom = tip?.blockNumber ?? floorBlock;
    logger.warn({ reason, droppedFrom }, "rebuilding the index from the deployment block");
    await written().catch(() => undefined); // the whole index is written again below
    pending = null;
    uncommittedEvents = 0;
    state = journaled(emptyIndexState());
    tip = null;
    tipTime = 0;
    recent = new Map();
    undo = [];
    undoFloor = floorBlock;
    changes = null;
    await commit();
    emit(reorgListeners, { forkBlock: floorBlock, droppedFrom });
  }

  /** The chain no longer has our tip: roll back to the newest recent block it still has. */
  async function rollback(): Promise<void> {
    // The undo below cuts lists in place: no commit may still be reading them.
    await written();
    if (pending) await commit();
    const droppedFrom = tip?.blockNumber ?? floorBlock;
    let fork: number | undefined;
    for (const n of [...recent.keys()].sort((a, b) => b - a)) {
      if (n < undoFloor) break;
      if ((await blockHashAt(n)) === recent.get(n)) {
        fork = n;
        break;
      }
    }
    if (fork === undefined) return wipe("no recent block is still on chain");
    while (undo.length > 0 && undo[undo.length - 1].blockNumber > fork) undoBlock(state, undo.pop()!, changes ?? undefined);
    for (const n of recent.keys()) if (n > fork) recent.delete(n);
    tip = { blockNumber: fork, blockHash: recent.get(fork)! };
    tipTime = 0;
    logger.warn({ forkBlock: fork, droppedFrom }, "reorg: rolled back to the fork point");
    await commit();
    emit(reorgListeners, { forkBlock: fork, droppedFrom });
  }

  /**
   * Fetches one range: its logs, then the headers the apply step needs (the range's first and last
   * blocks, every block with a log for its time, and every block inside the reorg window).
   */
  async function fetchRange(from: number, target: number, head: number): Promise<FetchedRange> {
    const startedAt = performance.now();
    const { to, logs } = await fetcher.fetch(from, target);
    const windowStart = head - reorgDepth + 1;
    const wanted = new Set<number>([from, to]);
    for (const log of logs) wanted.add(Number(log.blockNumber));
    for (let n = Math.max(from, windowStart); n <= to; n++) wanted.add(n);
    return { from, to, logs, blocks: await headers([...wanted].sort((a, b) => a - b)), startedAt };
  }

  /** Applies one fetched range; "reorg" when it does not continue our tip, "retry" when the node's answers disagree (a reorg under way). */
  async function applyRange({ from, to, logs, blocks, startedAt }: FetchedRange, head: number): Promise<"ok" | "retry" | "reorg"> {
    const windowStart = head - reorgDepth + 1;

    // Parent-hash check: the range must continue the chain we indexed.
    if (tip && from === tip.blockNumber + 1 && blocks.get(from)!.parentHash !== tip.blockHash) return "reorg";
    // The logs and the headers must describe the same chain, and recent blocks must link up.
    for (const log of logs) if (log.blockHash !== blocks.get(Number(log.blockNumber))!.hash) return "retry";
    for (let n = Math.max(from + 1, windowStart); n <= to; n++) {
      const parent = blocks.get(n - 1);
      if (parent && blocks.get(n)!.parentHash !== parent.hash) return "retry";
    }

    const events: DecodedEvent[] = [];
    const sorted = [...logs].sort((a, b) => Number(a.blockNumber! - b.blockNumber!) || Number(a.logIndex! - b.logIndex!));
    for (const log of sorted) {
      const ev = decoder.decode(log, Number(blocks.get(Number(log.blockNumber))!.timestamp));
      if (ev) events.push(ev);
      else
        logger.warn(
          { address: log.address, topic0: log.topics[0], tx: log.transactionHash },
          "log of an indexed contract with no event in its ABI",
        );
    }
    const final = events.filter((e) => e.ref.blockNumber < windowStart);
    const unsettled = final.length === events.length ? [] : events.slice(final.length);
    try {
      applyEvents(state, final, false, changes ?? undefined);
      undo.push(...applyEvents(state, unsettled, true, changes ?? undefined));
    } catch (err) {
      // A reducer refused an event half way through the range: go back to the last commit so the
      // in-memory state never holds part of a range, then fail loudly.
      await load();
      throw err;
    }
    if (from < windowStart) undoFloor = Math.max(undoFloor, Math.min(to, windowStart - 1));

    for (let n = Math.max(from, windowStart); n <= to; n++) recent.set(n, blocks.get(n)!.hash as Hex);
    tip = { blockNumber: to, blockHash: blocks.get(to)!.hash as Hex };
    tipTime = Number(blocks.get(to)!.timestamp);
    recent.set(to, tip.blockHash);
    // Forget what is now deeper than the reorg window.
    const keepFrom = to - reorgDepth;
    if (keepFrom > undoFloor) undoFloor = keepFrom;
    while (undo.length > 0 && undo[0].blockNumber <= undoFloor) undo.shift();
    for (const n of recent.keys()) if (n < undoFloor) recent.delete(n);

    uncommittedEvents += events.length;
    const range = { fromBlock: from, toBlock: to, events };
    pending = pending ? joined(pending, range) : range;
    rate.push({ from: startedAt, to: performance.now(), events: events.length });
    return "ok";
  }

  /**
   * During a sync, commit every commitIntervalMs, but spend at most maxWriteShare of the time writing:
   * lowdb rewrites the whole file, so the interval grows with the last write's duration. At the head,
   * on a store whose commit costs what changed, the next write is expected to cost per event what the
   * last one did (commitInterval).
   */
  function dueForCommit(share = maxWriteShare, atHead = false): boolean {
    const interval = commitInterval({
      minMs: commitIntervalMs,
      share,
      lastWrite: costSample,
      pendingEvents: atHead && store.costFollowsChanges ? uncommittedEvents : undefined,
    });
    return uncommittedEvents >= commitMaxEvents || performance.now() - lastCommitAt >= interval;
  }

  let running: Promise<void> | null = null;
  let stopping = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  /** `followingHead`: a poll of the running loop, which may leave the store write for later. */
  async function doSync(followingHead = false): Promise<void> {
    if (!(await checkIdentity(false))) return;
    const head = Number(await publicClient.getBlockNumber());
    headBlock = head;
    const target = head - confirmations;
    // The checkpoint's block must still be on chain (a reorg, or another chain behind the same URL).
    if (tip && (await blockHashAt(tip.blockNumber)) !== tip.blockHash) {
      if (!(await checkIdentity(true))) return;
      await rollback();
    }
    let retries = 0;
    // One range is fetched ahead while the previous one is reduced (dropped after a reorg or a retry).
    let ahead: Promise<FetchedRange> | null = null;
    while ((tip?.blockNumber ?? floorBlock) < target) {
      if (stopping) break;
      const from = (tip?.blockNumber ?? floorBlock) + 1;
      const range = await (ahead ?? fetchRange(from, target, head));
      ahead = null;
      if (range.from !== from) continue;
      if (range.to < target) {
        ahead = fetchRange(range.to + 1, target, head);
        ahead.catch(() => undefined); // a failure surfaces when (and if) it is awaited
      }
      const outcome = await applyRange(range, head);
      if (outcome === "reorg") {
        ahead = null;
        if (!(await checkIdentity(true))) return;
        await rollback();
      } else if (outcome === "retry") {
        ahead = null;
        if (++retries > MAX_INCONSISTENT_RETRIES) throw new Error(`node answers for blocks ${range.from}..${range.to} stay inconsistent`);
        continue;
      } else if (followingHead && range.to >= target ? dueForCommit(headWriteShare, true) : dueForCommit(maxWriteShare)) {
        // At the head (the range that reaches the target, in the running loop) the head's share applies,
        // as below: a commit per new block would rewrite a lowdb index every few seconds. The database
        // writes it while the next range is reduced (when the store allows it).
        await commit(true);
      }
      retries = 0;
    }
    await written();
    // A store that owes a write (a new index writer) gets one now, not when the chain next moves.
    const owed = store.owesWrite === true;
    if (committed?.blockHash === tip?.blockHash && !pending && !owed) return;
    if (!followingHead || owed || dueForCommit(headWriteShare, true)) await commit();
    else flushBatch();
  }

  /** One sync at a time: a second caller waits for the running one, then runs its own. */
  function runSync(followingHead: boolean): Promise<void> {
    const next = (running ?? Promise.resolve()).then(() => doSync(followingHead));
    const settled: Promise<void> = next.then(
      () => undefined,
      () => undefined,
    );
    running = settled;
    void settled.then(() => {
      if (running === settled) running = null;
    });
    return next;
  }

  const indexer: Indexer = {
    state: () => state,
    checkpoint: () => (committed ? { ...committed } : null),
    halted: () => haltReason,
    syncOnce() {
      return runSync(false);
    },
    async start() {
      stopping = false;
      await indexer.syncOnce();
      loop = (async () => {
        while (!stopping) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollIntervalMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          if (stopping) break;
          try {
            await runSync(true);
          } catch (err) {
            logger.warn({ err }, "indexer sync failed; retrying at the next poll");
          }
        }
      })();
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      loop = null;
      await running;
      // A sync that failed may leave its last commit being written: the commit below writes its changes
      // again if it failed.
      await written().catch((err) => logger.warn({ err }, "an index commit failed; writing its changes again"));
      if (pending || committed?.blockHash !== tip?.blockHash) await commit();
      stopping = false;
    },
    on(event: "batch" | "reorg", fn: ((b: BatchEvent) => void) | ((r: ReorgEvent) => void)) {
      const set = (event === "batch" ? batchListeners : reorgListeners) as Set<typeof fn>;
      set.add(fn);
      return () => void set.delete(fn);
    },
    stats() {
      const now = performance.now();
      while (rate.length > 0 && now - rate[0].to > 10_000) rate.shift();
      const eps = rate.length > 0 ? (rate.reduce((sum, r) => sum + r.events, 0) * 1000) / Math.max(1, now - rate[0].from) : 0;
      const indexedBlock = tip?.blockNumber ?? floorBlock;
      return {
        indexedBlock,
        indexedBlockTime: tipTime,
        headBlock,
        lag: Math.max(0, headBlock - indexedBlock),
        eventCount: state.eventCount,
        eventsPerSecond: eps,
        lastWrite,
        writes,
        writeMsTotal,
        rangeRefusals: fetcher.refusals(),
        blockRange: fetcher.span(),
      };
    },
  };
  return indexer;
}

function sameIdentity(a: ChainIdentity, b: ChainIdentity): boolean {
  return (
    a.chainId === b.chainId &&
    a.genesisHash === b.genesisHash &&
    a.startBlock === b.startBlock &&
    JSON.stringify(Object.entries(a.contracts).sort()) === JSON.stringify(Object.entries(b.contracts).sort())
  );
}
