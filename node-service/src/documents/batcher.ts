/**
 * Batch notarization: pending document hashes are anchored together as one Merkle root on
 * EvidenceNotary.anchorBatch (OpenZeppelin StandardMerkleTree, leaf type bytes32, so the contract's
 * leaf is keccak256(bytes.concat(keccak256(abi.encode(hash))))). A batch goes out when `maxCount`
 * documents wait or every `maxDelayMs`; each document keeps its proof in the store.
 */
import { randomBytes } from "node:crypto";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Address, Hex } from "viem";
import { pad, parseEventLogs, toHex } from "viem";
import type { Logger } from "pino";
import { abiOf } from "../chain/contracts";
import { TxFailedError, type TxSender } from "../chain/sender";
import type { BatchRecord, DocumentStore } from "./store";

/** Kind emitted with a batch of uploaded documents (roots live in the notary's batch namespace). */
export const DOCUMENT_BATCH_KIND = 256;

export interface BatcherOptions {
  store: DocumentStore;
  /** The service's transaction sender (its account must be an admitted, active participant). */
  sender: TxSender;
  notary: Address;
  maxCount?: number;
  maxDelayMs?: number;
  logger?: Pick<Logger, "info" | "error">;
  /** First wait before a failed batch is tried again (doubling each time, up to maxDelayMs); default 1 s. */
  retryDelayMs?: number;
  /**
   * Several processes on one database: anchors only while this answers true (the process holding the
   * index writer's lock), so one batch is never sent by two processes. Unset: always.
   */
  active?: () => boolean;
}

export interface BatchResult extends BatchRecord {
  gasUsed: bigint;
}

export interface Batcher {
  /** Called after an upload: anchors at once when enough documents wait. */
  notify(): void;
  /** Anchors everything pending now (in batches of at most maxCount). */
  flush(): Promise<BatchResult[]>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The batch's tree: its documents plus one random salt leaf, so no two batches share a root (the same
 * documents anchored again, or a root someone saw in the mempool, never block a later batch).
 */
export function buildTree(hashes: Hex[], salt: Hex = toHex(randomBytes(32))): StandardMerkleTree<[Hex]> {
  return StandardMerkleTree.of(
    [...hashes, salt].map((h) => [h] as [Hex]),
    ["bytes32"],
  );
}

export function createBatcher(opts: BatcherOptions): Batcher {
  const maxCount = opts.maxCount ?? 256;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  const abi = abiOf("EvidenceNotary");
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<BatchResult[]> = Promise.resolve([]);

  async function anchorOne(hashes: Hex[]): Promise<BatchResult> {
    const tree = buildTree(hashes);
    const root = tree.root as Hex;
    const ref = pad(toHex(Date.now()), { size: 32 });
    const receipt = await opts.sender.write({
      address: opts.notary,
      abi,
      functionName: "anchorBatch",
      args: [root, hashes.length, DOCUMENT_BATCH_KIND, ref],
      label: `anchoring a batch of ${hashes.length} documents (root ${root})`,
    });
    const txHash = receipt.transactionHash;
    const [log] = parseEventLogs({ abi, logs: receipt.logs, eventName: "BatchAnchored" });
    // Only this account can hold this (salted) root in the batch namespace, so a missing event means
    // our own earlier anchoring of it: fail this attempt, and the next flush builds a new salted root.
    if (!log) throw new Error(`batch root ${root} was already anchored by this account (no BatchAnchored in ${txHash})`);
    const args = log.args as unknown as { anchorer: Address; at: number };
    const batch: BatchRecord = {
      root,
      count: hashes.length,
      hashes,
      txHash,
      blockNumber: Number(receipt.blockNumber),
      blockHash: receipt.blockHash,
      logIndex: log.logIndex,
      at: Number(args.at),
      anchorer: args.anchorer.toLowerCase() as Address,
    };
    const proofs: Record<Hex, Hex[]> = {};
    for (const [i, [hash]] of tree.entries()) if (hashes.includes(hash)) proofs[hash] = tree.getProof(i) as Hex[];
    await opts.store.recordBatch(batch, proofs);
    opts.logger?.info({ root, count: hashes.length, txHash, gasUsed: receipt.gasUsed.toString() }, "document batch anchored");
    return { ...batch, gasUsed: receipt.gasUsed };
  }

  function flush(): Promise<BatchResult[]> {
    // One flush at a time, so a document never goes into two batches.
    flushing = flushing
      .catch(() => [])
      .then(async () => {
        const results: BatchResult[] = [];
        let pending = opts.store.pending();
        while (pending.length > 0 && (!opts.active || opts.active())) {
          results.push(await anchorOne(pending.slice(0, maxCount)));
          pending = opts.store.pending();
        }
        return results;
      });
    return flushing;
  }

  // A failed batch is tried again after 1 s, 2 s, 4 s ... (at most maxDelayMs apart), not only at the next tick.
  const firstRetryMs = opts.retryDelayMs ?? 1000;
  let retryDelay = firstRetryMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  function flushLogged(): void {
    if (opts.active && !opts.active()) return;
    flush().then(
      () => {
        retryDelay = firstRetryMs;
      },
      (err: unknown) => {
        const reason = err instanceof TxFailedError ? err.reason : err instanceof Error ? err.message : String(err);
        opts.logger?.error({ err, reason, retryInMs: retryDelay }, `document batch anchoring failed: ${reason}; retrying`);
        if (stopped || retryTimer) return;
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          if (!stopped) flushLogged();
        }, retryDelay);
        retryTimer.unref();
        retryDelay = Math.min(maxDelayMs, retryDelay * 2);
      },
    );
  }

  return {
    notify() {
      if (opts.store.pending().length >= maxCount) flushLogged();
    },
    flush,
    start() {
      stopped = false;
      timer ??= setInterval(() => {
        if (opts.store.pending().length > 0) flushLogged();
      }, maxDelayMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (retryTimer) clearTimeout(retryTimer);
      timer = retryTimer = undefined;
      await flushing.catch(() => undefined);
    },
  };
}
