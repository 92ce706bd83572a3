/**
 * An enterprise's metrics, monthly series and lists (orders, receivables, loans), whichever way the process holds the index: over the whole
 * index in memory (an indexing process), or over the one enterprise's slice read from the committed
 * index in PostgreSQL (a reader process, SERVICE_ROLE=reader), whose memory then does not grow with
 * the index. Both compute with the same functions over the same records (metrics/slice.ts), so they
 * give the same values at the same checkpoint.
 */
import type { Address, IndexState, LoanEntity, OrderEntity, ReceivableEntity } from "../domain/entities";
import type { Checkpoint } from "../store/index-store";
import { RepeatedValues } from "../domain/intern";
import { CollectionKeys, RECORD_COLLECTIONS, type ListCollections, type RecordCollections } from "../domain/mutations";
import { listOf, type IndexReader } from "../store/index-reader";
import type { CommittedMeta, CommittedReader, PostgresIndexReader } from "../store/postgres/index-reader";
import { asOfDayEnd } from "./records";
import { computeMetrics, computeMetricsUncached, monthlySeries, type EnterpriseMetrics, type MonthlyPoint } from "./compute";
import { loadEnterpriseSlice } from "./slice";

export interface EnterpriseReads {
  isParticipant(enterprise: Address): Promise<boolean>;
  /** computeMetrics: the metrics as of the end of asOf's UTC day. */
  metrics(enterprise: Address, asOf: number): Promise<EnterpriseMetrics>;
  /** monthlySeries: the `months` months ending with asOf's month. */
  series(enterprise: Address, asOf: number, months: number): Promise<MonthlyPoint[]>;
  /** One page of the enterprise's orders, receivables or loans, newest first (`page` below). */
  page(kind: RecordList, enterprise: Address, limit: number, offset: number): Promise<Page>;
}

export type RecordList = "orders" | "receivables" | "loans";
type Page = ReturnType<typeof page<OrderEntity | ReceivableEntity | LoanEntity>>;

/** A page of `ids` (kept oldest first by the indexer), newest first: `limit` items from `offset`, with the total. */
export function page<T>(ids: readonly string[] | undefined, lookup: (id: string) => T | undefined, limit: number, offset: number) {
  const all = ids ?? [];
  const items: T[] = [];
  for (let i = all.length - 1 - offset; i >= 0 && items.length < limit; i--) {
    const item = lookup(all[i]);
    if (item !== undefined) items.push(item);
  }
  return { total: all.length, offset, limit, items };
}

/** The ids of `ids` a page reads, newest first. */
function pageIds(ids: readonly string[], limit: number, offset: number): string[] {
  const end = Math.max(0, ids.length - offset);
  return ids.slice(Math.max(0, end - limit), end).reverse();
}

const LISTS = { orders: "ordersByParty", receivables: "receivablesByParty", loans: "loansByParty" } as const;

/** Over the index this process holds (computeMetrics memoizes per enterprise and day). */
export function inMemoryEnterpriseReads(state: () => IndexState): EnterpriseReads {
  return {
    isParticipant: async (e) => state().participants[e] !== undefined,
    metrics: async (e, asOf) => computeMetrics(state(), e, asOf),
    series: async (e, asOf, months) => monthlySeries(state(), e, asOf, months),
    page: async (kind, e, limit, offset) => {
      const s = state();
      const records = s[kind] as Record<string, OrderEntity | ReceivableEntity | LoanEntity>;
      return page(s[LISTS[kind]][e], (id) => records[id], limit, offset);
    },
  };
}

/** A reader's enterprise reads, which also lend the slices they keep to the other reads of the same snapshot. */
export interface CommittedEnterpriseReads extends EnterpriseReads {
  /**
   * `e`'s slice on the snapshot `r` (at `m`): its records and every key its load asked for, taken from
   * what is kept when no commit up to `m` changed them, else read (only the changed keys when the
   * records were kept), and kept for the next reads. For a decision's input read on demand
   * (underwriting/application-index.ts), which would otherwise read the whole slice again.
   */
  sliceIn(r: CommittedReader, m: CommittedMeta, e: Address): Promise<{ slice: IndexState; keys: CollectionKeys }>;
}

/** Answers kept per checkpoint; the memo is emptied when it holds this many. */
const MAX_MEMO = 10_000;
/** Keys of the enterprises' slices kept (with their answers) at most; all are dropped when they would hold more. */
const MAX_SLICE_KEYS = 2_000_000;
/** Answers kept per enterprise (days and series asked of it) at most; further ones are computed and not kept. */
const MAX_SLICE_ANSWERS = 256;

/** What a reader keeps of one enterprise's metrics and series: answers over its slice, and which keys that slice read. */
interface KeptSlice {
  /** The commit the slice was read at, or last found to leave every key of it unchanged at. */
  seq: number;
  /** That commit's checkpoint: while it is still the newest polled, the answers need no database round trip. */
  at: string | undefined;
  /** Every key the slice's load asked for (found or not: a record created later changes the slice too, as a buyer admitted after the read). */
  keys: CollectionKeys;
  answers: Map<string, unknown>;
  /**
   * The slice's records themselves, while the slices kept with them stay within the process's budget
   * (`keptKeys`): a commit that changes a few of its keys then costs reading those keys, not the
   * slice, and a new day or series of it costs no read at all.
   */
  slice?: IndexState;
}

/** An enterprise's slice as one read found it. */
interface SliceRead {
  /** What is kept for the enterprise after the read (not kept when nothing is indexed yet, or another read replaced it). */
  entry: KeptSlice;
  /** The slice's records: read, or kept (none when the read found the answers kept still hold and no records were kept). */
  slice: IndexState | undefined;
}

/** `reader`, noting every key asked of it into `keys`. */
function noting(reader: IndexReader, keys: CollectionKeys): IndexReader {
  return {
    records: (coll, asked) => {
      for (const k of asked) keys.add(coll, k);
      return reader.records(coll, asked);
    },
    lists: (coll, asked) => {
      for (const k of asked) keys.add(coll, k);
      return reader.lists(coll, asked);
    },
  };
}

/**
 * `reader`, answering each key the kept slice read and no commit since changed from that slice (the
 * same objects: records are never changed in place), and only the others from the database: a key
 * changed since, or one the kept slice never asked for (a record or list entry created since).
 */
function reusing(reader: IndexReader, kept: IndexState, keys: CollectionKeys, changed: CollectionKeys): IndexReader {
  async function answer<T>(coll: string, asked: readonly string[], read: (keys: string[]) => Promise<T[]>, from: Record<string, T>) {
    const wanted = [...new Set(asked.filter((k) => !keys.has(coll, k) || changed.has(coll, k)))];
    const found = wanted.length > 0 ? await read(wanted) : [];
    const fresh = new Map(wanted.map((k, i) => [k, found[i]]));
    return asked.map((k) => (fresh.has(k) ? (fresh.get(k) as T) : from[k]));
  }
  return {
    records: (coll, asked) =>
      answer(coll, asked, (ks) => reader.records(coll, ks), kept[coll] as Record<string, RecordCollections[typeof coll] | undefined>),
    lists: async (coll, asked) =>
      (await answer(coll, asked, (ks) => reader.lists(coll, ks), kept[coll] as Record<string, ListCollections[typeof coll][]>)).map(
        (l) => l ?? [],
      ),
  };
}

/**
 * Rewrites the records of `slice` that `held` does not hold to share repeated values (domain/intern.ts),
 * as a slice kept for long is held: about 550 bytes per receivable instead of 1,400 as decoded.
 */
function shareNew(slice: IndexState, held: IndexState | undefined): void {
  const shared = new RepeatedValues();
  for (const coll of RECORD_COLLECTIONS) {
    const records = slice[coll] as Record<string, unknown>;
    const before = held?.[coll] as Record<string, unknown> | undefined;
    for (const k in records) if (before?.[k] !== records[k]) records[k] = shared.shareRecord(records[k]);
  }
}

/**
 * Over the committed index, read for one enterprise at a time. A page or the participant check is kept
 * while the newest checkpoint this process has seen (`latest`, polled) is the one it was read at, so
 * repeated reads between two commits cost no database round trip. Metrics and series are kept longer:
 * with the keys their slice read, for as long as no commit changes one of those keys (index_changes,
 * migration 008). So an enterprise's answers outlive the commits of other enterprises' events, and a
 * large enterprise's slice is not read again after each commit. Up to `keptKeys` keys of slices are
 * kept with their records (the enterprises read last): after a commit that changes some of them, only
 * those are read again. A page or participant check read while `latest` is unknown is not kept.
 */
export function committedEnterpriseReads(
  reader: PostgresIndexReader,
  latest: () => Checkpoint | null,
  { keptKeys }: { keptKeys: number },
): CommittedEnterpriseReads {
  const memo = new Map<string, Promise<unknown>>();
  let memoAt: string | undefined;
  const slices = new Map<Address, KeptSlice>();
  let sliceKeys = 0;
  /** Keys of the slices kept with their records (`KeptSlice.slice`). */
  let heldKeys = 0;
  /** Answers being read, so concurrent asks of one answer at one checkpoint read once. */
  const pending = new Map<string, Promise<unknown>>();
  /** Slices being read, so concurrent asks of one enterprise (its metrics and its series) read it once. */
  const reading = new Map<string, Promise<SliceRead>>();

  const at = (c: Checkpoint | null) => (c ? `${c.blockNumber}:${c.blockHash}` : undefined);

  /** `compute` over what `read` finds on one snapshot (computed after it, off the connection), kept under that snapshot's checkpoint. */
  function kept<S, T>(key: string, read: (r: IndexReader) => Promise<S>, compute: (found: S) => T): Promise<T> {
    const now = at(latest());
    if (now !== memoAt) {
      memo.clear();
      memoAt = now;
    }
    const hit = now === undefined ? undefined : memo.get(key);
    if (hit) return hit as Promise<T>;
    const answer = reader.inSnapshot(read);
    const value = answer.then((a) => compute(a.value));
    if (now !== undefined) {
      if (memo.size >= MAX_MEMO) memo.clear();
      memo.set(key, value);
      // Kept only if it was read at the checkpoint it is kept under (a commit may land between the poll and the read).
      void answer.then(
        (a) => at(a.meta.checkpoint) !== now && memo.get(key) === value && memo.delete(key),
        () => memo.get(key) === value && memo.delete(key),
      );
    }
    return value;
  }

  /** Drops the records kept of `slice` (its answers and keys stay). */
  function release(slice: KeptSlice): void {
    if (!slice.slice) return;
    heldKeys -= slice.keys.size;
    slice.slice = undefined;
  }

  /** Keeps `slice` for `e` in place of what was kept, within the bounds; its records only if they fit the budget. */
  function keep(e: Address, slice: KeptSlice): void {
    const before = slices.get(e);
    if (before) {
      sliceKeys -= before.keys.size;
      release(before);
      slices.delete(e);
    }
    if (sliceKeys + slice.keys.size > MAX_SLICE_KEYS || (!before && slices.size >= MAX_MEMO)) {
      slices.clear();
      sliceKeys = 0;
      heldKeys = 0;
    }
    if (slice.slice && slice.keys.size > keptKeys) slice.slice = undefined;
    if (slice.slice) {
      // The records of the enterprises read longest ago give way (a Map iterates in insertion order).
      for (const other of slices.values()) {
        if (heldKeys + slice.keys.size <= keptKeys) break;
        release(other);
      }
      heldKeys += slice.keys.size;
    }
    slices.set(e, slice);
    sliceKeys += slice.keys.size;
  }

  /**
   * Reads `e`'s slice on the snapshot `r` (at `m`), checking what is kept against the commits' changed
   * keys first: unchanged, it is kept as of this commit (and its records given when kept); otherwise the
   * slice is read again, from the database only for the keys changed or new when its records were kept.
   * With `needSlice` false, an unchanged slice whose records were not kept is not read. A kept slice
   * newer than the snapshot is not used, nor replaced.
   */
  async function sliceIn(r: CommittedReader, m: CommittedMeta, e: Address, needSlice: boolean): Promise<SliceRead> {
    const kept = slices.get(e);
    const before = kept && kept.seq <= m.commitSeq ? kept : undefined;
    // Taken now: what is kept may give its records way to another enterprise's while this reads.
    const held = before?.slice;
    const listed = before ? await r.changedSince(before.seq, m.commitSeq) : null;
    const changed = listed && CollectionKeys.of(listed);
    const unchanged = changed !== null && !before!.keys.meets(changed);
    if (unchanged && (!needSlice || held)) {
      // Kept as of this commit now (unless a later read already moved it on).
      if (before!.seq < m.commitSeq) Object.assign(before!, { seq: m.commitSeq, at: at(m.checkpoint) });
      return { entry: before!, slice: held };
    }
    const keys = new CollectionKeys();
    const slice = await loadEnterpriseSlice(noting(held && changed ? reusing(r, held, before!.keys, changed) : r, keys), e);
    // Only for a slice that can be kept: sharing a large slice's values takes a while (0.7-0.9 s for
    // 160,000 receivables), on the snapshot's connection.
    if (keys.size <= keptKeys) shareNew(slice, held);
    const entry: KeptSlice = {
      seq: m.commitSeq,
      at: at(m.checkpoint),
      keys,
      // Answers over a slice no commit changed still hold.
      answers: unchanged ? before!.answers : new Map(),
      slice,
    };
    // Kept unless another read replaced what this one started from, or nothing is indexed yet.
    if (m.checkpoint !== null && slices.get(e) === before) keep(e, entry);
    return { entry, slice };
  }

  /** sliceIn on a snapshot of its own. */
  async function readSlice(e: Address, needSlice: boolean): Promise<SliceRead> {
    return (await reader.inSnapshot((r, m) => sliceIn(r, m, e, needSlice))).value;
  }

  /**
   * `compute` over the enterprise's slice (metrics/slice.ts), answered from what is kept when no commit
   * since changed a key the slice read: checked on one snapshot against the commits' changed keys.
   */
  function overSlice<T>(key: string, e: Address, compute: (slice: IndexState) => T): Promise<T> {
    const now = at(latest());
    const kept = slices.get(e);
    if (now !== undefined && kept?.at === now && kept.answers.has(key)) return Promise.resolve(kept.answers.get(key) as T);
    const flight = `${e}:${key}:${now}`;
    const inFlight = pending.get(flight);
    if (inFlight) return inFlight as Promise<T>;
    const answer = (async () => {
      let read: SliceRead;
      if (now !== undefined && kept?.at === now && kept.slice) read = { entry: kept, slice: kept.slice };
      else {
        const needSlice = !kept?.answers.has(key);
        const readKey = `${e}:${now}:${needSlice}`;
        let r = reading.get(readKey);
        if (!r) {
          r = readSlice(e, needSlice);
          reading.set(readKey, r);
          const done = () => reading.get(readKey) === r && reading.delete(readKey);
          r.then(done, done);
        }
        read = await r;
      }
      if (read.entry.answers.has(key)) return read.entry.answers.get(key) as T;
      // No records given: an answer kept when this started was not there when the read ended (another ask's read); read it whole.
      const computed = compute(read.slice ?? (await readSlice(e, true)).slice!);
      if (slices.get(e) === read.entry && read.entry.answers.size < MAX_SLICE_ANSWERS) read.entry.answers.set(key, computed);
      return computed;
    })();
    pending.set(flight, answer);
    const done = () => pending.get(flight) === answer && pending.delete(flight);
    answer.then(done, done);
    return answer;
  }

  return {
    isParticipant: (e) =>
      kept(
        `p:${e}`,
        (r) => r.records("participants", [e]),
        ([p]) => p !== undefined,
      ),
    page: (kind, e, limit, offset) =>
      kept(
        `l:${kind}:${e}:${limit}:${offset}`,
        async (r) => {
          const ids = await listOf(r, LISTS[kind], e);
          const wanted = pageIds(ids, limit, offset);
          const found: (OrderEntity | ReceivableEntity | LoanEntity | undefined)[] = await r.records(kind, wanted);
          return { ids, records: new Map(wanted.map((id, i) => [id, found[i]])) };
        },
        // Only the page's ids were read: in a consistent index every one of them is there.
        ({ ids, records }) => page(ids, (id) => records.get(id), limit, offset),
      ),
    // Uncached: the answers are kept here, with the keys they read (the memo would walk and hold the slice's records again).
    metrics: (e, asOf) => overSlice(`m:${asOfDayEnd(asOf)}`, e, (slice) => computeMetricsUncached(slice, e, asOf)),
    series: (e, asOf, months) => overSlice(`s:${asOfDayEnd(asOf)}:${months}`, e, (slice) => monthlySeries(slice, e, asOf, months)),
    sliceIn: async (r, m, e) => {
      const read = await sliceIn(r, m, e.toLowerCase() as Address, true);
      return { slice: read.slice!, keys: read.entry.keys };
    },
  };
}
