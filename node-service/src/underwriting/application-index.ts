/**
 * What an application's reads ask of the chain index before anything is stored: the form's prefill
 * (the borrower's pledgeable receivables, their debtors' tiers, the lenders) and a quote (the same, and
 * the decision's input: the borrower's metrics and fraud screen). Two implementations:
 * - in memory, over the index an indexing process holds;
 * - committed, for a reader (SERVICE_ROLE=reader), which holds none: on one snapshot of the committed
 *   index, the synchronous readers (pledgeableReceivables, collectDecisionInput with the screen) run on
 *   demand (store/on-demand.ts: they read only the keys they ask for), a debtor's tier is counted in the
 *   database (metrics/debtor-tier.ts: an anchor buyer's records are never loaded), and the participants
 *   are one statement.
 * Both give the same values (test/service/pg-reader.test.ts compares the prefill and quotes on both).
 */
import type { Address, IndexState, ParticipantEntity } from "../domain/entities";
import { computeSelectedMetricsAt } from "../metrics/compute";
import { committedSelectedMetricsAt } from "../metrics/debtor-tier";
import { OnDemandIndex } from "../store/on-demand";
import type { PostgresIndexReader } from "../store/postgres/index-reader";
import type { MetricValues } from "../underwriting/decide";
import { tierMetrics } from "../underwriting/input";
import type { Policy } from "../underwriting/policy";

export interface ApplicationIndex {
  /** `read` over the index (on a reader, the keys it reads are read for it). */
  run<T>(read: (state: IndexState) => T): Promise<T>;
  /** Each debtor's tier metrics (those the policy's advance tiers read) at the instant `end`. */
  tierMetrics(debtors: readonly Address[], end: number): Promise<Record<Address, MetricValues>>;
  /** Every participant's registry entry, by address. */
  participants(): Promise<Record<Address, ParticipantEntity>>;
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
    return read({
      run: async (fn) => fn(s),
      tierMetrics: async (debtors, end) =>
        Object.fromEntries(debtors.map((d) => [d, computeSelectedMetricsAt(s, d, end, tierMetrics(policy)).values])),
      participants: async () => s.participants,
    });
  };
}

export function committedApplicationIndex(reader: PostgresIndexReader, policy: Policy): WithApplicationIndex {
  return async (read) =>
    (
      await reader.inSnapshot((r) => {
        const onDemand = new OnDemandIndex(r);
        return read({
          run: (fn) => onDemand.run(fn),
          tierMetrics: async (debtors, end) => {
            const values = await Promise.all(debtors.map((d) => committedSelectedMetricsAt(r, d, end, tierMetrics(policy))));
            return Object.fromEntries(debtors.map((d, i) => [d, values[i]]));
          },
          participants: () => r.participants(),
        });
      })
    ).value;
}
