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

/**
 * Over the committed index, read for one enterprise at a time: an answer is kept while the
 * newest checkpoint this process has seen (`latest`, polled) is the one it was read at, so repeated
 * reads between two commits cost no database round trip. A read while `latest` is unknown is not kept.
 */
export function committedEnterpriseReads(reader: PostgresIndexReader, latest: () => Checkpoint | null): EnterpriseReads {
  const memo = new Map<string, Promise<unknown>>();
  let memoAt: string | undefined;

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
  /** `compute` over the enterprise's slice (metrics/slice.ts). */
  const overSlice = <T>(key: string, e: Address, compute: (slice: IndexState) => T) => kept(key, (r) => loadEnterpriseSlice(r, e), compute);

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
    metrics: (e, asOf) => overSlice(`m:${e}:${asOfDayEnd(asOf)}`, e, (slice) => computeMetrics(slice, e, asOf)),
    series: (e, asOf, months) => overSlice(`s:${e}:${asOfDayEnd(asOf)}:${months}`, e, (slice) => monthlySeries(slice, e, asOf, months)),
  };
}
