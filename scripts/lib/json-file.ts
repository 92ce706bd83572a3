/** JSON files the scripts keep in DATA_DIR: read when present, written atomically with a final newline. */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { readFileIfExists, writeFileAtomic } from "../../node-service/src/store/atomic-file";

/** The parsed contents of `file`, or null when it does not exist. */
export async function readJsonFile<T>(file: string): Promise<T | null> {
  const text = await readFileIfExists(file);
  return text === null ? null : (JSON.parse(text) as T);
}

/** Writes `data` as indented JSON, creating the directory first. */
export async function writeJsonFile(file: string, data: unknown): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`);
}
