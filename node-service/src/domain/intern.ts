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
 * A bounded pool for the decoder: gives back the first copy of a string it has seen. When full it starts
 * over (the copies already shared stay shared), so a long-running process keeps at most `maxSize`.
 */
export class StringPool {
  private readonly pool = new Map<string, string>();
  constructor(private readonly maxSize = 100_000) {}

  intern<T extends string>(s: T): T {
    const shared = this.pool.get(s);
    if (shared !== undefined) return shared as T;
    if (this.pool.size >= this.maxSize) this.pool.clear();
    this.pool.set(s, s);
    return s;
  }
}

function isEventRef(v: object): v is EventRef {
  const r = v as Partial<EventRef>;
  return typeof r.logIndex === "number" && typeof r.blockHash === "string" && typeof r.txHash === "string" && typeof r.event === "string";
}

/**
 * Rewrites `root` in place so that equal strings are one string and each event's reference is one
 * object (an event is identified by its block hash and log index), the way the indexer holds them when
 * it reduces the events itself. For an index just decoded from its store: a tree (JSON has no shared
 * objects), whose objects nobody else holds yet. Bigints and numbers are left as they are.
 */
export function shareRepeatedValues<T>(root: T): T {
  // Unbounded: it lives only for this walk.
  const strings = new StringPool(Infinity);
  const refs = new Map<string, EventRef>();
  const share = (v: unknown): unknown => {
    if (typeof v === "string") return strings.intern(v);
    if (v === null || typeof v !== "object") return v;
    if (isEventRef(v)) {
      const key = `${v.blockHash}:${v.logIndex}`;
      const first = refs.get(key);
      if (first) return first;
      refs.set(key, v);
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = share(v[i]);
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) o[k] = share(o[k]);
    }
    return v;
  };
  return share(root) as T;
}
