/**
 * The PostgreSQL connection of the service (DATABASE_URL): one pool, the schema migrations applied at
 * open, and transactions. Migrations are the plain SQL files of node-service/migrations, applied in
 * order of file name, each in its own transaction, under an advisory lock so several processes
 * starting at once apply each file once; applied names are kept in schema_migrations.
 *
 * Durability: every write of the PostgreSQL stores is a transaction (tx, or a statement's or a batch's
 * own), and a store resolves only after its commit returned (synchronous_commit is on by default: the
 * commit record is flushed to the WAL).
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { REPO_ROOT } from "../../chain/contracts";

export const MIGRATIONS_DIR = path.join(REPO_ROOT, "node-service", "migrations");

/** Advisory lock ids of the service (pg_advisory_lock takes one bigint). */
export const LOCK_MIGRATE = 7_170_001n;
/** Held while a process picks a nonce for the service account and hands the transaction to the node. */
export const LOCK_SENDER = 7_170_003n;

export interface Database {
  pool: pg.Pool;
  /**
   * Runs `fn` in a transaction; resolves after COMMIT (rolls back and rethrows on an error; a connection
   * that failed is closed, see releaseFailed). `snapshot`: a read-only transaction on one snapshot, so a
   * concurrent commit (another process) is seen whole or not at all.
   */
  tx<T>(fn: (client: pg.PoolClient) => Promise<T>, opts?: { snapshot?: boolean }): Promise<T>;
  /**
   * One statement in a transaction of its own (autocommit: no BEGIN and COMMIT round trips); resolves
   * after its commit. A failure is noted as tx's are, and a connection that failed is closed.
   */
  statement<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * Several statements in one round trip and one transaction (PostgreSQL runs a simple query's statements
   * as one transaction; each still takes its own snapshot under READ COMMITTED); one result per statement,
   * resolves after the commit. The simple protocol carries no parameters: values go in as literals
   * (pg.escapeLiteral). On an error the server rolls the whole batch back.
   */
  batch(statements: string[]): Promise<pg.QueryResult[]>;
  /**
   * Whether the database answers now: while it is known out of reach, what the last probe found; else a
   * `SELECT 1` (at most one a second; callers at once share it).
   */
  probe(): Promise<DatabaseHealth>;
  /**
   * Tells the pool that the database looks out of reach (another connection of the process lost it, e.g.
   * the LISTEN heartbeat): the pool refuses at once until a fresh connection answers again (see Reachability).
   */
  suspect(err: Error): void;
  close(): Promise<void>;
}

export interface DatabaseHealth {
  ok: boolean;
  /** Why not, as the driver said it. */
  error?: string;
  /** ISO time of the first failed probe of this outage. */
  since?: string;
}

/**
 * How long a query may wait for a connection (a new one, or a free one of the pool) before it fails (503)
 * instead of hanging; the lock's and LISTEN's own connections give up as soon (a server that does not
 * answer would otherwise hold them without end, a host that drops packets for minutes).
 */
export const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long a query may go without an answer before it fails (503) and its connection is closed: a
 * network path cut under an open connection sends no error for minutes (TCP's retransmissions), and
 * the request, and the connection, would wait all that time.
 */
export const QUERY_TIMEOUT_MS = 10_000;
/** For the queries that may rightly run long: migrations, waiting for another process's, and loading the index. */
export const LONG_QUERY_TIMEOUT_MS = 3_600_000;
/** How often a long-lived connection (LISTEN, the writer's lock) is asked whether it still answers, and how long it has to. */
export const HEARTBEAT_MS = 1_000;
const PROBE_EVERY_MS = 1_000;

/** Server answers that mean "not reachable now", not "this request is wrong": class 08, shutdowns, too many connections. */
const UNAVAILABLE_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);
/** What node-postgres says, without a code, when a connection fails or is lost. */
const DRIVER_CONNECTION_FAILURE =
  /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|not currently accepting connections|Query read timeout/;
/** Marks an error of connecting to the database (a bare ECONNREFUSED says nothing of which server refused). */
const CONNECT_FAILED = Symbol("database connect failed");

/** True when `err` says the database could not be reached (or dropped the connection): retryable, nothing was committed. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; [CONNECT_FAILED]?: true } | undefined;
  if (e?.[CONNECT_FAILED]) return true;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.startsWith("08") || UNAVAILABLE_CODES.has(code)) return true;
  return typeof e?.message === "string" && DRIVER_CONNECTION_FAILURE.test(e.message);
}

function markConnectFailure(err: Error): Error {
  if (typeof err === "object") Object.defineProperty(err, CONNECT_FAILED, { value: true });
  return err;
}

/** Too many connections: the server is there and busy, which is no reason to stop using the connections the pool has. */
const TOO_MANY_CONNECTIONS = "53300";
/** pg-pool's own error when every connection of a full pool stays busy: the database may be fine. */
const POOL_WAIT_TIMEOUT = "timeout exceeded when trying to connect";

/** Whether `err` says the database itself is out of reach (not only busy): what makes the pool refuse at once. */
function isOutOfReach(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return isDatabaseUnavailable(err) && e?.code !== TOO_MANY_CONNECTIONS && e?.message !== POOL_WAIT_TIMEOUT;
}

type ServiceClientConfig = pg.ClientConfig & { onConnectFailure?: (err: Error) => void };

/**
 * The pool's client: a failure to connect is marked as the database's (see isDatabaseUnavailable) and
 * reported to `onConnectFailure` (the pool passes its options to each client it makes).
 */
class ServiceClient extends pg.Client {
  private readonly onConnectFailure?: (err: Error) => void;
  constructor(config: ServiceClientConfig = {}) {
    super(config);
    this.onConnectFailure = config.onConnectFailure;
  }

  private failed(err: Error): Error {
    this.onConnectFailure?.(err);
    return markConnectFailure(err);
  }

  override connect(): Promise<pg.Client>;
  override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
  override connect(callback?: (...args: never[]) => void): Promise<pg.Client> | void {
    if (!callback)
      return super.connect().catch((err: Error) => {
        throw this.failed(err);
      });
    // pg-pool connects its clients this way.
    const done = callback as (err: Error | null, c?: pg.Client) => void;
    super.connect(((err: Error | null, c: pg.Client) => done(err && this.failed(err), c)) as never);
  }
}

/**
 * Whether the database is known to be out of reach, so that requests fail at once (503) instead of each
 * waiting out the connect or query timeout (5-10 s over a cut network path, holding its socket and a
 * place in the pool's queue meanwhile). It is out of reach from the first connection failure that says
 * so (a connect, a query's connection lost or timed out, a failed probe, or `suspect`), and back as soon
 * as a fresh connection of its own answers `SELECT 1`: tried at once, then every `retryMs`. A false
 * alarm (a slow query timing out) costs the time of one fresh connection.
 */
class Reachability {
  private down: { error: string; since: string } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly check: () => Promise<void>,
    private readonly retryMs: number,
  ) {}

  health(): DatabaseHealth | null {
    return this.down && { ok: false, ...this.down };
  }

  /** The error to fail with at once while the database is out of reach, or null. */
  refusal(): Error | null {
    if (!this.down) return null;
    return markConnectFailure(
      new Error(`the database is out of reach since ${this.down.since} (${this.down.error}); retrying in the background`),
    );
  }

  /** Notes a failure; one that says the database is out of reach starts the checks. */
  failed(err: unknown): void {
    if (isOutOfReach(err)) this.lost(err as Error);
  }

  /** The database is taken to be out of reach until a check finds it again. */
  lost(err: Error): void {
    if (this.down || this.closed) return;
    this.down = { error: err.message, since: new Date().toISOString() };
    this.retry(0);
  }

  private retry(ms: number): void {
    this.timer = setTimeout(() => {
      this.check().then(
        () => (this.down = null),
        (err: Error) => {
          if (this.down) this.down.error = err.message;
          if (!this.closed) this.retry(this.retryMs);
        },
      );
    }, ms);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}

/** A pool that refuses at once, without a connection, while its database is known out of reach. */
class ServicePool extends pg.Pool {
  constructor(
    config: pg.PoolConfig & ServiceClientConfig,
    private readonly reachability: Reachability,
  ) {
    super(config);
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
  override connect(callback?: (...args: never[]) => void): Promise<pg.PoolClient> | void {
    const refusal = this.reachability.refusal();
    if (!refusal) return callback ? super.connect(callback as never) : super.connect();
    if (!callback) return Promise.reject(refusal);
    // pg-pool's own query() connects this way.
    const done = callback as (err: Error) => void;
    process.nextTick(() => done(refusal));
  }
}

// int8 as string (never a lossy number); amounts inside jsonb are decimal strings already.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => v);

export async function openDatabase(url: string, opts: { max?: number } = {}): Promise<Database> {
  // The check that ends an outage: a connection of its own, since the pool's idle ones may sit on a dead path.
  const reachability = new Reachability(async () => {
    const c = ownClient(url);
    c.on("error", () => undefined);
    try {
      await c.connect();
      await c.query("SELECT 1");
    } finally {
      await endWithin(c);
    }
  }, PROBE_EVERY_MS);
  const pool = new ServicePool(
    {
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      max: opts.max ?? 10,
      Client: ServiceClient,
      onConnectFailure: (err) => reachability.failed(err),
    },
    reachability,
  );
  // An idle client losing its server (a restart) must not crash the process: the pool replaces it.
  pool.on("error", () => undefined);
  let health: DatabaseHealth = { ok: true };
  let probedAt = -Infinity;
  let probing: Promise<DatabaseHealth> | null = null;
  /** Runs `fn` on a pool connection outside any BEGIN (autocommit), noting a failure as tx does. */
  const once = async <R>(fn: (client: pg.PoolClient) => Promise<R>): Promise<R> => {
    const client = await pool.connect();
    try {
      const out = await fn(client);
      client.release();
      return out;
    } catch (err) {
      reachability.failed(err);
      // Nothing to roll back: the server ended the statement's own transaction with the error.
      client.release(isDatabaseUnavailable(err));
      throw err;
    }
  };
  const db: Database = {
    pool,
    async tx(fn, opts) {
      const client = await pool.connect();
      try {
        await client.query(opts?.snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
        const out = await fn(client);
        await client.query("COMMIT");
        client.release();
        return out;
      } catch (err) {
        reachability.failed(err);
        await releaseFailed(client, err);
        throw err;
      }
    },
    async statement(text, values) {
      return once((client) => client.query(text, values));
    },
    async batch(statements) {
      const out = await once((client) => client.query(statements.join(";\n")));
      // node-postgres gives one result for one statement, an array for more.
      return Array.isArray(out) ? (out as pg.QueryResult[]) : [out];
    },
    probe() {
      const down = reachability.health();
      if (down) {
        probedAt = -Infinity; // once it is back, the next probe asks the database again
        return Promise.resolve(down);
      }
      if (performance.now() - probedAt < PROBE_EVERY_MS) return Promise.resolve(health);
      probing ??= pool
        .query("SELECT 1")
        .then(
          (): DatabaseHealth => ({ ok: true }),
          (err: Error): DatabaseHealth => {
            reachability.failed(err);
            return { ok: false, error: err.message, since: health.since ?? new Date().toISOString() };
          },
        )
        .then((h) => {
          health = h;
          probedAt = performance.now();
          probing = null;
          return h;
        });
      return probing;
    },
    suspect: (err) => reachability.lost(err),
    close: () => (reachability.close(), pool.end()),
  };
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/**
 * Gives a connection back after a failed transaction: rolled back and reused, or, when the connection
 * itself failed (the database out of reach, or no answer within QUERY_TIMEOUT_MS), closed without
 * another query on it (the server rolls back what it held when it sees the connection go).
 */
async function releaseFailed(client: pg.PoolClient, err: unknown): Promise<void> {
  if (isDatabaseUnavailable(err)) return client.release(true);
  await client.query("ROLLBACK").catch(() => undefined);
  client.release();
}

/**
 * A connection of its own, outside the pool (LISTEN, the writer's lock, the check that ends an outage),
 * with the pool's connect and query timeouts.
 */
export function ownClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
}

/**
 * Asks `c` `SELECT 1` every `everyMs` while `current()` holds, and calls `lost` once when one fails or
 * gets no answer within `everyMs`: a network path cut under a connection sends no error for minutes.
 * This process's own stall is not the connection's silence: an answer that arrived while the event loop
 * was busy waits unread, and timers run before the loop reads its sockets. So a window is judged only
 * after the loop has read them (setImmediate runs after that read), and a window whose timer fired
 * more than half a window late (the loop was busy through it) is given another window from then.
 */
export function heartbeat(c: pg.Client, current: () => boolean, lost: (err: Error) => void, everyMs = HEARTBEAT_MS): void {
  /** A question not yet settled: the next tick asks nothing (a second query would queue behind it, which pg 9 refuses). */
  let asking = false;
  const timer = setInterval(() => {
    if (!current()) return clearInterval(timer);
    if (asking) return;
    asking = true;
    /** The answer, its failure or the judgement of its silence: whichever comes first counts. */
    let settled = false;
    let silent: NodeJS.Timeout | undefined;
    const wait = (from: number) => {
      silent = setTimeout(() => {
        const now = performance.now();
        if (now - from > everyMs * 1.5) return wait(now);
        setImmediate(() => {
          if (settled) return;
          settled = true;
          clearInterval(timer);
          lost(new Error(`the connection did not answer within ${everyMs} ms`));
        });
      }, everyMs);
    };
    wait(performance.now());
    c.query("SELECT 1").then(
      () => {
        settled = true;
        asking = false;
        clearTimeout(silent);
      },
      (err: Error) => {
        clearTimeout(silent);
        asking = false;
        if (settled) return;
        settled = true;
        clearInterval(timer);
        lost(err);
      },
    );
  }, everyMs);
  timer.unref();
}

/**
 * Ends a connection of its own (LISTEN, the writer's lock), waiting at most `ms` for it: over a cut
 * network path the goodbye is never answered, and a stop (SIGTERM) must not wait on it.
 */
export async function endWithin(c: pg.Client, ms = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([c.end().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * `client.query`, each statement sent once the one before it has answered: node-postgres queues a query
 * asked while another runs only with a deprecation warning (pg 9 refuses it), and a statement's timeout
 * then counts from when it is sent, not from when it was queued. After a failed statement the later ones
 * are not sent and fail with its error (in a transaction they could only fail: it is aborted).
 */
export function inTurn(
  client: pg.ClientBase,
): <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>> {
  let previous: Promise<unknown> = Promise.resolve();
  return <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
    const next = previous.then(() => client.query<R>(text, values));
    previous = next;
    return next;
  };
}

/** A query on `client` given LONG_QUERY_TIMEOUT_MS instead of the pool's QUERY_TIMEOUT_MS. */
export function longQuery<R extends pg.QueryResultRow>(
  client: pg.ClientBase,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  // node-postgres reads query_timeout per query (lib/client.js); @types/pg's QueryConfig does not list it.
  return client.query<R>({ text, values, query_timeout: LONG_QUERY_TIMEOUT_MS } as pg.QueryConfig);
}

/** Applies the migrations not yet applied; returns the names applied now. */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const client = await db.pool.connect();
  const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => longQuery<R>(client, text, values);
  const applied: string[] = [];
  try {
    await query("SELECT pg_advisory_lock($1)", [LOCK_MIGRATE.toString()]);
    await query("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const done = new Set((await query<{ name: string }>("SELECT name FROM schema_migrations")).rows.map((r) => r.name));
    for (const name of files) {
      if (done.has(name)) continue;
      const sql = await readFile(path.join(dir, name), "utf8");
      await query("BEGIN");
      try {
        await query(sql);
        await query("INSERT INTO schema_migrations (name) VALUES ($1)", [name]);
        await query("COMMIT");
      } catch (err) {
        await query("ROLLBACK").catch(() => undefined);
        throw new Error(`migration ${name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(name);
    }
  } finally {
    await query("SELECT pg_advisory_unlock($1)", [LOCK_MIGRATE.toString()]).catch(() => undefined);
    client.release();
  }
  return applied;
}

/**
 * An advisory lock id for one thing (e.g. a borrower's applications, a document): 60 bits of sha256
 * of its parts, apart from the service's fixed lock ids above.
 */
export function lockKeyOf(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  return BigInt(`0x${hex.slice(0, 15)}`).toString();
}

/** Runs `fn` holding the session-level advisory lock `key` (waits for it) on a connection of the pool. */
export async function withAdvisoryLock<T>(db: Database, key: bigint, fn: () => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [key.toString()]);
  } catch (err) {
    client.release(true);
    throw err;
  }
  try {
    return await fn();
  } finally {
    // A connection whose unlock failed is closed, not reused: its lock goes with it.
    const unlocked = await client.query("SELECT pg_advisory_unlock($1)", [key.toString()]).then(
      () => true,
      () => false,
    );
    client.release(!unlocked);
  }
}
