/**
 * Reads a mined transaction's opcode trace (`debug_traceTransaction`) for the gas benchmark:
 * which storage slots it really changed (against the state of the block before, to check the slot
 * counts the benchmark declares), and where its gas went (calldata, external calls, cold reads,
 * storage writes, logs), to explain an operation that misses its target.
 */
import type { Address, Hex, PublicClient } from "viem";

/** Any EIP-1193 provider (Hardhat's in-process one included) that answers debug_traceTransaction. */
export interface TraceProvider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export interface ExternalCall {
  op: string;
  to: Address;
  /** Gas the caller lost to the call: access cost, the callee's execution and the return. */
  gas: number;
}

export interface TxTrace {
  /** Slots that were zero before the transaction and are non-zero after it (22,100 gas each at least). */
  created: number;
  /** Slots that were non-zero before and hold another value after it, zero included (5,000 gas each at least). */
  updated: number;
  /** Every changed slot as "contract:slot". */
  slots: string[];
  /** Intrinsic gas of the input bytes (16 per non-zero byte, 4 per zero byte). */
  calldataGas: number;
  /** Calls made by the entry contract (depth 1) to other contracts or precompiles. */
  calls: ExternalCall[];
  /** SLOADs of a slot not yet touched in the transaction (2,100 gas each). */
  coldSloads: number;
  sstoreGas: number;
  logGas: number;
}

interface StructLog {
  depth: number;
  op: string;
  gas: number;
  gasCost: number;
  stack?: string[];
}

const CONTEXT_SWITCHING_CALLS = new Set(["CALL", "STATICCALL"]);
const CONTEXT_KEEPING_CALLS = new Set(["DELEGATECALL", "CALLCODE"]);

function word(hex: string): Hex {
  return `0x${hex.replace(/^0x/, "").padStart(64, "0")}`;
}

function calldataGas(input: Hex): number {
  let gas = 0;
  for (let i = 2; i < input.length; i += 2) gas += input.slice(i, i + 2) === "00" ? 4 : 16;
  return gas;
}

export async function traceTransaction(provider: TraceProvider, publicClient: PublicClient, txHash: Hex): Promise<TxTrace> {
  const [receipt, tx] = await Promise.all([
    publicClient.getTransactionReceipt({ hash: txHash }),
    publicClient.getTransaction({ hash: txHash }),
  ]);
  if (!receipt.to) throw new Error(`${txHash} is a deployment, not a call`);
  const { structLogs: logs } = (await provider.request({
    method: "debug_traceTransaction",
    params: [txHash, { disableMemory: true, disableStorage: true }],
  })) as { structLogs: StructLog[] };

  const result: TxTrace = {
    created: 0,
    updated: 0,
    slots: [],
    calldataGas: calldataGas(tx.input),
    calls: [],
    coldSloads: 0,
    sstoreGas: 0,
    logGas: 0,
  };
  const writes = new Map<string, { address: Address; slot: Hex; value: Hex }>();
  // Storage context per call depth: a CALL/STATICCALL runs in the callee's storage, a DELEGATECALL in the caller's.
  const contexts: Address[] = [receipt.to];
  let pending: Address | undefined;
  let openCall: ExternalCall | undefined;
  let openCallGas = 0;
  for (const step of logs) {
    while (contexts.length > step.depth) contexts.pop();
    if (step.depth > contexts.length && pending) contexts.push(pending);
    pending = undefined;
    if (openCall && step.depth === 1) {
      // Back in the entry contract (or the call never entered code, as for a precompile).
      openCall.gas = openCallGas - step.gas;
      result.calls.push(openCall);
      openCall = undefined;
    }
    const stack = step.stack ?? [];
    const top = (i: number) => stack[stack.length - 1 - i];
    if (CONTEXT_SWITCHING_CALLS.has(step.op) || CONTEXT_KEEPING_CALLS.has(step.op)) {
      const to = `0x${top(1).slice(-40)}` as Address;
      pending = CONTEXT_SWITCHING_CALLS.has(step.op) ? to : contexts[contexts.length - 1];
      if (step.depth === 1) {
        openCall = { op: step.op, to, gas: 0 };
        openCallGas = step.gas;
      }
    } else if (step.op === "SSTORE") {
      const address = contexts[contexts.length - 1];
      const slot = word(top(0));
      writes.set(`${address.toLowerCase()}:${slot}`, { address, slot, value: word(top(1)) });
      result.sstoreGas += step.gasCost;
    } else if (step.op === "SLOAD" && step.gasCost >= 2_100) {
      result.coldSloads += 1;
    } else if (step.op.startsWith("LOG")) {
      result.logGas += step.gasCost;
    }
  }

  const before = receipt.blockNumber - 1n;
  for (const [key, { address, slot, value }] of writes) {
    const original = word((await publicClient.getStorageAt({ address, slot, blockNumber: before })) ?? "0x0");
    if (original === value) continue;
    if (BigInt(original) === 0n) result.created += 1;
    else result.updated += 1;
    result.slots.push(key);
  }
  return result;
}
