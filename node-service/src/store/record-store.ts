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
  close(): Promise<void>;
}
