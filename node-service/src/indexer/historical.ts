/**
 * Historical stage: `eth_getLogs` over the indexed contracts by block range. Nodes cap what one call
 * may cover (geth/infura: "query returned more than 10000 results", besu: "exceeds maximum range",
 * alchemy: "Log response size exceeded", others "block range too large"): on such a refusal the range
 * is halved and retried; each success lets it grow again, up to the configured maximum.
 */
import type { Log, PublicClient } from "viem";
import type { Logger } from "pino";
import type { Address } from "../domain/entities";

// The last alternative is viem's own ResponseBodyTooLargeError ("HTTP response body exceeded the size limit").
const RANGE_REFUSAL = /range|too many|too large|more than \d+ results|response size|limit exceeded|exceed|size limit/i;

/** True when a node refused a getLogs call for covering too much (checked along the error's cause chain). */
export function isRangeRefusal(err: unknown): boolean {
  for (let e = err as { message?: unknown; details?: unknown; code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    if (e.code === -32005) return true;
    if (typeof e.details === "string" && RANGE_REFUSAL.test(e.details)) return true;
    if (typeof e.message === "string" && RANGE_REFUSAL.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

export interface LogFetcher {
  /** Fetches the logs of [from, to'] for the largest to' <= to the node accepts; returns to'. */
  fetch(from: number, to: number): Promise<{ to: number; logs: Log[] }>;
  /** Current range size in blocks. */
  span(): number;
  /** How many calls the node refused for their size. */
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
          if (!isRangeRefusal(err) || to === from) throw err;
          refused += 1;
          span = Math.max(1, Math.floor((to - from + 1) / 2));
          logger.debug({ from, to, span }, "node refused the log range; halving it");
        }
      }
    },
  };
}
