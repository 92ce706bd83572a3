/**
 * Several service processes on one database: every process runs the indexer in memory (it follows the
 * chain itself, so its reads are fresh), but only the holder of a PostgreSQL advisory lock writes the
 * index. The lock is session-level on a connection of its own: when the holding process dies, its
 * connection closes, PostgreSQL releases the lock, and the next process to try (each tries every
 * `retryMs`, and at each commit) takes over. Its first write after taking over is a whole rewrite of
 * the index from its own in-memory state (which it built from the last committed index and the chain),
 * so what the dead process had not committed is not lost: it is on chain, and the new writer has it.
 *
 * The same lock elects the process that runs the background jobs that send transactions or call out
 * (server.ts `runsJobs`): applications' reconcile and decision anchors, the documents' notary batcher,
 * the RFC 3161 timestamper. A job checks isLeader() before each round, so two processes never run the
 * same round; a round already under way when the lock is lost (the connection dropped) finishes, and
 * what it sends is recognised by the next leader where it can be (a decision anchor already in the index).
 */
import pg from "pg";
import { CONNECT_TIMEOUT_MS, QUERY_TIMEOUT_MS } from "./db";
import type { Logger } from "pino";
import type { IndexStore } from "../index-store";

export const LOCK_INDEXER = 7_170_002n;
const WARN_EVERY_MS = 60_000;

export interface IndexLeadership {
  /** The store to give the indexer: writes only while this process holds the lock. */
  store: IndexStore;
  isLeader(): boolean;
  close(): Promise<void>;
}

export function createIndexLeadership(opts: {
  url: string;
  inner: IndexStore;
  retryMs?: number;
  logger?: Logger;
  /** Called when this process takes the lock (it now runs the background jobs too). */
  onAcquired?: () => void;
}): IndexLeadership {
  const { inner, logger } = opts;
  let client: pg.Client | null = null;
  let leader = false;
  /** The next write must be a whole rewrite (just took over). */
  let rewrite = false;
  let closed = false;
  let trying: Promise<boolean> | null = null;
  // Attempts fail every retryMs while the database is out of reach: warn of the first, then once a minute.
  let failures = 0;
  let warnedAt = 0;

  async function tryLock(): Promise<boolean> {
    if (leader || closed) return leader;
    trying ??= (async () => {
      try {
        if (!client) {
          const c = new pg.Client({
            connectionString: opts.url,
            connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
            query_timeout: QUERY_TIMEOUT_MS,
          });
          c.on("error", (err) => {
            // The lock went with the connection.
            if (leader) logger?.error({ err }, "lost the index writer's lock (database connection closed)");
            leader = false;
            client = null;
          });
          await c.connect();
          client = c;
        }
        const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_INDEXER.toString()]);
        if (failures > 0) logger?.info({ failures }, "the database answers the index writer's lock again");
        failures = 0;
        if (rows[0].ok && !closed) {
          leader = true;
          rewrite = true;
          logger?.info("this process now writes the index and runs the background jobs (advisory lock taken)");
          setImmediate(() => opts.onAcquired?.());
        }
      } catch (err) {
        failures += 1;
        if (failures === 1 || Date.now() - warnedAt >= WARN_EVERY_MS) {
          warnedAt = Date.now();
          logger?.warn({ err, failures }, "could not ask for the index writer's lock; retrying (warned of again once a minute)");
        }
        await client?.end().catch(() => undefined);
        client = null;
      } finally {
        trying = null;
      }
      return leader;
    })();
    return trying;
  }

  const timer = setInterval(() => void tryLock(), opts.retryMs ?? 1000);
  timer.unref();

  return {
    store: {
      commitMaxEvents: inner.commitMaxEvents,
      load: () => inner.load(),
      async save(doc, changes) {
        if (!(await tryLock())) return { bytes: 0, ms: 0 };
        const w = await inner.save(doc, rewrite ? null : changes);
        rewrite = false;
        return w;
      },
    },
    isLeader: () => leader,
    async close() {
      closed = true;
      clearInterval(timer);
      await trying;
      leader = false;
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
