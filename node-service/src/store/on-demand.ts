/**
 * Runs a synchronous reader of the index (the fraud screen, a borrower's metrics, a decision's input)
 * over keyed reads, for a process that does not hold the index (SERVICE_ROLE=reader). Those readers walk
 * the index by key from one party (the trade graph from the borrower, its related parties by KYC
 * attribute, its transfers), so what they read is found only by reading it. `run` is given a state
 * holding the keys loaded so far; a key it asks for that is not loaded yet is noted and reads as
 * absent; the noted keys are then read (one read per collection; on PostgreSQL a statement per
 * 5,000 keys), each repeated value kept once as the index in memory keeps it (domain/intern.ts),
 * and `run` runs again,
 * until a run asks for nothing new. That last run read only keys loaded with their values in the
 * reader's index, or known to be absent there, so it returns what it would over that whole index.
 * A reader that enumerates a collection (Object.keys) is refused: it would need the whole index.
 */
import type { IndexState } from "../domain/entities";
import {
  LIST_COLLECTIONS,
  RECORD_COLLECTIONS,
  type ListCollection,
  type ListCollections,
  type RecordCollection,
  type RecordCollections,
  type CollectionKeys,
  markReadOnce,
} from "../domain/mutations";
import type { IndexReader } from "./index-reader";
import { RepeatedValues } from "../domain/intern";

/** A run that still asks for new keys after this many rounds is stopped (a walk deeper than any screen's). */
const MAX_ROUNDS = 64;

const IS_LIST = new Set<string>(LIST_COLLECTIONS);

export class OnDemandIndex {
  /** Per collection: each key read, with its value (undefined: absent from the index). */
  private readonly loaded = new Map<RecordCollection | ListCollection, Map<string, unknown>>();
  /** One copy of each repeated value across what is loaded (dropped with this index). */
  private readonly shared = new RepeatedValues();
  /** Rounds and keys read, for the caller's measurements. */
  readonly stats = { rounds: 0, keys: 0 };

  constructor(private readonly reader: IndexReader) {}

  /** `read`'s result over the reader's index, reading only the keys `read` asks for. */
  async run<T>(read: (state: IndexState) => T): Promise<T> {
    for (let round = 1; ; round++) {
      const missing = new Map<RecordCollection | ListCollection, Set<string>>();
      let result: { value: T } | { error: unknown };
      try {
        result = { value: read(this.view(missing)) };
      } catch (error) {
        result = { error };
      }
      // A run that missed keys saw a partial index: its result, or its error, is not the answer yet.
      if (missing.size === 0) {
        if ("error" in result) throw result.error;
        return result.value;
      }
      if (round >= MAX_ROUNDS) throw new Error(`index read on demand: still asking for new keys after ${MAX_ROUNDS} rounds`);
      await this.load(missing);
    }
  }

  /**
   * Loads what `walk` reads by key through this index's reader: a walk that finds its keys by reading
   * (loadEnterpriseSlice: an enterprise's lists, records, split trees level by level), so that the runs
   * after it find them loaded. A run discovers a split tree one level per round, each round a run of
   * the whole reader over what is loaded so far.
   */
  async prefetch(walk: (reader: IndexReader) => Promise<unknown>): Promise<void> {
    const loaded = async (coll: RecordCollection | ListCollection, keys: readonly string[]) => {
      const into = this.collectionOf(coll);
      const wanted = new Set(keys.filter((k) => !into.has(k)));
      if (wanted.size > 0) await this.load(new Map([[coll, wanted]]));
      return keys.map((k) => into.get(k));
    };
    await walk({
      records: async (coll, keys) => (await loaded(coll, keys)) as (RecordCollections[typeof coll] | undefined)[],
      lists: async (coll, keys) => (await loaded(coll, keys)).map((l) => (l ?? []) as ListCollections[typeof coll][]),
    });
  }

  /**
   * Holds `slice`'s value of each of `keys` (undefined where the slice has none: absent from the index)
   * as if read here: an enterprise's slice as the reader keeps it (metrics/enterprise-reads.ts), read at
   * or proved unchanged up to this index's snapshot. Keys already loaded keep their value.
   */
  seed(keys: CollectionKeys, slice: IndexState): void {
    for (const [coll, collKeys] of keys.collections()) {
      const from = slice[coll as RecordCollection | ListCollection] as Record<string, unknown>;
      const into = this.collectionOf(coll as RecordCollection | ListCollection);
      const list = IS_LIST.has(coll);
      for (const k of collKeys) {
        if (into.has(k)) continue;
        const value = from[k];
        // No items is no list, as `load` holds them.
        into.set(k, list && (value as unknown[] | undefined)?.length === 0 ? undefined : value);
      }
    }
  }

  private async load(missing: Map<RecordCollection | ListCollection, Set<string>>): Promise<void> {
    this.stats.rounds++;
    // Collection by collection: on PostgreSQL they share the snapshot's one connection, which runs one
    // statement at a time anyway. Each repeated value (an address, a hash, an event's reference) is kept
    // once, as the index in memory keeps it.
    for (const [coll, wanted] of missing) {
      const keys = [...wanted];
      this.stats.keys += keys.length;
      const into = this.collectionOf(coll);
      if (IS_LIST.has(coll)) {
        const lists = await this.reader.lists(coll as ListCollection, keys);
        // No items is no list: the index in memory holds a list only once something was appended to it.
        keys.forEach((k, i) => into.set(k, lists[i].length > 0 ? this.shared.share(lists[i]) : undefined));
      } else {
        const records = await this.reader.records(coll as RecordCollection, keys);
        keys.forEach((k, i) => into.set(k, records[i] === undefined ? undefined : this.shared.shareRecord(records[i])));
      }
    }
  }

  private collectionOf(coll: RecordCollection | ListCollection): Map<string, unknown> {
    let into = this.loaded.get(coll);
    if (!into) this.loaded.set(coll, (into = new Map()));
    return into;
  }

  /** A read-only state over what is loaded, noting each key asked for that is not. */
  private view(missing: Map<RecordCollection | ListCollection, Set<string>>): IndexState {
    const state: Record<string, unknown> = { eventCount: 0 };
    for (const coll of [...RECORD_COLLECTIONS, ...LIST_COLLECTIONS]) {
      const loaded = this.collectionOf(coll);
      const lookup = (key: string | symbol): unknown => {
        if (typeof key !== "string") return undefined;
        // One map lookup for a key loaded with a value (most lookups of a walk); a second only for one without.
        const value = loaded.get(key);
        if (value !== undefined || loaded.has(key)) return value;
        let keys = missing.get(coll);
        if (!keys) missing.set(coll, (keys = new Set()));
        keys.add(key);
        return undefined;
      };
      const refuse = (what: string) => () => {
        throw new Error(`index read on demand: ${what} ${coll} is not supported (read it by key)`);
      };
      state[coll] = new Proxy(Object.create(null) as object, {
        get: (_target, key) => lookup(key),
        has: (_target, key) => lookup(key) !== undefined,
        getOwnPropertyDescriptor: (_target, key) => {
          const value = lookup(key);
          return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
        },
        ownKeys: refuse("enumerating"),
        set: refuse("writing"),
        defineProperty: refuse("writing"),
        deleteProperty: refuse("writing"),
      });
    }
    const view = state as unknown as IndexState;
    // Each run's view is new: the metrics memo would walk its records to note them for nothing.
    markReadOnce(view);
    return view;
  }
}
