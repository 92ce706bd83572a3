/**
 * What another process wrote reaches this one: one dedicated connection per process LISTENs on the
 * channel `records` (RECORDS_CHANNEL), where every write of the PostgreSQL record and document stores
 * sends `pg_notify('records', '<kind>:<id>')` inside its transaction (so a notification is delivered
 * only after the write committed). Each notification is handed to the handler of its kind, which
 * reads the record again and tells its listeners (SSE streams, notifications) as a local write does.
 * A store may tag its writes (`<kind>:<id>|<tag>`, changePayload): every process hears its own writes
 * too, and the tag tells a store that the version notified is the one it wrote and holds already.
 *
 * NOTIFY is not durable: what is sent while this connection is down is lost. So the connection
 * reconnects with backoff (0.1 s doubling to 5 s), and after every (re)connect, the first one
 * included, each kind is reloaded wholesale (`resync`), which also covers what was written between
 * a store's load at start and the first LISTEN. A network path cut under the connection sends no
 * error for minutes, and no notification either: so the connection is asked `SELECT 1` every
 * HEARTBEAT_MS and counted lost when it does not answer within as long: a cut is noticed within twice
 * HEARTBEAT_MS, and only until then is what the process keeps in memory (sessions) still trusted.
 */
import pg from "pg";
import { endWithin, heartbeat, ownClient } from "./db";
import type { Logger } from "pino";

export const RECORDS_CHANNEL = "records";

/** What a write notifies: `<kind>:<id>`, with `|<tag>` when the writer tags its writes. */
export function changePayload(kind: string, id: string, tag?: string): string {
  // The listener takes what follows the last "|" as the tag (ids here are UUIDs, hashes and addresses).
  if (id.includes("|")) throw new Error(`${kind}: a record id holds "|": ${id}`);
  return tag === undefined ? `${kind}:${id}` : `${kind}:${id}|${tag}`;
}

export interface ChangeHandler {
  /** One record `id` of this kind changed (written by this process or another); `tag`: the write's, if tagged. */
  changed(id: string, tag?: string): Promise<void>;
  /** Notifications may have been missed: read every record of this kind again. */
  resync(): Promise<void>;
}

export interface ChangeListener {
  /** Resolves once LISTEN is in place and the first resync has run (or failed and is retried). */
  ready: Promise<void>;
  /** Connected and listening now. */
  listening(): boolean;
  /**
   * Listening, and the resync after the last (re)connect has run: no change made since then is missed
   * (what a process keeps of the database in memory may be trusted while this holds).
   */
  synced(): boolean;
  close(): Promise<void>;
}

export function createChangeListener(opts: {
  url: string;
  handlers: Record<string, ChangeHandler>;
  logger?: Pick<Logger, "info" | "warn" | "error">;
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** Told when the connection is lost (e.g. Database.suspect: the same path may be down for the pool too). */
  onLost?: (err: Error) => void;
}): ChangeListener {
  const { handlers, logger } = opts;
  const firstRetryMs = opts.firstRetryMs ?? 100;
  const maxRetryMs = opts.maxRetryMs ?? 5000;
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = firstRetryMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let synced = false;
  /** One handler call at a time per kind, in the order the notifications came. */
  const queues = new Map<string, Promise<void>>();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  function run(kind: string, what: string, fn: () => Promise<void>): void {
    const prev = queues.get(kind) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => logger?.error({ err, kind }, `applying another process's change failed (${what})`));
    queues.set(kind, next);
  }

  function onNotification(msg: pg.Notification): void {
    if (msg.channel !== RECORDS_CHANNEL || !msg.payload) return;
    const at = msg.payload.indexOf(":");
    if (at < 0) return;
    const kind = msg.payload.slice(0, at);
    const bar = msg.payload.lastIndexOf("|");
    const id = msg.payload.slice(at + 1, bar > at ? bar : undefined);
    const tag = bar > at ? msg.payload.slice(bar + 1) : undefined;
    const handler = handlers[kind];
    if (handler) run(kind, `${kind}:${id}`, () => handler.changed(id, tag));
  }

  async function resyncAll(): Promise<void> {
    for (const [kind, handler] of Object.entries(handlers)) run(kind, `${kind}: everything`, () => handler.resync());
    await Promise.all([...queues.values()]);
  }

  function scheduleConnect(): void {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(maxRetryMs, retryMs * 2);
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const c = ownClient(opts.url);
    const lost = (err?: Error) => {
      if (client !== c) return;
      client = null;
      synced = false;
      c.removeAllListeners("notification");
      void endWithin(c);
      if (!closed) {
        opts.onLost?.(err ?? new Error("Connection terminated: the LISTEN connection ended"));
        logger?.warn({ err }, "lost the LISTEN connection; reconnecting (every kind is read again after)");
        scheduleConnect();
      }
    };
    c.on("error", lost);
    c.on("end", () => lost());
    c.on("notification", onNotification);
    try {
      await c.connect();
      await c.query(`LISTEN ${RECORDS_CHANNEL}`);
    } catch (err) {
      c.removeAllListeners();
      c.on("error", () => undefined);
      await endWithin(c);
      logger?.warn({ err, retryInMs: retryMs }, "could not LISTEN for other processes' changes; retrying");
      scheduleConnect();
      return;
    }
    if (closed) {
      await endWithin(c);
      return;
    }
    client = c;
    retryMs = firstRetryMs;
    heartbeat(c, () => client === c, lost);
    await resyncAll();
    synced = client === c;
    markReady();
  }

  void connect();

  return {
    ready,
    listening: () => client !== null,
    synced: () => synced,
    async close() {
      closed = true;
      synced = false;
      if (retryTimer) clearTimeout(retryTimer);
      markReady();
      const c = client;
      client = null;
      if (c) await endWithin(c);
      await Promise.all([...queues.values()]);
    },
  };
}
