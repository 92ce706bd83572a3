/**
 * Durable store for records that change often and must survive a kill: an append-only journal of
 * whole records (one JSON line each, fsync'd, group-committed) plus a snapshot written atomically
 * when the journal grows. Opening replays snapshot then journal; the last line for an id wins, and a
 * torn final line (a kill mid-append) is dropped, since its write was never acknowledged.
 */
import { open, type FileHandle } from "node:fs/promises";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { readFileIfExists, writeFileAtomic } from "../store/atomic-file";

export class JournalStore<T extends { id: string }> {
  private readonly records = new Map<string, T>();
  private pending: string[] = [];
  private flushing: Promise<void> | null = null;
  private journalLines = 0;
  private handle: FileHandle | null = null;

  private constructor(
    private readonly snapshotFile: string,
    private readonly journalFile: string,
    private readonly compactEvery: number,
  ) {}

  static async open<T extends { id: string }>(dir: string, name: string, compactEvery = 2000): Promise<JournalStore<T>> {
    mkdirSync(dir, { recursive: true });
    const store = new JournalStore<T>(path.join(dir, `${name}.json`), path.join(dir, `${name}.journal`), compactEvery);
    const snapshot = await readFileIfExists(store.snapshotFile);
    if (snapshot) for (const r of JSON.parse(snapshot) as T[]) store.records.set(r.id, r);
    const journal = await readFileIfExists(store.journalFile);
    if (journal) {
      for (const line of journal.split("\n")) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as T;
          store.records.set(r.id, r);
          store.journalLines++;
        } catch {
          break; // torn tail from a crash mid-append: never acknowledged
        }
      }
    }
    store.handle = await open(store.journalFile, "a");
    return store;
  }

  get(id: string): T | undefined {
    return this.records.get(id);
  }

  all(): T[] {
    return [...this.records.values()];
  }

  /** Stores the record; resolves once it is on disk. */
  async put(record: T): Promise<void> {
    this.records.set(record.id, record);
    this.pending.push(JSON.stringify(record) + "\n");
    await this.flush();
  }

  private async flush(): Promise<void> {
    // Group commit: callers arriving while a flush runs share the next one.
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      const handle = this.handle;
      if (!handle) throw new Error("journal store is closed");
      await handle.write(lines.join(""));
      await handle.sync();
      this.journalLines += lines.length;
      if (this.journalLines >= this.compactEvery) await this.compact();
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  /** Writes all records as a snapshot, then empties the journal. */
  private async compact(): Promise<void> {
    await writeFileAtomic(this.snapshotFile, JSON.stringify(this.all()));
    await this.handle?.close();
    this.handle = await open(this.journalFile, "w");
    await this.handle.sync();
    this.journalLines = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = null;
  }
}
