/**
 * What underwriting reads of the chain index: an application's prefill (the borrower's pledgeable
 * receivables, their debtors' tiers, the lenders), its quote and decision (the same, and the decision's
 * input: the borrower's metrics and fraud screen), and the back-test (underwriting/backtest.ts: each
 * borrower's cases apart). Two implementations:
 * - in memory, over the index an indexing process holds;
 * - committed, for a reader (SERVICE_ROLE=reader), which holds none: on one snapshot of the committed
 *   index, the synchronous readers (pledgeableReceivables, collectDecisionInput with the screen, the
 *   back-test's cases) run on demand (store/on-demand.ts: they read only the keys they ask for, and
 *   `apart` drops what one borrower's reads loaded), a borrower's slice is taken at once from what the
 *   reader's enterprise reads keep (metrics/enterprise-reads.ts), a debtor's tier is counted in the database
 *   (metrics/debtor-tier.ts: an anchor buyer's records are never loaded), and the participants are one
 *   statement.
 * Both give the same values (test/service/pg-reader.test.ts compares the prefill, quotes, a decision
 * and the back-test on both).
 */
import type { Address, IndexState, ParticipantEntity } from "../domain/entities";
import { committedSelectedMetricsAt, selectedMetricsIn } from "../metrics/debtor-tier";
import type { CommittedEnterpriseReads } from "../metrics/enterprise-reads";
import { loadEnterpriseSlice } from "../metrics/slice";
import { computeMetricsAt, computeMetricsAtUncached } from "../metrics/compute";
import { OnDemandIndex } from "../store/on-demand";
import type { PostgresIndexReader } from "../store/postgres/index-reader";
import type { MetricValues } from "./decide";
import { tierMetrics } from "./input";
import type { Policy } from "./policy";

export interface ApplicationIndex {
  /** `read` over the index (on a reader, the keys it reads are read for it, and kept for the next run). */
  run<T>(read: (state: IndexState) => T): Promise<T>;
  /** Each debtor's tier metrics (those the policy's advance tiers read; default the service's) at the instant `end`. */
  tierMetrics(debtors: readonly Address[], end: number, policy?: Policy): Promise<Record<Address, MetricValues>>;
  /** Every participant's registry entry, by address. */
  participants(): Promise<Record<Address, ParticipantEntity>>;
  /**
   * Loads the records an enterprise's metrics read (its slice, metrics/slice.ts) at once, for the runs
   * that read them next (on a reader; the index in memory holds them already).
   */
  prefetchSlice(enterprise: Address): Promise<void>;
  /**
   * The enterprise's metrics at the instant `at` (computeMetricsAt). On a reader whose enterprise reads
   * lent the enterprise's slice (prefetchSlice), computed over that slice's own records, not through a
   * run's on-demand lookups (a large supplier's figures walk its records several times).
   */
  metricsAt(enterprise: Address, at: number): Promise<MetricValues>;
  /**
   * `read` over the same moment with keys of its own, dropped when it ends: a scan over many
   * enterprises (the back-test) holds one enterprise's keys at a time on a reader.
   */
  apart<T>(read: (index: ApplicationIndex) => Promise<T>): Promise<T>;
}

/** Runs `read` with the index of one moment (on a reader: one snapshot of the committed index). */
export type WithApplicationIndex = <T>(read: (index: ApplicationIndex) => Promise<T>) => Promise<T>;

/** Each debtor once, in the order given. */
export function debtorsOf(receivables: readonly { debtor: Address }[]): Address[] {
  return [...new Set(receivables.map((r) => r.debtor))];
}

export function inMemoryApplicationIndex(state: () => IndexState, policy: Policy): WithApplicationIndex {
  return (read) => {
    const s = state();
    const index: ApplicationIndex = {
      run: async (fn) => fn(s),
      tierMetrics: async (debtors, end, p = policy) => {
        const values = await Promise.all(debtors.map((d) => selectedMetricsIn(s, d, end, tierMetrics(p))));
        return Object.fromEntries(debtors.map((d, i) => [d, values[i]]));
      },
      participants: async () => s.participants,
      prefetchSlice: async () => undefined,
      metricsAt: async (e, at) => computeMetricsAt(s, e, at).values,
      apart: (fn) => fn(index),
    };
    return read(index);
  };
}

/**
 * Over the committed index, on one snapshot per call. With `slices` (the reader's enterprise reads), a
 * borrower's slice comes from what they keep, so a quote or decision after a metrics read of the same
 * borrower reads again only the keys commits changed since.
 */
export function committedApplicationIndex(
  reader: PostgresIndexReader,
  policy: Policy,
  slices?: Pick<CommittedEnterpriseReads, "sliceIn">,
): WithApplicationIndex {
  return async (read) =>
    (
      await reader.inSnapshot((r, m) => {
        // Per index: the enterprises prefetched, each with the slice lent for it (none when read on demand).
        const over = (onDemand: OnDemandIndex, prefetched = new Map<string, IndexState | undefined>()): ApplicationIndex => ({
          run: (fn) => onDemand.run(fn),
          tierMetrics: async (debtors, end, p = policy) => {
            const values = await Promise.all(debtors.map((d) => committedSelectedMetricsAt(r, d, end, tierMetrics(p))));
            return Object.fromEntries(debtors.map((d, i) => [d, values[i]]));
          },
          participants: () => r.participants(),
          prefetchSlice: async (e) => {
            // Once per enterprise and index: its keys stay loaded.
            if (prefetched.has(e.toLowerCase())) return;
            prefetched.set(e.toLowerCase(), undefined);
            if (!slices) return onDemand.prefetch((through) => loadEnterpriseSlice(through, e));
            const { keys, slice } = await slices.sliceIn(r, m, e);
            onDemand.seed(keys, slice);
            prefetched.set(e.toLowerCase(), slice);
          },
          metricsAt: async (e, at) => {
            const slice = prefetched.get(e.toLowerCase());
            // Uncached: the slice is kept across asks (not read once), and the memo would walk its records to note them.
            if (slice) return computeMetricsAtUncached(slice, e, at).values;
            return onDemand.run((state) => computeMetricsAt(state, e, at).values);
          },
          apart: (fn) => fn(over(new OnDemandIndex(r))),
        });
        return read(over(new OnDemandIndex(r)));
      })
    ).value;
}
