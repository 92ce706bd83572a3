/**
 * Sign-in sessions, persisted under DATA_DIR so a restart keeps them. The file holds only an HMAC of
 * each token (keyed by SESSION_SECRET), so a copy of the data directory does not let anyone sign in.
 * A session holds nothing but the address: roles are read from the chain on every request.
 * With DATABASE_URL the sessions (and the generated secret) are rows in PostgreSQL, shared by every
 * service process on that database: a session opened on one process works on all.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Address } from "../domain/entities";
import { parseJsonFile, readFileIfExists, writeFileAtomic } from "../store/atomic-file";
import type { Database } from "../store/postgres/db";
import { RECORDS_CHANNEL, type ChangeHandler } from "../store/postgres/listener";

export interface StoredSession {
  address: Address;
  chainId: number;
  /** Wall-clock seconds. */
  issuedAt: number;
  expiresAt: number;
}

export interface SessionStore {
  /** Creates a session and returns its bearer token (shown to the client once, never stored). */
  create(session: StoredSession): Promise<string>;
  /** The live session for a token, or null when unknown or expired. */
  get(token: string): Promise<StoredSession | null>;
  revoke(token: string): Promise<void>;
  /** Live sessions. */
  size(): Promise<number>;
}

const FILE_NAME = "sessions.json";
const SECRET_FILE_NAME = "session-secret";

/** Reads SESSION_SECRET, or the one generated on first start and kept in DATA_DIR. */
async function resolveSecret(dataDir: string, secret: string | undefined): Promise<string> {
  if (secret) return secret;
  const file = path.join(dataDir, SECRET_FILE_NAME);
  const existing = await readFileIfExists(file);
  if (existing && existing.trim().length >= 32) return existing.trim();
  const generated = randomBytes(32).toString("hex");
  await writeFileAtomic(file, generated);
  return generated;
}

export async function openSessionStore({ dataDir, secret }: { dataDir: string; secret?: string }): Promise<SessionStore> {
  await mkdir(dataDir, { recursive: true });
  const key = await resolveSecret(dataDir, secret);
  const file = path.join(dataDir, FILE_NAME);
  const sessions = new Map<string, StoredSession>(
    Object.entries(
      parseJsonFile<Record<string, StoredSession>>(
        file,
        (await readFileIfExists(file)) ?? "{}",
        "It holds only sign-in sessions: delete it (everyone signs in again) or restore it from a backup.",
      ),
    ),
  );
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const idOf = (token: string) => createHmac("sha256", key).update(token).digest("hex");

  // Writes are chained so two concurrent sign-ins never interleave their renames.
  let writing: Promise<void> = Promise.resolve();
  function persist(): Promise<void> {
    const now = nowSeconds();
    for (const [id, s] of sessions) if (s.expiresAt <= now) sessions.delete(id);
    const text = JSON.stringify(Object.fromEntries(sessions));
    writing = writing.catch(() => undefined).then(() => writeFileAtomic(file, text));
    return writing;
  }

  return {
    async create(session) {
      const token = randomBytes(32).toString("base64url");
      sessions.set(idOf(token), session);
      await persist();
      return token;
    },
    async get(token) {
      if (!TOKEN.test(token)) return null;
      const session = sessions.get(idOf(token));
      if (!session || session.expiresAt <= nowSeconds()) return null;
      return session;
    },
    async revoke(token) {
      if (sessions.delete(idOf(token))) await persist();
    },
    size: async () => sessions.size,
  };
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** How many sessions a process keeps in memory (the oldest kept goes first). */
const MAX_CACHED_SESSIONS = 50_000;

export interface PostgresSessionStore extends SessionStore {
  /**
   * Keeps the sessions it reads in memory while `isListening` (the LISTEN connection, connected and
   * resynced: store/postgres/listener.ts `synced`) says this process hears of other processes'
   * sign-outs; returns the handler of kind `sessions` for that listener. Without it, every read goes to
   * the database.
   */
  followChanges(isListening: () => boolean): ChangeHandler;
}

/**
 * Sessions in PostgreSQL (table `sessions`); the secret, when generated, in `settings` (one for all
 * processes). A sign-out deletes the row and notifies every process (`sessions:<id>` on the records
 * channel) in one transaction. With followChanges, a session read once is answered from memory after
 * that (one database round trip less per request: measured by bench:api), only while LISTEN is
 * connected and resynced; a notification drops it, a resync (after every reconnect) drops them all.
 * So a sign-out on another process takes effect here when its notification arrives (pg-failover.test.ts
 * measures the delay), and at once while this process's LISTEN connection is down (every read then
 * goes to the database).
 */
export async function openPostgresSessionStore({ db, secret }: { db: Database; secret?: string }): Promise<PostgresSessionStore> {
  let key = secret;
  if (!key) {
    await db.pool.query("INSERT INTO settings (key, value) VALUES ('session_secret', $1) ON CONFLICT (key) DO NOTHING", [
      randomBytes(32).toString("hex"),
    ]);
    key = (await db.pool.query<{ value: string }>("SELECT value FROM settings WHERE key = 'session_secret'")).rows[0].value;
  }
  const hmacKey = key;
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const idOf = (token: string) => createHmac("sha256", hmacKey).update(token).digest("hex");
  /** Session id (the token's HMAC) -> the session, kept while listening (a reconnect's resync empties it). */
  const cached = new Map<string, StoredSession>();
  let listening: () => boolean = () => false;
  /** Counts sign-outs heard of: a read that was under way meanwhile is not kept (it may predate one). */
  let dropped = 0;
  const drop = (id: string | null) => {
    dropped += 1;
    if (id === null) cached.clear();
    else cached.delete(id);
  };

  return {
    async create(session) {
      const token = randomBytes(32).toString("base64url");
      await db.tx(async (client) => {
        await client.query("DELETE FROM sessions WHERE expires_at <= $1", [nowSeconds()]);
        await client.query("INSERT INTO sessions (id, session, expires_at) VALUES ($1, $2, $3)", [
          idOf(token),
          JSON.stringify(session),
          session.expiresAt,
        ]);
      });
      return token;
    },
    async get(token) {
      if (!TOKEN.test(token)) return null;
      const id = idOf(token);
      const hit = listening() ? cached.get(id) : undefined;
      if (hit) return hit.expiresAt > nowSeconds() ? { ...hit } : null;
      const droppedBefore = dropped;
      const rows = await db.pool.query<{ session: StoredSession }>("SELECT session FROM sessions WHERE id = $1 AND expires_at > $2", [
        id,
        nowSeconds(),
      ]);
      const session = rows.rows[0]?.session ?? null;
      if (session && listening() && dropped === droppedBefore) {
        if (cached.size >= MAX_CACHED_SESSIONS) cached.delete(cached.keys().next().value!);
        cached.set(id, { ...session });
      }
      return session;
    },
    async revoke(token) {
      const id = idOf(token);
      await db.tx(async (client) => {
        await client.query("DELETE FROM sessions WHERE id = $1", [id]);
        await client.query("SELECT pg_notify($1, $2)", [RECORDS_CHANNEL, `sessions:${id}`]);
      });
      drop(id);
    },
    async size() {
      const rows = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM sessions WHERE expires_at > $1", [nowSeconds()]);
      return Number(rows.rows[0].n);
    },
    followChanges(isListening) {
      listening = isListening;
      return {
        changed: async (id) => drop(id),
        resync: async () => drop(null),
      };
    },
  };
}
