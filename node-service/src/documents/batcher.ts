/**
 * Batch notarization: pending document hashes are anchored together as one Merkle root on
 * EvidenceNotary.anchorBatch (OpenZeppelin StandardMerkleTree, leaf type bytes32, so the contract's
 * leaf is keccak256(bytes.concat(keccak256(abi.encode(hash))))). A batch goes out when `maxCount`
 * documents wait or every `maxDelayMs`; each document keeps its proof in the store.
 */
import { randomBytes } from "node:crypto";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { pad, parseEventLogs, toHex } from "viem";
import type { Logger } from "pino";
import { abiOf } from "../chain/contracts";
import type { BatchRecord, DocumentStore } from "./store";

/** Kind emitted with a batch of uploaded documents (roots live in the notary's batch namespace). */
export const DOCUMENT_BATCH_KIND = 256;

export interface BatcherOptions {
  store: DocumentStore;
  publicClient: PublicClient;
  /** The service operator's account: it must be an admitted, active participant. */
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  notary: Address;
  maxCount?: number;
  maxDelayMs?: number;
  logger?: Pick<Logger, "info" | "error">;
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
    const txHash = await opts.walletClient.writeContract({
      address: opts.notary,
      abi,
      functionName: "anchorBatch",
      args: [root, hashes.length, DOCUMENT_BATCH_KIND, ref],
      account: opts.walletClient.account,
      chain: opts.walletClient.chain,
    });
    const receipt = await opts.publicClient.waitForTransactionReceipt({ hash: txHash });
    if (receipt.status !== "success") throw new Error(`anchorBatch reverted in ${txHash}`);
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
        while (pending.length > 0) {
          results.push(await anchorOne(pending.slice(0, maxCount)));
          pending = opts.store.pending();
        }
        return results;
      });
    return flushing;
  }

  function flushLogged(): void {
    flush().catch((err: unknown) => opts.logger?.error({ err }, "document batch anchoring failed; will retry"));
  }

  return {
    notify() {
      if (opts.store.pending().length >= maxCount) flushLogged();
    },
    flush,
    start() {
      timer ??= setInterval(() => {
        if (opts.store.pending().length > 0) flushLogged();
      }, maxDelayMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flushing.catch(() => undefined);
    },
  };
}
