/**
 * An enterprise's metrics, monthly series and lists (orders, receivables, loans), whichever way the process holds the index: over the whole
 * index in memory (an indexing process), or over the one enterprise's slice read from the committed
 * index in PostgreSQL (a reader process, SERVICE_ROLE=reader), whose memory then does not grow with
 * the index. Both compute with the same functions over the same records (metrics/slice.ts), so they
 * give the same values at the same checkpoint.
 */
import type { Address, IndexState, LoanEntity, OrderEntity, ReceivableEntity } from "../domain/entities";
import type { Checkpoint } from "../store/index-store";
import { listOf, type IndexReader } from "../store/index-reader";
import type { PostgresIndexReader } from "../store/postgres/index-reader";
import { asOfDayEnd } from "./records";
import { computeMetrics, monthlySeries, type EnterpriseMetrics, type MonthlyPoint } from "./compute";
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

/** Answers kept per checkpoint; the memo is emptied when it holds this many. */
const MAX_MEMO = 10_000;
/** Keys of the enterprises' slices kept (with their answers) at most; all are dropped when they would hold more. */
const MAX_SLICE_KEYS = 2_000_000;
/** Answers kept per enterprise (days and series asked of it) at most; its answers are dropped when it would hold more. */
const MAX_SLICE_ANSWERS = 256;

/** What a reader keeps of one enterprise's metrics and series: answers over its slice, and which keys that slice read. */
interface KeptSlice {
  /** The commit the slice was read at, or last found to leave every key of it unchanged at. */
  seq: number;
  /** That commit's checkpoint: while it is still the newest polled, the answers need no database round trip. */
  at: string | undefined;
  /** Every key the slice's load asked for, "coll/key" (found or not: a record created later changes the slice too). */
  keys: Set<string>;
  answers: Map<string, unknown>;
}

/** True when one of `changed` is in `keys`. */
function touches(changed: ReadonlySet<string>, keys: ReadonlySet<string>): boolean {
  for (const k of changed) if (keys.has(k)) return true;
  return false;
}

/** `reader`, noting every key asked of it into `keys` ("coll/key"). */
function noting(reader: IndexReader, keys: Set<string>): IndexReader {
  return {
    records: (coll, asked) => {
      for (const k of asked) keys.add(`${coll}/${k}`);
      return reader.records(coll, asked);
    },
    lists: (coll, asked) => {
      for (const k of asked) keys.add(`${coll}/${k}`);
      return reader.lists(coll, asked);
    },
  };
}

/**
 * Over the committed index, read for one enterprise at a time. A page or the participant check is kept
 * while the newest checkpoint this process has seen (`latest`, polled) is the one it was read at, so
 * repeated reads between two commits cost no database round trip. Metrics and series are kept longer:
 * with the keys their slice read, for as long as no commit changes one of those keys (index_changes,
 * migration 008). So an enterprise's answers outlive the commits of other enterprises' events, and a
 * large enterprise's slice is not read again after each commit. A page or participant check read while
 * `latest` is unknown is not kept.
 */
export function committedEnterpriseReads(reader: PostgresIndexReader, latest: () => Checkpoint | null): EnterpriseReads {
  const memo = new Map<string, Promise<unknown>>();
  let memoAt: string | undefined;
  const slices = new Map<Address, KeptSlice>();
  let sliceKeys = 0;
  /** Answers being read, so concurrent asks of one answer at one checkpoint read once. */
  const pending = new Map<string, Promise<unknown>>();

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

  /** Keeps `slice` for `e` in place of what was kept, within the bounds. */
  function keep(e: Address, slice: KeptSlice): void {
    const before = slices.get(e);
    if (before) sliceKeys -= before.keys.size;
    if (sliceKeys + slice.keys.size > MAX_SLICE_KEYS || (!before && slices.size >= MAX_MEMO)) {
      slices.clear();
      sliceKeys = 0;
    }
    slices.set(e, slice);
    sliceKeys += slice.keys.size;
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
      const { meta, value } = await reader.inSnapshot(async (r, m) => {
        if (kept?.answers.has(key)) {
          const changed = await r.changedSince(kept.seq, m.commitSeq);
          if (changed && !touches(changed, kept.keys)) return kept;
        }
        const keys = new Set<string>();
        return { keys, slice: await loadEnterpriseSlice(noting(r, keys), e) };
      });
      if (!("slice" in value)) {
        // Unchanged since it was kept: kept as of this commit now.
        if (value.seq < meta.commitSeq) Object.assign(value, { seq: meta.commitSeq, at: at(meta.checkpoint) });
        return value.answers.get(key) as T;
      }
      const computed = compute(value.slice);
      if (meta.checkpoint !== null) {
        const same = slices.get(e);
        // Added to what is kept for this enterprise when that was read at the same commit; otherwise in its place.
        if (same && same.seq === meta.commitSeq && same.answers.size < MAX_SLICE_ANSWERS) same.answers.set(key, computed);
        else keep(e, { seq: meta.commitSeq, at: at(meta.checkpoint), keys: value.keys, answers: new Map([[key, computed]]) });
      }
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
    metrics: (e, asOf) => overSlice(`m:${asOfDayEnd(asOf)}`, e, (slice) => computeMetrics(slice, e, asOf)),
    series: (e, asOf, months) => overSlice(`s:${asOfDayEnd(asOf)}:${months}`, e, (slice) => monthlySeries(slice, e, asOf, months)),
  };
}
