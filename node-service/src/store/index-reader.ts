/**
 * Keyed reads of the chain index: what a caller that does not walk the whole index asks of it (records
 * of one collection by key, lists of one collection by key). Over the index in memory here; over the committed index
 * in PostgreSQL in store/postgres/index-reader.ts.
 */
import type { IndexState } from "../domain/entities";
import type { ListCollection, ListCollections, RecordCollection, RecordCollections } from "../domain/mutations";

/**
 * Keyed reads of the index. A caller may rewrite what it is given in place to keep one copy of each
 * repeated value (domain/intern.ts RepeatedValues: equal values only, which records' readers never tell
 * apart); PostgreSQL's reader decodes fresh objects for each read.
 */
export interface IndexReader {
  /** The records of `coll` under `keys`, in that order (undefined where there is none). */
  records<C extends RecordCollection>(coll: C, keys: readonly string[]): Promise<(RecordCollections[C] | undefined)[]>;
  /** The lists `coll` holds under `keys`, in that order, each in index order (empty where there is none). */
  lists<C extends ListCollection>(coll: C, keys: readonly string[]): Promise<(readonly ListCollections[C][])[]>;
}

/** The one record of `coll` under `key`, if any. */
export async function recordOf<C extends RecordCollection>(
  reader: IndexReader,
  coll: C,
  key: string,
): Promise<RecordCollections[C] | undefined> {
  return (await reader.records(coll, [key]))[0];
}

/** The one list of `coll` under `key` (empty when there is none). */
export async function listOf<C extends ListCollection>(reader: IndexReader, coll: C, key: string): Promise<readonly ListCollections[C][]> {
  return (await reader.lists(coll, [key]))[0];
}

/** The reader over an in-memory index (lowdb's, or an indexing process's): lookups in the state's maps. */
export function stateReader(state: IndexState): IndexReader {
  return {
    records: async (coll, keys) => {
      const records = state[coll] as Record<string, RecordCollections[typeof coll]>;
      return keys.map((k) => records[k]);
    },
    lists: async (coll, keys) => {
      const lists = state[coll] as Record<string, ListCollections[typeof coll][]>;
      return keys.map((k) => lists[k] ?? []);
    },
  };
}
