/**
 * Reads facts back from the chain itself (receipts, logs, blocks), so evidence never rests on the
 * index alone. Receipts and blocks are cached by hash/number: once mined they do not change (a reorg
 * changes the block hash, which the checks compare).
 */
import { decodeEventLog, type Abi, type Address, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import { abiOf, CONTRACT_NAMES, type ContractName, type Deployment } from "../chain/contracts";
import { normalizeArgs } from "./bundle-format";

/** One of our contracts' events as read from a receipt, JSON-safe (amounts as decimal strings). */
export interface ChainEvent {
  contract: ContractName;
  address: Address;
  event: string;
  args: Record<string, unknown>;
  txHash: Hex;
  blockNumber: number;
  blockHash: Hex;
  logIndex: number;
  /** Block time in seconds and as ISO 8601. */
  blockTime: number;
  blockTimeIso: string;
}

export function isoOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

export interface ChainReader {
  receipt(txHash: Hex): Promise<TransactionReceipt | null>;
  blockTime(blockNumber: number): Promise<{ hash: Hex; timestamp: number }>;
  /** Our contracts' events in a transaction, decoded; [] when the transaction is unknown. */
  eventsOfTx(txHash: Hex): Promise<ChainEvent[]>;
  /** The event at `logIndex` of the transaction, or null when the chain has no such log of ours. */
  eventAt(txHash: Hex, logIndex: number): Promise<ChainEvent | null>;
  contractName(address: Address): ContractName | undefined;
}

export function createChainReader(publicClient: PublicClient, deployment: Deployment): ChainReader {
  const byAddress = new Map<string, { name: ContractName; abi: Abi }>();
  for (const name of CONTRACT_NAMES) byAddress.set(deployment.contracts[name].toLowerCase(), { name, abi: abiOf(name) });
  const receipts = new Map<Hex, Promise<TransactionReceipt | null>>();
  const blocks = new Map<number, Promise<{ hash: Hex; timestamp: number }>>();

  function bounded<K, V>(map: Map<K, V>, key: K, make: () => V): V {
    let value = map.get(key);
    if (value === undefined) {
      if (map.size > 2000) map.clear();
      value = make();
      map.set(key, value);
    }
    return value;
  }

  function receipt(txHash: Hex): Promise<TransactionReceipt | null> {
    const key = txHash.toLowerCase() as Hex;
    const p = bounded(receipts, key, () =>
      publicClient.getTransactionReceipt({ hash: key }).catch((err: unknown) => {
        if ((err as Error).name === "TransactionReceiptNotFoundError") return null;
        throw err;
      }),
    );
    // A missing receipt may appear later; do not cache that answer (nor a failure).
    p.then(
      (r) => r ?? receipts.delete(key),
      () => receipts.delete(key),
    );
    return p;
  }

  function blockTime(blockNumber: number) {
    const p = bounded(blocks, blockNumber, () =>
      publicClient.getBlock({ blockNumber: BigInt(blockNumber) }).then((b) => ({ hash: b.hash as Hex, timestamp: Number(b.timestamp) })),
    );
    p.catch(() => blocks.delete(blockNumber));
    return p;
  }

  async function eventsOfTx(txHash: Hex): Promise<ChainEvent[]> {
    const r = await receipt(txHash);
    if (!r) return [];
    const block = await blockTime(Number(r.blockNumber));
    const out: ChainEvent[] = [];
    for (const log of r.logs) {
      const contract = byAddress.get(log.address.toLowerCase());
      if (!contract) continue;
      let decoded;
      try {
        decoded = decodeEventLog({ abi: contract.abi, data: log.data, topics: log.topics });
      } catch {
        continue; // an event of a library (e.g. ERC-20 Transfer under another ABI) we do not describe
      }
      out.push({
        contract: contract.name,
        address: log.address.toLowerCase() as Address,
        event: decoded.eventName ?? "unknown",
        args: normalizeArgs(decoded.args),
        txHash: r.transactionHash,
        blockNumber: Number(r.blockNumber),
        blockHash: r.blockHash,
        logIndex: log.logIndex,
        blockTime: block.timestamp,
        blockTimeIso: isoOf(block.timestamp),
      });
    }
    return out;
  }

  return {
    receipt,
    blockTime,
    eventsOfTx,
    async eventAt(txHash, logIndex) {
      return (await eventsOfTx(txHash)).find((e) => e.logIndex === logIndex) ?? null;
    },
    contractName(address) {
      return byAddress.get(address.toLowerCase())?.name;
    },
  };
}
