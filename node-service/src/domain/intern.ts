/**
 * One copy in memory of each value the index repeats. Most of an index's memory is strings that
 * occur many times over: addresses (a participant's on every order, receivable and transfer it is
 * party to), transaction and block hashes (on every event they carried), decimal ids in the lists
 * that name records. JSON.parse, PostgreSQL's row decoding and viem's RPC decoding each make a new
 * string per occurrence, and a stored index decodes each event's reference twice (in the record it
 * changed and in `eventsByTx`). Sharing them measured, on bench:index's 55,744 events (it prints the
 * heap the index retains): a reloaded index 1,121 -> 347 bytes of heap per event, one built by indexing
 * 563 -> 484. Strings and the records holding them are never changed in place (reducers return new
 * records), so sharing is invisible to every reader.
 */
import type { EventRef, IndexState } from "./entities";
import { RECORD_COLLECTIONS } from "./mutations";

/**
 * A map from a value to its one shared form, made on first sight. When full it starts over (what it
 * already gave out stays shared), so a long-running process (the decoder's pools) keeps at most
 * `maxSize` entries.
 */
class BoundedPool<K, S> {
  private readonly pool = new Map<K, S>();
  constructor(
    private readonly maxSize: number,
    private readonly make: (key: K) => S,
  ) {}

  get(key: K): S {
    const shared = this.pool.get(key);
    if (shared !== undefined) return shared;
    if (this.pool.size >= this.maxSize) this.pool.clear();
    const made = this.make(key);
    this.pool.set(key, made);
    return made;
  }
}

/** A bounded pool of values compared by value (strings, bigints): gives back the first copy it has seen. */
export class ValuePool<V extends string | bigint = string> {
  private readonly pool: BoundedPool<V, V>;
  constructor(maxSize = 100_000) {
    this.pool = new BoundedPool<V, V>(maxSize, (v) => v);
  }

  intern<T extends V>(v: T): T {
    return this.pool.get(v) as T;
  }
}

/**
 * The empty list of every record that has none yet (a receivable's payments, a loan's repayments, an
 * order's disputes): one frozen array. A record's lists are never changed in place (reducers append
 * with `appended`, which makes a new list), so sharing is invisible; a change in place would throw.
 * An empty array of its own is 32 bytes per record (about 15 MB at bench:index's million events).
 */
export const NO_ITEMS: readonly never[] = Object.freeze([]);

/**
 * One frozen list per distinct item, for lists of one string: most receivables have had one holder,
 * their issuer or the holder a split gave them, and a list of its own is 56 bytes per record. Bounded
 * as ValuePool is.
 */
export class ListsOfOne {
  private readonly pool: BoundedPool<string, readonly string[]>;
  constructor(maxSize = 100_000) {
    this.pool = new BoundedPool<string, readonly string[]>(maxSize, (item) => Object.freeze([item]));
  }

  of<T extends string>(item: T): readonly T[] {
    return this.pool.get(item) as readonly T[];
  }
}

function isEventRef(v: object): v is EventRef {
  const r = v as Partial<EventRef>;
  return typeof r.logIndex === "number" && typeof r.blockHash === "string" && typeof r.txHash === "string" && typeof r.event === "string";
}

/**
 * One copy of each repeated value across everything given to `share`: a store's load of an index, page
 * by page, so the index is never held twice (as decoded and as shared). Equal strings become one
 * string, equal amounts one bigint, and each event's reference one object (an event is identified by
 * its block hash and log index). Unbounded: it lives only for one load.
 */
export class RepeatedValues {
  private readonly strings = new ValuePool(Infinity);
  /** Amounts (each bigint decoded is an object of its own, 16-24 bytes; many repeat, as 0 paid). */
  private readonly amounts = new ValuePool<bigint>(Infinity);
  /** Event references by block hash, then log index (no key string made per reference). */
  private readonly refs = new Map<string, EventRef[]>();
  private readonly listsOfOne = new ListsOfOne(Infinity);

  /**
   * Rewrites `root` in place and returns it. For values just decoded from a store: trees (JSON has no
   * shared objects), whose objects nobody else holds yet. Numbers are left as they are.
   */
  share<T>(root: T): T {
    return this.value(root) as T;
  }

  /**
   * `share` for one record of the index, whose own lists are then shared too when they are empty
   * (NO_ITEMS) or one string (ListsOfOne), as the reducers make them. Only a record's lists: the
   * index's lists (`receivablesByParty`...) and the undo log are appended to in place.
   */
  shareRecord<T>(record: T): T {
    const shared = this.value(record);
    if (shared === null || typeof shared !== "object") return shared as T;
    const o = shared as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (!Array.isArray(v)) continue;
      if (v.length === 0) o[k] = NO_ITEMS;
      else if (v.length === 1 && typeof v[0] === "string") o[k] = this.listsOfOne.of(v[0]);
    }
    return shared as T;
  }

  private value(v: unknown): unknown {
    if (typeof v === "string") return this.strings.intern(v);
    if (typeof v === "bigint") return this.amounts.intern(v);
    if (v === null || typeof v !== "object") return v;
    // Already shared (NO_ITEMS, a ListsOfOne list): frozen, and nothing in it to share.
    if (Object.isFrozen(v)) return v;
    if (isEventRef(v)) {
      const block = this.refs.get(v.blockHash) ?? [];
      if (block.length === 0) this.refs.set(v.blockHash, block);
      const first = block[v.logIndex];
      if (first) return first;
      block[v.logIndex] = v;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.value(v[i]);
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) o[k] = this.value(o[k]);
    }
    return v;
  }
}

/**
 * Rewrites a loaded index in place so that equal strings are one string, each event's reference one
 * object and records' empty and one-item lists shared, the way the indexer holds them when it reduces
 * the events itself (see RepeatedValues). `doc`: the index's state and what is stored beside it (the
 * undo log, recent blocks), sharing with the state.
 */
export function shareLoadedIndex<T extends { state: IndexState }>(doc: T): T {
  const shared = new RepeatedValues();
  const records = new Set<string>(RECORD_COLLECTIONS);
  const state = doc.state as unknown as Record<string, unknown>;
  for (const coll in state) {
    const value = state[coll];
    if (!records.has(coll) || value === null || typeof value !== "object") state[coll] = shared.share(value);
    else for (const [key, record] of Object.entries(value)) (value as Record<string, unknown>)[key] = shared.shareRecord(record);
  }
  const rest = doc as unknown as Record<string, unknown>;
  for (const k in rest) if (k !== "state") rest[k] = shared.share(rest[k]);
  return doc;
}
