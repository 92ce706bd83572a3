/**
 * A debtor's tier metrics (the few its advance rate reads: underwriting/input.ts tierMetrics) from the
 * committed index, for a process that does not hold the index (SERVICE_ROLE=reader). An anchor buyer
 * owes thousands of invoices, each split among lenders and suppliers; loading its records to count them
 * cost a reader seconds and hundreds of megabytes per request (README, "Reader processes"). The metrics
 * the database can count (purchaseCount, debtorOverdueRate) are counted there, by the rules of
 * compute.ts (test/service/debtor-tier.test.ts checks every party and instant of two histories against
 * it); a tier that reads any other metric is computed over the debtor's slice, as the enterprise's own
 * metrics are.
 */
import type { Address } from "../domain/entities";
import { DAY } from "../domain/time";
import type { CommittedReader, DebtorCounts } from "../store/postgres/index-reader";
import { computeSelectedMetricsAtUncached, type EnterpriseMetrics, type MetricSelection, type MetricValue } from "./compute";
import { WINDOW_DAYS, type MetricWindow } from "./definitions";
import { ratio } from "./math";
import { loadEnterpriseSlice } from "./slice";

/** The metrics debtorCounts answers, each from its counts. */
const COUNTED: Record<string, (c: DebtorCounts) => MetricValue> = {
  purchaseCount: (c) => c.purchases,
  debtorOverdueRate: (c) => ratio(c.late, c.matured),
};

/** The selected metrics of `enterprise` at the instant `end`: the values computeSelectedMetricsAt gives over the whole index. */
export async function committedSelectedMetricsAt(
  reader: CommittedReader,
  enterprise: Address,
  end: number,
  only: MetricSelection,
): Promise<EnterpriseMetrics["values"]> {
  const e = enterprise.toLowerCase() as Address;
  if (![...only.keys()].every((key) => key in COUNTED))
    return computeSelectedMetricsAtUncached(await loadEnterpriseSlice(reader, e), e, end, only).values;
  const windows = [...new Set([...only.values()].flat())];
  const counts = new Map(
    await Promise.all(
      windows.map(
        async (w: MetricWindow) => [w, await reader.debtorCounts(e, end, w === "all" ? null : end - WINDOW_DAYS[w] * DAY)] as const,
      ),
    ),
  );
  const values: EnterpriseMetrics["values"] = {};
  for (const [key, ws] of only) values[key] = Object.fromEntries(ws.map((w) => [w, COUNTED[key](counts.get(w)!)]));
  return values;
}
