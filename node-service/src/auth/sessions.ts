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

/** Sessions in PostgreSQL (table `sessions`); the secret, when generated, in `settings` (one for all processes). */
export async function openPostgresSessionStore({ db, secret }: { db: Database; secret?: string }): Promise<SessionStore> {
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
      const rows = await db.pool.query<{ session: StoredSession }>("SELECT session FROM sessions WHERE id = $1 AND expires_at > $2", [
        idOf(token),
        nowSeconds(),
      ]);
      return rows.rows[0]?.session ?? null;
    },
    async revoke(token) {
      await db.pool.query("DELETE FROM sessions WHERE id = $1", [idOf(token)]);
    },
    async size() {
      const rows = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM sessions WHERE expires_at > $1", [nowSeconds()]);
      return Number(rows.rows[0].n);
    },
  };
}
