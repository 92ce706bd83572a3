/**
 * Decode stage: raw logs -> named events with arguments, using the ABIs of the compiled artifacts.
 * Each contract's events are indexed by topic0 once, so decoding a log hashes nothing.
 */
import { decodeEventLog, toEventSelector, type Abi, type AbiEvent, type Hex, type Log } from "viem";
import { abiOf, type ContractName, type Deployment } from "../chain/contracts";
import type { Address, EventRef } from "../domain/entities";
import { ValuePool } from "../domain/intern";

/** One decoded event of a project contract; addresses in `args` are lowercase. */
export interface DecodedEvent {
  ref: EventRef;
  name: string;
  args: Record<string, unknown>;
}

/**
 * The contracts the indexer reads. The settlement token is read for its transfers, so the risk screen
 * can follow money that leaves a borrower and comes back (round-tripping); its reducer keeps only
 * transfers with an admitted participant on one side. On a real deployment pointing at a busy
 * existing token, the unrelated transfers are still fetched and decoded (then dropped).
 */
export const INDEXED_CONTRACTS = [
  "ParticipantRegistry",
  "TradeOrders",
  "Receivables",
  "LoanAgreements",
  "ConsentRegistry",
  "EvidenceNotary",
  "SettlementToken",
] as const satisfies readonly ContractName[];
export type IndexedContract = (typeof INDEXED_CONTRACTS)[number];

interface ContractEvents {
  name: IndexedContract;
  /** topic0 -> a one-item ABI for decodeEventLog. */
  bySelector: Map<Hex, Abi>;
}

export interface Decoder {
  addresses: Address[];
  /** Decodes a log of an indexed contract; null when its topic0 is not an event of that contract. */
  decode(log: Log, at: number): DecodedEvent | null;
}

export function createDecoder(deployment: Deployment): Decoder {
  // Each log's hashes and addresses arrive as new strings; the index keeps one copy of each (domain/intern.ts).
  const strings = new ValuePool();
  const byAddress = new Map<string, ContractEvents>();
  for (const name of INDEXED_CONTRACTS) {
    const bySelector = new Map<Hex, Abi>();
    for (const item of abiOf(name)) {
      if (item.type === "event") bySelector.set(toEventSelector(item as AbiEvent), [item]);
    }
    byAddress.set(deployment.contracts[name].toLowerCase(), { name, bySelector });
  }
  return {
    addresses: [...byAddress.keys()] as Address[],
    decode(log, at) {
      const contract = byAddress.get(log.address.toLowerCase());
      const topic0 = log.topics[0];
      const abi = contract && topic0 ? contract.bySelector.get(topic0) : undefined;
      if (!contract || !abi) return null;
      const decoded = decodeEventLog({ abi, data: log.data, topics: log.topics as [Hex, ...Hex[]], strict: true });
      const eventName = String(decoded.eventName);
      return {
        ref: {
          contract: contract.name,
          event: eventName,
          blockNumber: Number(log.blockNumber),
          blockHash: strings.intern(log.blockHash as Hex),
          txHash: strings.intern(log.transactionHash as Hex),
          logIndex: Number(log.logIndex),
          at,
        },
        name: eventName,
        args: lowercaseAddresses(decoded.args, strings) as Record<string, unknown>,
      };
    },
  };
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** viem returns checksummed addresses; the index keys everything by lowercase address (one copy of each). */
function lowercaseAddresses(value: unknown, strings: ValuePool): unknown {
  if (typeof value === "string") return ADDRESS.test(value) ? strings.intern(value.toLowerCase()) : value;
  if (Array.isArray(value)) return value.map((v) => lowercaseAddresses(v, strings));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = lowercaseAddresses(v, strings);
    return out;
  }
  return value;
}
