/**
 * A debtor's tier metrics (the few its advance rate reads: underwriting/input.ts tierMetrics) from the
 * committed index, for a process that does not hold the index (SERVICE_ROLE=reader). An anchor buyer
 * owes thousands of invoices, each split among lenders and suppliers; loading its records to count them
 * cost a reader seconds and hundreds of megabytes per request (README, "Reader processes"). The metrics
 * the database can count (purchaseCount, debtorOverdueRate) are counted there, by the rules of
 * compute.ts (test/service/debtor-tier.test.ts checks every party and instant of two histories against
 * it); a tier that reads any other metric is computed over the debtor's slice, as the enterprise's own
 * metrics are. An indexing process counts the same way over the index it holds (debtorCountsIn): there
 * the metrics computed in full walked every split child the debtor owes.
 */
import type { Address, IndexState } from "../domain/entities";
import { DAY } from "../domain/time";
import type { CommittedReader, DebtorCounts } from "../store/postgres/index-reader";
import {
  computeSelectedMetricsAt,
  computeSelectedMetricsAtUncached,
  type EnterpriseMetrics,
  type MetricSelection,
  type MetricValue,
} from "./compute";
import { WINDOW_DAYS, type MetricWindow } from "./definitions";
import { ratio } from "./math";
import { loadEnterpriseSlice } from "./slice";

/** The metrics debtorCounts answers, each from its counts. */
const COUNTED: Record<string, (c: DebtorCounts) => MetricValue> = {
  purchaseCount: (c) => c.purchases,
  debtorOverdueRate: (c) => ratio(c.late, c.matured),
};

/**
 * The selected values: each from the counts of its window when every selected metric is one
 * debtorCounts answers (`countsSince`: the window's exclusive start, null for all time), otherwise
 * `computed`.
 */
async function selectedValues(
  only: MetricSelection,
  end: number,
  countsSince: (since: number | null) => Promise<DebtorCounts> | DebtorCounts,
  computed: () => Promise<EnterpriseMetrics["values"]> | EnterpriseMetrics["values"],
): Promise<EnterpriseMetrics["values"]> {
  if (![...only.keys()].every((key) => key in COUNTED)) return computed();
  const windows = [...new Set([...only.values()].flat())];
  const counts = new Map(
    await Promise.all(
      windows.map(async (w: MetricWindow) => [w, await countsSince(w === "all" ? null : end - WINDOW_DAYS[w] * DAY)] as const),
    ),
  );
  const values: EnterpriseMetrics["values"] = {};
  for (const [key, ws] of only) values[key] = Object.fromEntries(ws.map((w) => [w, COUNTED[key](counts.get(w)!)]));
  return values;
}

/** The selected metrics of `enterprise` at the instant `end`: the values computeSelectedMetricsAt gives over the whole index. */
export function committedSelectedMetricsAt(reader: CommittedReader, enterprise: Address, end: number, only: MetricSelection) {
  const e = enterprise.toLowerCase() as Address;
  return selectedValues(
    only,
    end,
    (since) => reader.debtorCounts(e, end, since),
    async () => computeSelectedMetricsAtUncached(await loadEnterpriseSlice(reader, e), e, end, only).values,
  );
}

/**
 * debtorCounts over the index in memory (an indexing process), by the same rules: the debtor's orders
 * and its original invoices, one record each, through its lists. An anchor buyer's metrics computed in
 * full walked every split child it owes (about 100 ms per request for 160,000 of them, bench:reader's
 * prefill and quotes), and a decision's instant is new each time, so no memo spares it.
 */
export function debtorCountsIn(state: IndexState, debtor: Address, end: number, since: number | null): DebtorCounts {
  const inWindow = (t: number) => t <= end && (since === null || t > since);
  const cancelledBy = (t: number | undefined) => t !== undefined && t <= end;
  let purchases = 0;
  // Each order is listed once for its buyer (the contract refuses an order to oneself).
  for (const id of state.ordersByParty[debtor] ?? []) {
    const o = state.orders[id];
    if (o?.buyer === debtor && inWindow(o.createdAt) && !cancelledBy(o.cancelledAt)) purchases += 1;
  }
  let matured = 0;
  let late = 0;
  // Each receivable is listed once for each of its parties (the reducer skips a party already listed).
  for (const id of state.receivablesByParty[debtor] ?? []) {
    const r = state.receivables[id];
    if (r === undefined || r.parentId !== undefined || r.debtor !== debtor) continue;
    if (!inWindow(r.maturity) || r.issuedAt > end || r.acknowledgedAt === undefined || r.acknowledgedAt > end || cancelledBy(r.cancelledAt))
      continue;
    matured += 1;
    if ((r.paidByMaturity ?? 0n) < r.faceValue) late += 1;
  }
  return { purchases, matured, late };
}

/** committedSelectedMetricsAt over the index in memory: counted by debtorCountsIn, or computed (memoized) when a metric is not counted. */
export function selectedMetricsIn(state: IndexState, enterprise: Address, end: number, only: MetricSelection) {
  const e = enterprise.toLowerCase() as Address;
  return selectedValues(
    only,
    end,
    (since) => debtorCountsIn(state, e, end, since),
    () => computeSelectedMetricsAt(state, e, end, only).values,
  );
}
