/**
 * Independent time for the evidence: an RFC 3161 token from the time-stamping authority the operator
 * configures (TSA_URL) for each anchored batch root and each recorded agreement's EIP-712 digest, so
 * the time of an anchor does not rest on the block producer's clock alone. Tokens are kept durably
 * (an fsync'd journal) and carried in evidence bundles; the verifier checks them. An authority that
 * is down is asked again on the next round.
 */
import type { Hex } from "viem";
import type { Logger } from "pino";
import { JournalStore } from "../applications/journal-store";
import type { Database } from "../store/postgres/db";
import { PostgresRecordStore } from "../store/postgres/record-store";
import type { IndexState } from "../domain/entities";
import { requestTimestamp, tokenToBase64 } from "./rfc3161";

export type StampedKind = "batch root" | "agreement digest";

export interface TimestampRecord {
  /** The stamped 32-byte value, lowercase: a batch root or an agreement digest. */
  id: Hex;
  of: StampedKind;
  tsa: string;
  /** The token, DER, base64. */
  token: string;
  genTime: string;
}

export interface Timestamps {
  tsaUrl: string;
  get(value: Hex): TimestampRecord | undefined;
}

export interface Timestamper extends Timestamps {
  /** Asks for a token for every batch root and agreement digest in the index that has none; returns how many were stamped. */
  stampPending(state: IndexState): Promise<number>;
  start(state: () => IndexState): void;
  stop(): Promise<void>;
  /** PostgreSQL: another process stored token `id` (LISTEN), or everything is read again (`resync`). */
  changedElsewhere?(id: string, tag?: string): Promise<void>;
  resyncFromStore?(): Promise<void>;
}

/** What should carry a token: the index's batch roots and recorded agreements' digests. */
export function stampable(state: IndexState): { value: Hex; of: StampedKind }[] {
  const roots = Object.values(state.anchors)
    .filter((a) => a.batchCount !== undefined)
    .map((a) => ({ value: a.documentHash.toLowerCase() as Hex, of: "batch root" as const }));
  const digests = Object.keys(state.loanByDigest).map((d) => ({ value: d.toLowerCase() as Hex, of: "agreement digest" as const }));
  return [...roots, ...digests];
}

export async function openTimestamper(opts: {
  dataDir: string;
  /** PostgreSQL (DATABASE_URL) instead of the journal under dataDir. */
  db?: Database;
  tsaUrl: string;
  intervalMs?: number;
  logger?: Logger;
  /**
   * Several processes on one database: rounds run only while this answers true (the process holding
   * the index writer's lock), so each value is stamped once. Unset: one process, always.
   */
  runsJobs?: () => boolean;
}): Promise<Timestamper> {
  const shared = opts.db ? await PostgresRecordStore.open<TimestampRecord>(opts.db, "timestamps") : undefined;
  const store = shared ?? (await JournalStore.open<TimestampRecord>(opts.dataDir, "timestamps"));
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | null = null;
  let failing = false;

  async function stampPending(state: IndexState): Promise<number> {
    let stamped = 0;
    for (const { value, of } of stampable(state)) {
      if (store.get(value)) continue;
      const { token, genTime } = await requestTimestamp(opts.tsaUrl, value);
      // Acknowledged only once the token is on disk.
      await store.put({ id: value, of, tsa: opts.tsaUrl, token: tokenToBase64(token), genTime: genTime.toISOString() });
      stamped++;
    }
    return stamped;
  }

  return {
    tsaUrl: opts.tsaUrl,
    get: (value) => store.get(value.toLowerCase()),
    stampPending,
    start(state) {
      // One round at a time; a round that fails (authority down) is retried on the next tick.
      const round = () => {
        if (opts.runsJobs && !opts.runsJobs()) return;
        current ??= stampPending(state())
          .then(
            () => {
              if (failing) opts.logger?.info({ tsa: opts.tsaUrl }, "the time-stamping authority answers again");
              failing = false;
            },
            (err: unknown) => {
              if (!failing) opts.logger?.warn({ err, tsa: opts.tsaUrl }, "could not get a timestamp token; asking again on the next round");
              failing = true;
            },
          )
          .finally(() => (current = null));
      };
      timer = setInterval(round, opts.intervalMs ?? 5_000);
      round();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await current;
      await store.close();
    },
    ...(shared
      ? {
          changedElsewhere: async (id: string, tag?: string) => void (await shared.refresh(id, tag)),
          resyncFromStore: async () => void (await shared.reload()),
        }
      : {}),
  };
}
