/**
 * What the application form's prefill reads of the index: the borrower's pledgeable receivables (with
 * the loans they were pledged to), every participant's registry entry (the lenders to choose from), and
 * each of their debtors' tier metrics (what sets each receivable's advance). From the whole index on a
 * process that holds it; from the committed index on a reader (SERVICE_ROLE=reader), which holds none:
 * the borrower's slice and its debtors' counts on one snapshot (a debtor's records are counted in the
 * database, metrics/debtor-tier.ts, so an anchor buyer's history is never loaded), the participants
 * by one statement beside it.
 */
import type { Address, IndexState, ReceivableEntity } from "../domain/entities";
import { computeSelectedMetricsAt } from "../metrics/compute";
import { committedSelectedMetricsAt } from "../metrics/debtor-tier";
import { asOfDayEnd } from "../metrics/records";
import { loadEnterpriseSlice } from "../metrics/slice";
import type { PostgresIndexReader } from "../store/postgres/index-reader";
import type { MetricValues } from "../underwriting/decide";
import { pledgeableReceivables, tierMetrics } from "../underwriting/input";
import type { Policy } from "../underwriting/policy";

export interface PrefillIndex {
  /** Holds at least the borrower's receivables, the loans they were pledged to, and every participant. */
  state: IndexState;
  /** The tier metrics of each debtor of a pledgeable receivable, at the end of the prefill's day. */
  debtors: Record<Address, MetricValues>;
}

/** Each debtor's tier metrics at the end of asOf's day (the instant the form's advances are figured at), from an index in memory. */
export function debtorTierMetrics(state: IndexState, receivables: readonly ReceivableEntity[], asOf: number, policy: Policy) {
  const debtors: Record<Address, MetricValues> = {};
  for (const r of receivables)
    debtors[r.debtor] ??= computeSelectedMetricsAt(state, r.debtor, asOfDayEnd(asOf), tierMetrics(policy)).values;
  return debtors;
}

/** The prefill's reads from the committed index. */
export async function committedPrefillIndex(
  reader: PostgresIndexReader,
  borrower: Address,
  asOf: number,
  policy: Policy,
): Promise<PrefillIndex> {
  const b = borrower.toLowerCase() as Address;
  const [{ value }, participants] = await Promise.all([
    reader.inSnapshot(async (r) => {
      const state = await loadEnterpriseSlice(r, b);
      const owing = [...new Set(pledgeableReceivables(state, b, asOf).map((x) => x.debtor))];
      const metrics = await Promise.all(owing.map((d) => committedSelectedMetricsAt(r, d, asOfDayEnd(asOf), tierMetrics(policy))));
      return { state, debtors: Object.fromEntries(owing.map((d, i) => [d, metrics[i]])) };
    }),
    reader.participants(),
  ]);
  Object.assign(value.state.participants, participants);
  return value;
}
