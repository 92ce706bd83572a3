/**
 * An enterprise's metrics and monthly series, whichever way the process holds the index: over the whole
 * index in memory (an indexing process), or over the one enterprise's slice read from the committed
 * index in PostgreSQL (a reader process, SERVICE_ROLE=reader), whose memory then does not grow with
 * the index. Both compute with the same functions over the same records (metrics/slice.ts), so they
 * give the same values at the same checkpoint.
 */
import type { Address, IndexState } from "../domain/entities";
import type { Checkpoint } from "../store/index-store";
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
 * Over the committed index, one slice per enterprise and checkpoint: an answer is kept while the
 * newest checkpoint this process has seen (`latest`, polled) is the one it was read at, so repeated
 * reads between two commits cost no database round trip. A read while `latest` is unknown is not kept.
 */
export function committedEnterpriseReads(reader: PostgresIndexReader, latest: () => Checkpoint | null): EnterpriseReads {
  const memo = new Map<string, Promise<unknown>>();
  let memoAt: string | undefined;

  const at = (c: Checkpoint | null) => (c ? `${c.blockNumber}:${c.blockHash}` : undefined);

  /** `compute` over the enterprise's slice, kept under the checkpoint the slice was read at. */
  function kept<T>(key: string, enterprise: Address, compute: (slice: IndexState) => T): Promise<T> {
    const now = at(latest());
    if (now !== memoAt) {
      memo.clear();
      memoAt = now;
    }
    const hit = now === undefined ? undefined : memo.get(key);
    if (hit) return hit as Promise<T>;
    const read = reader
      .inSnapshot((r) => loadEnterpriseSlice(r, enterprise))
      .then(({ meta, value: slice }) => ({ readAt: at(meta.checkpoint), value: compute(slice) }));
    const value = read.then((r) => r.value);
    if (now !== undefined) {
      if (memo.size >= MAX_MEMO) memo.clear();
      memo.set(key, value);
      // Kept only if it was read at the checkpoint it is kept under (a commit may land between the poll and the read).
      void read.then(
        (r) => r.readAt !== now && memo.get(key) === value && memo.delete(key),
        () => memo.get(key) === value && memo.delete(key),
      );
    }
    return value;
  }

  return {
    isParticipant: (e) => kept(`p:${e}`, e, (slice) => slice.participants[e] !== undefined),
    metrics: (e, asOf) => kept(`m:${e}:${asOfDayEnd(asOf)}`, e, (slice) => computeMetrics(slice, e, asOf)),
    series: (e, asOf, months) => kept(`s:${e}:${asOfDayEnd(asOf)}:${months}`, e, (slice) => monthlySeries(slice, e, asOf, months)),
  };
}
