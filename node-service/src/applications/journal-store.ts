/**
 * Durable store for records that change often and must survive a kill: an append-only journal of
 * whole records (framed and checksummed, fsync'd, group-committed: store/framed-journal.ts) plus a
 * snapshot written atomically when the journal grows. Opening replays snapshot then journal; the last
 * record for an id wins. A torn last record is cut with a warning (it was never acknowledged); a damaged
 * record inside the journal is quarantined and every later record is kept.
 *
 * A record is visible (get, all) only once its write is durable: a put that fails (a full disk) leaves
 * the previous version in place, and get/all hand out copies so a caller's unsaved changes never leak.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseJsonFile, readFileIfExists, writeFileAtomic } from "../store/atomic-file";
import { FramedJournal, type OpenJournalOptions } from "../store/framed-journal";
import { InMemoryRecords } from "../store/record-store";

export type { RecordStore } from "../store/record-store";

export class JournalStore<T extends { id: string }> extends InMemoryRecords<T> {
  private journalRecords = 0;
  private compacting: Promise<void> | null = null;
  private readonly inflight = new Set<Promise<void>>();

  private constructor(
    private readonly snapshotFile: string,
    private readonly journal: FramedJournal,
    private readonly compactEvery: number,
  ) {
    super();
  }

  static async open<T extends { id: string }>(
    dir: string,
    name: string,
    opts: { compactEvery?: number; warn?: OpenJournalOptions["warn"] } = {},
  ): Promise<JournalStore<T>> {
    mkdirSync(dir, { recursive: true });
    const snapshotFile = path.join(dir, `${name}.json`);
    const records = new Map<string, T>();
    const snapshot = await readFileIfExists(snapshotFile);
    if (snapshot) {
      const list = parseJsonFile<T[]>(
        snapshotFile,
        snapshot,
        `It is the ${name} snapshot written at compaction: restore it from a backup of DATA_DIR (the journal ${name}.journal beside it holds only the changes since).`,
      );
      for (const r of list) records.set(r.id, r);
    }
    let count = 0;
    const journal = await FramedJournal.open(
      path.join(dir, `${name}.journal`),
      { onDamage: "quarantine", warn: opts.warn },
      ({ value }) => {
        const r = value as T;
        records.set(r.id, r);
        count++;
      },
    );
    const store = new JournalStore<T>(snapshotFile, journal, opts.compactEvery ?? 2000);
    for (const [id, r] of records) store.records.set(id, r);
    store.journalRecords = count;
    return store;
  }

  /** Stores the record; resolves once it is durable (rejects, leaving the old version, when it is not). */
  async put(record: T): Promise<void> {
    while (this.compacting) await this.compacting;
    const copy = structuredClone(record);
    const write = this.journal.append(copy).then(() => {
      this.records.set(copy.id, copy);
      this.journalRecords++;
    });
    this.inflight.add(write);
    try {
      await write;
    } finally {
      this.inflight.delete(write);
    }
    if (this.journalRecords >= this.compactEvery && !this.compacting) {
      this.compacting = this.compact().finally(() => (this.compacting = null));
      await this.compacting;
    }
  }

  /**
   * Writes all records as a snapshot, then empties the journal. New puts wait, and puts already
   * writing finish first, so the snapshot holds every record the emptied journal held. A failure
   * (a full disk) keeps the journal as it is: the record that triggered it is durable all the same.
   */
  private async compact(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    try {
      await writeFileAtomic(this.snapshotFile, JSON.stringify([...this.records.values()]));
      await this.journal.clear();
      this.journalRecords = 0;
    } catch {
      // retried at the next put
    }
  }

  async close(): Promise<void> {
    await this.updatesSettled();
    await this.compacting;
    await this.journal.close();
  }
}
