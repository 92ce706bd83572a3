import { ConflictError } from "../domain/errors";
import { KeyedQueue } from "./keyed-queue";

/** Attempts of one update against other processes' concurrent writes of the same record. */
const MAX_UPDATE_CONFLICTS = 5;

/** Keyed records, the last put of an id wins: a framed journal under DATA_DIR or PostgreSQL. */
export interface RecordStore<T extends { id: string }> {
  /** A copy of the record, or undefined. */
  get(id: string): T | undefined;
  /** Copies of every record. */
  all(): T[];
  /** Copies of the records that `match` accepts; the others are not copied (the store may be large). */
  where(match: (record: Readonly<T>) => boolean): T[];
  /** How many records `match` accepts (nothing is copied). */
  count(match: (record: Readonly<T>) => boolean): number;
  /** Stores the record; resolves once it is durable (rejects, leaving the old version, when it is not). */
  put(record: T): Promise<void>;
  /**
   * Read-modify-write of one record: `change` gets a copy of the current version (undefined: none) and
   * returns the next one, or null to write nothing; resolves with what was written. One update at a
   * time per id in this process; when another process wrote the record meanwhile (PostgreSQL's
   * compare-and-set refuses the put), `change` runs again on that newer version, up to 5 times.
   */
  update(id: string, change: (current: T | undefined) => T | null): Promise<T | null>;
  close(): Promise<void>;
}

/**
 * The reads both stores serve from the copy they hold in memory (`records`, kept by their puts): get,
 * all and where hand out copies, so a caller's unsaved changes never leak into the store; count copies
 * nothing.
 */
export abstract class InMemoryRecords<T extends { id: string }> implements RecordStore<T> {
  protected readonly records = new Map<string, T>();

  get(id: string): T | undefined {
    const r = this.records.get(id);
    return r && structuredClone(r);
  }

  all(): T[] {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  where(match: (record: Readonly<T>) => boolean): T[] {
    const out: T[] = [];
    for (const r of this.records.values()) if (match(r)) out.push(structuredClone(r));
    return out;
  }

  count(match: (record: Readonly<T>) => boolean): number {
    let n = 0;
    for (const r of this.records.values()) if (match(r)) n++;
    return n;
  }

  private readonly updates = new KeyedQueue();

  update(id: string, change: (current: T | undefined) => T | null): Promise<T | null> {
    return this.updates.run(id, async () => {
      for (let attempt = 1; ; attempt++) {
        const next = change(this.get(id));
        if (!next) return null;
        try {
          await this.put(next);
          return next;
        } catch (err) {
          // A put refused over another process's newer version left that version here: change it instead.
          if (!(err instanceof ConflictError) || attempt >= MAX_UPDATE_CONFLICTS) throw err;
        }
      }
    });
  }

  /** Resolves once every update queued so far has settled (for close). */
  protected updatesSettled(): Promise<void> {
    return this.updates.settled();
  }

  abstract put(record: T): Promise<void>;
  abstract close(): Promise<void>;
}
