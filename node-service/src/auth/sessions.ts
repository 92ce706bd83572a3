/**
 * Sign-in sessions, persisted under DATA_DIR so a restart keeps them. The file holds only an HMAC of
 * each token (keyed by SESSION_SECRET), so a copy of the data directory does not let anyone sign in.
 * A session holds nothing but the address: roles are read from the chain on every request.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Address } from "../domain/entities";
import { parseJsonFile, readFileIfExists, writeFileAtomic } from "../store/atomic-file";

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
  get(token: string): StoredSession | null;
  revoke(token: string): Promise<void>;
  size(): number;
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
    get(token) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
      const session = sessions.get(idOf(token));
      if (!session || session.expiresAt <= nowSeconds()) return null;
      return session;
    },
    async revoke(token) {
      if (sessions.delete(idOf(token))) await persist();
    },
    size: () => sessions.size,
  };
}
