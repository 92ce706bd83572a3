/**
 * Crash-safe file writes. lowdb's default adapter renames a temp file without fsync, so a power cut
 * can leave an empty or torn file. Here: write a temp file, fsync it, rename it over the target,
 * then fsync the directory so the rename itself is durable.
 */
import { open, readFile, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
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
  constructor(private readonly file: string) {}

  async read(): Promise<T | null> {
    const text = await readFileIfExists(this.file);
    return text === null ? null : (JSON.parse(text) as T);
  }

  async write(data: T): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(data));
  }
}
