/**
 * Batch notarization: pending document hashes are anchored together as one Merkle root on
 * EvidenceNotary.anchorBatch (OpenZeppelin StandardMerkleTree, leaf type bytes32, so the contract's
 * leaf is keccak256(bytes.concat(keccak256(abi.encode(hash))))). A batch goes out when `maxCount`
 * documents wait or every `maxDelayMs`; each document keeps its proof in the store.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { pad, parseEventLogs, toHex } from "viem";
import type { Logger } from "pino";
import { abiOf } from "../chain/contracts";
import type { BatchRecord, DocumentStore } from "./store";

/** Kind emitted with a batch of uploaded documents (the contract stores the root as KIND_BATCH). */
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

export function buildTree(hashes: Hex[]): StandardMerkleTree<[Hex]> {
  return StandardMerkleTree.of(
    hashes.map((h) => [h] as [Hex]),
    ["bytes32"],
  );
}

export function createBatcher(opts: BatcherOptions): Batcher {
  const maxCount = opts.maxCount ?? 256;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  const abi = abiOf("EvidenceNotary");
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<BatchResult[]> = Promise.resolve([]);

  /**
   * The BatchAnchored log of a root already on chain: a crash between anchoring a batch and recording
   * it leaves the same pending hashes, hence the same root; it is recorded from the chain instead of
   * being sent again (a second anchorBatch would be a no-op that costs gas every interval).
   */
  async function anchoredBefore(root: Hex) {
    const anchor = (await opts.publicClient.readContract({ address: opts.notary, abi, functionName: "getAnchor", args: [root] })) as {
      blockNumber: number;
    };
    if (Number(anchor.blockNumber) === 0) return null;
    const block = BigInt(anchor.blockNumber);
    const logs = await opts.publicClient.getLogs({ address: opts.notary, fromBlock: block, toBlock: block });
    const log = parseEventLogs({ abi, logs, eventName: "BatchAnchored" }).find((l) => (l.args as { root: Hex }).root === root);
    if (!log) throw new Error(`batch root ${root} is anchored in block ${block}, but its BatchAnchored log is not there`);
    return { log, gasUsed: 0n };
  }

  async function anchorOne(hashes: Hex[]): Promise<BatchResult> {
    const tree = buildTree(hashes);
    const root = tree.root as Hex;
    let found = await anchoredBefore(root);
    if (found) opts.logger?.info({ root }, "document batch was anchored before a restart: recording it from the chain");
    else {
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
      if (!log) throw new Error(`batch root ${root} was already anchored (no BatchAnchored in ${txHash})`);
      found = { log, gasUsed: receipt.gasUsed };
    }
    const { log } = found;
    const receipt = { blockNumber: log.blockNumber, blockHash: log.blockHash, gasUsed: found.gasUsed };
    const txHash = log.transactionHash;
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
    for (const [i, [hash]] of tree.entries()) proofs[hash] = tree.getProof(i) as Hex[];
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
