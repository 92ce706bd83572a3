/**
 * Retention of personal data: identity and biometric documents are purged a configurable period
 * after their last upload (default 90 days). The job runs at start and then daily; the hash, the
 * metadata and the anchor stay, and every purge is logged (in the store and to the logger).
 */
import type { Logger } from "pino";
import { DAY_MS } from "../domain/time";
import { DEFAULT_RETENTION_KINDS, type DocumentKind, type DocumentStore, type PurgeLogEntry } from "./store";

export const DEFAULT_RETENTION_DAYS = 90;

export interface RetentionJobOptions {
  store: DocumentStore;
  /** Milliseconds since the epoch; tests inject a clock they control. */
  now?: () => number;
  retentionDays?: number;
  kinds?: readonly DocumentKind[];
  intervalMs?: number;
  logger?: Pick<Logger, "info" | "error">;
}

export interface RetentionJob {
  /** Purges every document past its retention; returns what was purged. */
  runOnce(): Promise<PurgeLogEntry[]>;
  /** Runs once now, then every interval (default daily). */
  start(): Promise<PurgeLogEntry[]>;
  /** Stops the schedule and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export function createRetentionJob(opts: RetentionJobOptions): RetentionJob {
  const now = opts.now ?? Date.now;
  const retentionMs = (opts.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
  const kinds = new Set<DocumentKind>(opts.kinds ?? DEFAULT_RETENTION_KINDS);
  const intervalMs = opts.intervalMs ?? DAY_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<PurgeLogEntry[]> | undefined;

  async function runOnce(): Promise<PurgeLogEntry[]> {
    const purged: PurgeLogEntry[] = [];
    const at = now();
    for (const record of opts.store.list()) {
      if (record.purgedAt !== undefined) continue;
      const limited = record.uploads.filter((u) => kinds.has(u.kind));
      if (limited.length === 0) continue;
      const lastUploadedAt = Math.max(...limited.map((u) => u.uploadedAt));
      if (at - lastUploadedAt < retentionMs) continue;
      const entry = { kinds: [...new Set(limited.map((u) => u.kind))], lastUploadedAt, purgedAt: at, retentionMs };
      if (await opts.store.purge(record.sha256, entry)) {
        purged.push({ sha256: record.sha256, ...entry });
        opts.logger?.info(
          {
            sha256: record.sha256,
            kinds: entry.kinds,
            lastUploadedAt: new Date(lastUploadedAt).toISOString(),
            retentionDays: retentionMs / DAY_MS,
          },
          "document purged after its retention period; hash and anchor kept",
        );
      }
    }
    return purged;
  }

  // One run at a time: a slow purge never overlaps the next tick.
  function guarded(): Promise<PurgeLogEntry[]> {
    running ??= runOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    runOnce: guarded,
    async start() {
      const first = await guarded();
      timer ??= setInterval(() => {
        guarded().catch((err: unknown) => opts.logger?.error({ err }, "document retention run failed"));
      }, intervalMs);
      timer.unref();
      return first;
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
