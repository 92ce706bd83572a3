/**
 * The one way the service sends its own transactions (document batches, decision anchors, agreement
 * submissions): one queue per account with one nonce source, the configured fees on every request,
 * and every transaction judged by its receipt. A node may hand back the hash of a transaction that was
 * mined but reverted (Anvil does; Hardhat throws instead): that is a failure here, with the contract's
 * custom error decoded from a replay of the call.
 */
import type { Abi, Account, Address, Chain, Hex, PublicClient, TransactionReceipt, Transport, WalletClient } from "viem";
import { encodeFunctionData } from "viem";
import type { Logger } from "pino";
import type { FeeFields } from "./fees";
import { describeChainError } from "./revert";

export interface TxRequest {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  /** What the transaction does, for logs and errors ("anchor decision of application …"). */
  label: string;
  /** Gas limit; unset asks the node to estimate (which refuses a call that would revert). */
  gas?: bigint;
}

/** A transaction the chain refused, or mined and reverted; `reason` is one line (the decoded custom error when known). */
export class TxFailedError extends Error {
  constructor(
    readonly label: string,
    readonly reason: string,
    readonly txHash?: Hex,
    options?: { cause?: unknown },
  ) {
    super(`${label}: ${reason}${txHash ? ` (tx ${txHash})` : ""}`, options);
    this.name = "TxFailedError";
  }
}

export interface TxSender {
  readonly address: Address;
  /** Sends through the queue and waits for the receipt: resolves only with a successful one. */
  write(request: TxRequest): Promise<TransactionReceipt>;
}

export interface TxSenderOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  fees?: FeeFields;
  logger?: Pick<Logger, "info" | "warn" | "error">;
  /**
   * Several processes sending from the same account: runs each nonce choice and hand-over to the node
   * under a lock they share (a PostgreSQL advisory lock, store/postgres/db.ts withAdvisoryLock), so two
   * processes never pick the same nonce. Unset: this process's queue alone.
   */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function createTxSender(opts: TxSenderOptions): TxSender {
  const { publicClient, walletClient } = opts;
  const account = walletClient.account;
  const fees = opts.fees ?? {};
  /** Tail of the submission queue: a send starts when the one before it has been handed to the node. */
  let queue: Promise<unknown> = Promise.resolve();
  /** The next nonce this sender will use; undefined means "ask the node" (at start and after a failed send). */
  let nextNonce: number | undefined;

  async function submit(request: TxRequest): Promise<Hex> {
    const pendingCount = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
    const nonce = Math.max(pendingCount, nextNonce ?? 0);
    try {
      const hash = await walletClient.writeContract({
        address: request.address,
        abi: request.abi,
        functionName: request.functionName,
        args: request.args,
        account,
        chain: walletClient.chain,
        nonce,
        ...(request.gas !== undefined ? { gas: request.gas } : {}),
        ...fees,
      } as Parameters<typeof walletClient.writeContract>[0]);
      nextNonce = nonce + 1;
      return hash;
    } catch (err) {
      // The node may or may not have taken the nonce (Hardhat mines a reverting transaction and throws):
      // the next send asks it again.
      nextNonce = undefined;
      throw new TxFailedError(request.label, describeChainError(err), undefined, { cause: err });
    }
  }

  /** Why a mined transaction reverted: its call replayed against the state of its block. */
  async function revertReason(request: TxRequest, receipt: TransactionReceipt): Promise<string> {
    try {
      await publicClient.call({
        account: account.address,
        to: request.address,
        data: encodeFunctionData({ abi: request.abi, functionName: request.functionName, args: request.args }),
        blockNumber: receipt.blockNumber,
        ...(request.gas !== undefined ? { gas: request.gas } : {}),
      });
      return `mined in block ${receipt.blockNumber} and reverted (its replay on that block's state does not revert, so no reason is known)`;
    } catch (err) {
      return `mined in block ${receipt.blockNumber} and ${describeChainError(err)} (reason from a replay on that block's state)`;
    }
  }

  return {
    address: account.address,
    async write(request) {
      const submitted = queue.then(() => (opts.exclusive ? opts.exclusive(() => submit(request)) : submit(request)));
      queue = submitted.catch(() => undefined);
      const hash = await submitted;
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new TxFailedError(request.label, await revertReason(request, receipt), hash);
      return receipt;
    },
  };
}

/**
 * Runs `attempt` until it succeeds or `signal` aborts, logging each failure (what: named now, or when it
 * failed) with its reason and waiting
 * firstDelayMs, then twice as long each time, up to maxDelayMs. Resolves true when it succeeded.
 */
export async function retryWithBackoff(
  what: string | (() => string),
  attempt: () => Promise<void>,
  opts: { logger?: Pick<Logger, "warn" | "error">; signal: AbortSignal; firstDelayMs?: number; maxDelayMs?: number },
): Promise<boolean> {
  let delay = opts.firstDelayMs ?? 1000;
  const maxDelay = opts.maxDelayMs ?? 60_000;
  for (let tries = 1; ; tries++) {
    if (opts.signal.aborted) return false;
    try {
      await attempt();
      return true;
    } catch (err) {
      const reason = err instanceof TxFailedError ? err.reason : describeChainError(err);
      opts.logger?.error(
        { err, reason, tries, retryInMs: delay },
        `${typeof what === "string" ? what : what()} failed: ${reason}; retrying`,
      );
    }
    const waited = await new Promise<boolean>((resolve) => {
      if (opts.signal.aborted) return resolve(false);
      const timer = setTimeout(() => {
        opts.signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, delay);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      opts.signal.addEventListener("abort", onAbort, { once: true });
    });
    if (!waited) return false;
    delay = Math.min(maxDelay, delay * 2);
  }
}
