/**
 * Historical stage: `eth_getLogs` over the indexed contracts by block range. Nodes cap what one call
 * may cover (geth/infura: "query returned more than 10000 results", besu: "exceeds maximum range",
 * alchemy: "Log response size exceeded", others "block range too large"): on such a refusal the range
 * is halved and retried; each success lets it grow again, up to the configured maximum. A range is
 * never asked beyond the head the caller read; a node that answers "block out of range" anyway (Anvil:
 * "BlockOutOfRangeError: block height is N but requested was M", after its head moved back) is not
 * refusing the size: that is a BeyondHeadError, for the caller to re-read the head, never a halving.
 * A call that outlasts RPC_TIMEOUT_MS is taken as a refusal too: a slow node (or a first sync reading a
 * long history in one range) answers a narrower range in time, where the same wide call would time out
 * at every start.
 */
import type { Log, PublicClient } from "viem";
import type { Logger } from "pino";
import type { Address } from "../domain/entities";

// The last alternative is viem's own ResponseBodyTooLargeError ("HTTP response body exceeded the size limit").
const RANGE_REFUSAL =
  /range too large|block range|exceeds? (the )?max(imum)? (block )?range|range (is )?too (large|wide|big)|too many|too large|more than \d+ results|response size|limit exceeded|exceed|size limit/i;
// "block height is 5 but requested was 9" (Anvil), "block out of range", "header not found" / "unknown block" (geth, past its head).
const BEYOND_HEAD =
  /out of range|outofrange|requested was \d+|beyond (the )?(current )?head|header not found|unknown block|block not found|after last accepted block/i;

type ErrorLike = { message?: unknown; details?: unknown; shortMessage?: unknown; code?: unknown; cause?: unknown } | undefined;

function anyMessage(err: unknown, pattern: RegExp): boolean {
  for (let e = err as ErrorLike, depth = 0; e && depth < 8; depth++) {
    for (const text of [e.details, e.message, e.shortMessage]) if (typeof text === "string" && pattern.test(text)) return true;
    e = e.cause as ErrorLike;
  }
  return false;
}

/** True when a node refused a getLogs call because a block of it lies beyond its head (not for its size). */
export function isBeyondHead(err: unknown): boolean {
  return anyMessage(err, BEYOND_HEAD);
}

/** True when the call outlasted the client's timeout (viem's TimeoutError, anywhere along the cause chain). */
export function isTimeout(err: unknown): boolean {
  for (let e = err as { name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.name === "TimeoutError") return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** True when a node refused a getLogs call for covering too much (checked along the error's cause chain). */
export function isRangeRefusal(err: unknown): boolean {
  if (isBeyondHead(err)) return false;
  for (let e = err as ErrorLike, depth = 0; e && depth < 8; depth++) {
    if (e.code === -32005) return true;
    e = e.cause as ErrorLike;
  }
  return anyMessage(err, RANGE_REFUSAL);
}

/** The node says a block of the range lies beyond its head: its head moved back (a reorg, a reset, another node behind a balancer). */
export class BeyondHeadError extends Error {
  readonly retryable = true;
  constructor(
    readonly from: number,
    readonly to: number,
    options?: { cause?: unknown },
  ) {
    super(`the node has no block ${from}..${to} any more (its head moved back); the head is read again`, options);
    this.name = "BeyondHeadError";
  }
}

export interface LogFetcher {
  /**
   * Fetches the logs of [from, to'] for the largest to' <= to the node accepts; returns to'. `to` must
   * not exceed the head the caller read; throws BeyondHeadError when the node no longer has the blocks.
   */
  fetch(from: number, to: number): Promise<{ to: number; logs: Log[] }>;
  /** Current range size in blocks. */
  span(): number;
  /** How many calls the node refused for their size or did not answer within the timeout. */
  refusals(): number;
}

export function createLogFetcher(opts: {
  publicClient: PublicClient;
  addresses: Address[];
  maxBlockRange: number;
  logger: Logger;
}): LogFetcher {
  const { publicClient, addresses, maxBlockRange, logger } = opts;
  let span = maxBlockRange;
  let refused = 0;
  return {
    span: () => span,
    refusals: () => refused,
    async fetch(from, target) {
      for (;;) {
        const to = Math.min(target, from + span - 1);
        try {
          const logs = await publicClient.getLogs({ address: addresses, fromBlock: BigInt(from), toBlock: BigInt(to) });
          span = Math.min(maxBlockRange, Math.ceil(span * 1.25));
          return { to, logs };
        } catch (err) {
          if (isBeyondHead(err)) throw new BeyondHeadError(from, to, { cause: err });
          const timedOut = isTimeout(err);
          if (!(timedOut || isRangeRefusal(err)) || to === from) throw err;
          refused += 1;
          span = Math.max(1, Math.floor((to - from + 1) / 2));
          if (timedOut) logger.info({ from, to, span }, "the node did not answer the log range in time; halving it");
          else logger.debug({ from, to, span }, "node refused the log range; halving it");
        }
      }
    },
  };
}
