/**
 * An enterprise's metrics and monthly series, whichever way the process holds the index: over the whole
 * index in memory (an indexing process), or over the one enterprise's slice read from the committed
 * index in PostgreSQL (a reader process, SERVICE_ROLE=reader), whose memory then does not grow with
 * the index. Both compute with the same functions over the same records (metrics/slice.ts), so they
 * give the same values at the same checkpoint.
 */
import type { Address, IndexState } from "../domain/entities";
import type { Checkpoint } from "../store/index-store";
import type { IndexReader } from "../store/index-reader";
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
}

/** Over the index this process holds (computeMetrics memoizes per enterprise and day). */
export function inMemoryEnterpriseReads(state: () => IndexState): EnterpriseReads {
  return {
    isParticipant: async (e) => state().participants[e] !== undefined,
    metrics: async (e, asOf) => computeMetrics(state(), e, asOf),
    series: async (e, asOf, months) => monthlySeries(state(), e, asOf, months),
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
        (r) => r.participants([e]),
        ([p]) => p !== undefined,
      ),
    metrics: (e, asOf) => overSlice(`m:${e}:${asOfDayEnd(asOf)}`, e, (slice) => computeMetrics(slice, e, asOf)),
    series: (e, asOf, months) => overSlice(`s:${e}:${asOfDayEnd(asOf)}:${months}`, e, (slice) => monthlySeries(slice, e, asOf, months)),
  };
}
