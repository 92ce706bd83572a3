/**
 * Crash-safe file writes. lowdb's default adapter renames a temp file without fsync, so a power cut
 * can leave an empty or torn file. Here: write a temp file, fsync it, rename it over the target,
 * then fsync the directory so the rename itself is durable.
 */
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { storageHealth } from "./storage-health";

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(tmp, "w", 0o600);
  try {
    // writeFile loops until every byte is written or throws; the size is checked once more below.
    await handle.writeFile(data);
    await handle.sync();
    const expected = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
    const { size } = await handle.stat();
    if (size !== expected) throw Object.assign(new Error(`short write to ${tmp}: ${size} of ${expected} bytes`), { code: "EIO" });
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    storageHealth.failed(file, err);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
  storageHealth.written(file);
}

/** A file of DATA_DIR that cannot be read as what it should hold: names the file and what to do. */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    advice: string,
  ) {
    super(`${file} is corrupt (${reason}). ${advice}`);
    this.name = "CorruptFileError";
  }
}

/** JSON.parse that names the file and the way out when the text is not JSON. */
export function parseJsonFile<T>(file: string, text: string, advice: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new CorruptFileError(file, (err as Error).message, advice);
  }
}

/**
 * Deletes temp files a crash left behind (`.<name>.<pid>.<hex>.tmp` from writeFileAtomic and
 * `<journal>.rewrite.tmp`) under `dir`, recursively. Returns the files removed.
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return removed;
    throw err;
  }
  for (const e of entries) {
    if (!e.isFile() || !(/^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(e.name) || e.name.endsWith(".rewrite.tmp"))) continue;
    const file = path.join(e.parentPath, e.name);
    await unlink(file).catch(() => undefined);
    removed.push(file);
  }
  return removed;
}

/** Reads a file, or returns null when it does not exist. */
export async function readFileIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * A lowdb 7 adapter (`{ read, write }`) over a JSON file written with writeFileAtomic.
 * `T` must be JSON-safe: convert bigint amounts to decimal strings before writing.
 */
export class DurableJSONFile<T> {
  /** `advice`: what the operator should do when the file is corrupt (named in the start-up error). */
  constructor(
    private readonly file: string,
    private readonly advice = "Restore it from a backup of DATA_DIR.",
  ) {}

  async read(): Promise<T | null> {
    const text = await readFileIfExists(this.file);
    return text === null ? null : parseJsonFile<T>(this.file, text, this.advice);
  }

  async write(data: T): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(data));
  }
}
