/**
 * The index of a reader process (SERVICE_ROLE=reader): it holds no index in memory and reduces no
 * event. It follows the index another process commits to PostgreSQL (index_meta's checkpoint, polled;
 * enterprises' metrics, series and lists, the caller's loans and consents are read one party at a
 * time, by metrics/enterprise-reads.ts and loans/loan-reads.ts), and gives the consent watcher the
 * committed consents (one row per borrower and lender, re-read as the checkpoint moves) so a lender's
 * read under consent is checked as on an indexing process. No route reads the whole index (`state()`)
 * on a reader; one that would is refused with 503 index_not_held. It is an Indexer so the rest of the service
 * runs unchanged around it; it never writes and runs no job (server.ts gives it no lock).
 */
import type { Logger } from "pino";
import type { PublicClient } from "viem";
import type { Deployment } from "../chain/contracts";
import type { Address, ConsentEntity } from "../domain/entities";
import { IndexNotHeldError } from "../domain/errors";
import type { Indexer } from "./indexer";
import { consentKey } from "./reducers/consentRegistry";
import type { Checkpoint } from "../store/index-store";
import type { CommittedMeta, PostgresIndexReader } from "../store/postgres/index-reader";

/** The consents are read again at most this often while the checkpoint moves (the watcher covers the blocks above them). */
export const CONSENTS_REFRESH_MS = 5_000;

export interface CommittedIndex extends Indexer {
  /** The committed consents, as of the block they were read at: the consent watcher's index view (auth/consent-watch.ts). */
  consentView: {
    indexedBlock(): number;
    indexedBlockTime(): number;
    consent(borrower: Address, lender: Address): ConsentEntity | undefined;
  };
}

interface ConsentsAt {
  block: number;
  blockTime: number;
  consents: Record<string, ConsentEntity>;
}

export function createCommittedIndex(opts: {
  reader: PostgresIndexReader;
  publicClient: PublicClient;
  deployment: Deployment;
  pollIntervalMs: number;
  logger: Logger;
}): CommittedIndex {
  const { reader } = opts;
  const floorBlock = opts.deployment.startBlock - 1;
  let meta: CommittedMeta = { checkpoint: null, eventCount: 0, commitSeq: 0 };
  let metaBlockTime = 0;
  let consents: ConsentsAt = { block: floorBlock, blockTime: 0, consents: {} };
  let consentsReadAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let stopped = false;

  const same = (a: Checkpoint | null, b: Checkpoint | null) => a?.blockNumber === b?.blockNumber && a?.blockHash === b?.blockHash;
  const blockTime = async (c: Checkpoint | null) =>
    c ? Number((await opts.publicClient.getBlock({ blockNumber: BigInt(c.blockNumber) })).timestamp) : 0;

  async function pollOnce(): Promise<void> {
    const next = await reader.meta();
    if (!same(next.checkpoint, meta.checkpoint)) metaBlockTime = await blockTime(next.checkpoint);
    meta = next;
    const consentsBlock = next.checkpoint?.blockNumber ?? floorBlock;
    if (consentsBlock !== consents.block && performance.now() - consentsReadAt >= CONSENTS_REFRESH_MS) {
      const read = await reader.consents();
      const block = read.meta.checkpoint?.blockNumber ?? floorBlock;
      // Usually the checkpoint just polled, whose block time is already read.
      const time = same(read.meta.checkpoint, meta.checkpoint) ? metaBlockTime : await blockTime(read.meta.checkpoint);
      consents = { block, blockTime: time, consents: read.consents };
      consentsReadAt = performance.now();
    }
  }

  function poll(): Promise<void> {
    polling ??= pollOnce()
      .catch((err: unknown) => opts.logger.warn({ err }, "reading the committed index's checkpoint failed; keeping the last one"))
      .finally(() => (polling = undefined));
    return polling;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void poll().then(schedule), opts.pollIntervalMs);
    timer.unref();
  }

  const indexedBlock = () => meta.checkpoint?.blockNumber ?? floorBlock;

  return {
    consentView: {
      indexedBlock: () => consents.block,
      indexedBlockTime: () => consents.blockTime,
      consent: (borrower: Address, lender: Address) => consents.consents[consentKey(borrower, lender)],
    },
    state() {
      throw new IndexNotHeldError();
    },
    checkpoint: () => meta.checkpoint,
    syncOnce: () => poll(),
    async start() {
      stopped = false;
      await poll();
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await polling;
    },
    halted: () => null,
    // A reader runs no job that follows the index's batches or reorgs (they run where the index is held).
    on: () => () => undefined,
    stats() {
      const block = indexedBlock();
      return {
        indexedBlock: block,
        indexedBlockTime: metaBlockTime,
        // A reader does not follow the head itself: /healthz asks the node.
        headBlock: block,
        lag: 0,
        eventCount: meta.eventCount,
        eventsPerSecond: 0,
        lastWrite: { bytes: 0, ms: 0 },
        writes: 0,
        writeMsTotal: 0,
        rangeRefusals: 0,
        blockRange: 0,
      };
    },
  };
}
