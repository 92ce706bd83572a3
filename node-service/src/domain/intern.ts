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
import type { EventRef } from "./entities";

/**
 * A bounded pool of values compared by value (strings, bigints): gives back the first copy it has seen.
 * When full it starts over (the copies already shared stay shared), so a long-running process (the
 * decoder's pool) keeps at most `maxSize`.
 */
export class ValuePool<V extends string | bigint = string> {
  private readonly pool = new Map<V, V>();
  constructor(private readonly maxSize = 100_000) {}

  intern<T extends V>(v: T): T {
    const shared = this.pool.get(v);
    if (shared !== undefined) return shared as T;
    if (this.pool.size >= this.maxSize) this.pool.clear();
    this.pool.set(v, v);
    return v;
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

  /**
   * Rewrites `root` in place and returns it. For values just decoded from a store: trees (JSON has no
   * shared objects), whose objects nobody else holds yet. Numbers are left as they are.
   */
  share<T>(root: T): T {
    return this.value(root) as T;
  }

  private value(v: unknown): unknown {
    if (typeof v === "string") return this.strings.intern(v);
    if (typeof v === "bigint") return this.amounts.intern(v);
    if (v === null || typeof v !== "object") return v;
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
 * Rewrites `root` in place so that equal strings are one string and each event's reference is one
 * object, the way the indexer holds them when it reduces the events itself (see RepeatedValues).
 */
export function shareRepeatedValues<T>(root: T): T {
  return new RepeatedValues().share(root);
}
