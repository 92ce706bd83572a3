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
 *
 * A network path cut under the lock's connection tells neither side for minutes. So the writer asks its
 * lock connection `SELECT 1` every HEARTBEAT_MS and stops writing when it gets no answer within as
 * long; the server is told to probe that connection (TCP keepalives, ~11 s) so that it frees the lock
 * of a writer cut off, and another process can take over. And each commit proves, inside its own
 * transaction, that the lock is still held by this process's lock session (pg_locks): a writer that
 * heard nothing (paused past its heartbeat, say) cannot write after another has taken the lock. The
 * new writer's first write is a whole rewrite (TRUNCATE waits for a commit under way), so the index is
 * never the sum of two writers.
 */
import pg from "pg";
import { endWithin, HEARTBEAT_MS, heartbeat, ownClient } from "./db";
import type { Logger } from "pino";
import type { IndexStore, WriteFence, WriteStats } from "../index-store";

export const LOCK_INDEXER = 7_170_002n;
const WARN_EVERY_MS = 60_000;
/** The server's probes of the lock connection: the first after 5 s of silence, then every 2 s, 3 unanswered end it. */
const SERVER_KEEPALIVES = "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3";

/** Thrown by the write fence: the lock is no longer this process's. */
class WriterLockLost extends Error {}

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
  /** How often the writer checks its lock connection answers (HEARTBEAT_MS). */
  heartbeatMs?: number;
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
  /** The server process of the lock's session while this process holds the lock (pg_locks names it). */
  let lockPid = 0;

  /** Stops writing: the lock can no longer be shown to be this process's; its connection is closed. */
  function stepDown(reason: string, err?: unknown): void {
    if (!leader) return;
    leader = false;
    logger?.error({ err }, `stopped writing the index: ${reason}`);
    const c = client;
    client = null;
    if (c) void endWithin(c);
  }

  const fence: WriteFence = async (tx) => {
    const held = await tx.query(
      "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 1 AND pid = $3 AND granted",
      [Number(LOCK_INDEXER >> 32n), Number(LOCK_INDEXER & 0xffffffffn), lockPid],
    );
    if (held.rowCount !== 1) throw new WriterLockLost("the index writer's lock is no longer held by this process's lock session");
  };

  async function tryLock(): Promise<boolean> {
    if (leader || closed) return leader;
    trying ??= (async () => {
      try {
        if (!client) {
          const c = ownClient(opts.url);
          c.on("error", (err) => {
            if (client !== c) return; // a connection already given up (stepDown) failing late
            stepDown("its lock connection closed (the lock went with it)", err);
            client = null;
          });
          await c.connect();
          await c.query(SERVER_KEEPALIVES);
          client = c;
        }
        const c = client;
        const { rows } = await c.query<{ ok: boolean; pid: number }>("SELECT pg_try_advisory_lock($1) AS ok, pg_backend_pid() AS pid", [
          LOCK_INDEXER.toString(),
        ]);
        if (failures > 0) logger?.info({ failures }, "the database answers the index writer's lock again");
        failures = 0;
        if (rows[0].ok && !closed) {
          leader = true;
          rewrite = true;
          lockPid = rows[0].pid;
          heartbeat(
            c,
            () => leader && client === c,
            (err) => stepDown("its lock connection does not answer", err),
            opts.heartbeatMs ?? HEARTBEAT_MS,
          );
          logger?.info("this process now writes the index and runs the background jobs (advisory lock taken)");
          setImmediate(() => opts.onAcquired?.());
        }
      } catch (err) {
        failures += 1;
        if (failures === 1 || Date.now() - warnedAt >= WARN_EVERY_MS) {
          warnedAt = Date.now();
          logger?.warn({ err, failures }, "could not ask for the index writer's lock; retrying (warned of again once a minute)");
        }
        if (client) await endWithin(client);
        client = null;
      } finally {
        trying = null;
      }
      return leader;
    })();
    return trying;
  }

  /** A write under the lock (`whole`: the rewrite owed, paid once it succeeds); a lost lock stops the writing. */
  async function fenced(write: Promise<WriteStats>, whole: boolean): Promise<WriteStats> {
    try {
      const w = await write;
      if (whole) rewrite = false;
      return w;
    } catch (err) {
      if (!(err instanceof WriterLockLost)) throw err;
      stepDown("another process holds its lock", err);
      return { bytes: 0, ms: 0 };
    }
  }

  const timer = setInterval(() => void tryLock(), opts.retryMs ?? 1000);
  timer.unref();

  return {
    store: {
      commitMaxEvents: inner.commitMaxEvents,
      costFollowsChanges: inner.costFollowsChanges,
      // Only the writer that owes no rewrite hands a commit to the inner store at once (below), so only
      // its commits may overlap the indexer's next range; the others wait for the lock first.
      get snapshotOnSave() {
        return inner.snapshotOnSave === true && leader && !rewrite;
      },
      // What this process saved before it took the lock was not written: it owes its whole index.
      get owesWrite() {
        return leader && rewrite;
      },
      load: () => inner.load(),
      save(doc, changes) {
        if (leader && !rewrite) return fenced(inner.save(doc, changes, fence), false);
        return tryLock().then((held) => {
          if (!held) return { bytes: 0, ms: 0 };
          const whole = rewrite;
          return fenced(inner.save(doc, whole ? null : changes, fence), whole);
        });
      },
    },
    isLeader: () => leader,
    async close() {
      closed = true;
      clearInterval(timer);
      await trying;
      leader = false;
      if (client) await endWithin(client);
      client = null;
    },
  };
}
