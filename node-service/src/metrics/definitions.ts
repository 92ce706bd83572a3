/**
 * Every underwriting metric, defined once: key, name, unit, windows and the one-line definition the
 * API returns. compute.ts produces exactly these keys and windows (a test checks both ways).
 *
 * Time rules shared by all definitions:
 * - asOfEnd is the last second of asOf's UTC day: metrics are daily figures, so every asOf within one
 *   day gives the same values (and the memo cache can key on the day).
 * - A record is in window "Nd" when the time that defines it (named in each definition) satisfies
 *   asOfEnd - N days < t <= asOfEnd; "all" takes every t <= asOfEnd. Anything after asOfEnd is ignored,
 *   so a past asOf gives the figures as they stood then.
 * - "Point in time" metrics are stocks at asOfEnd and have the single window "all".
 * - Ratios are rounded to 4 decimals, days to 2, half away from zero; a ratio or mean over nothing is null.
 */

export const METRIC_WINDOWS = ["30d", "90d", "365d", "all"] as const;
export type MetricWindow = (typeof METRIC_WINDOWS)[number];

export interface MetricDefinition {
  key: string;
  name: string;
  unit: "count" | "minor_units" | "ratio" | "days" | "hhi" | "percent";
  windows: MetricWindow[];
  definition: string;
  group: string;
}

/** Length of each bounded window in days. */
export const WINDOW_DAYS: Readonly<Record<Exclude<MetricWindow, "all">, number>> = { "30d": 30, "90d": 90, "365d": 365 };

const W: MetricWindow[] = [...METRIC_WINDOWS];
const POINT: MetricWindow[] = ["all"];

const SALES = "Sales (the enterprise as supplier)";
const RECEIVABLES = "Receivables (the enterprise as issuer)";
const COLLECTION = "Collection (buyers paying the enterprise's invoices)";
const COUNTERPARTIES = "Counterparties";
const DYNAMICS = "Volume dynamics";
const FINANCING = "Financing (the enterprise as borrower)";
const DEBTOR = "Payment behaviour (the enterprise as buyer and debtor)";

// Shared wording: an "invoice" is an original (not split) receivable; its payments include those on
// its split descendants, so factoring or splitting does not change the payer's record.
export const METRIC_DEFINITIONS: readonly MetricDefinition[] = Object.freeze([
  {
    key: "orderCount",
    name: "Sales orders",
    unit: "count",
    windows: W,
    group: SALES,
    definition: "Sales orders (the enterprise as supplier) created, excluding those cancelled by asOf; window by createdAt.",
  },
  {
    key: "orderValue",
    name: "Sales order value",
    unit: "minor_units",
    windows: W,
    group: SALES,
    definition: "Sum of the amounts of the sales orders counted in orderCount; window by createdAt.",
  },
  {
    key: "ordersCompleted",
    name: "Sales orders completed",
    unit: "count",
    windows: W,
    group: SALES,
    definition: "Sales orders the buyer accepted as completed; window by completedAt.",
  },
  {
    key: "completionRate",
    name: "Completion rate",
    unit: "ratio",
    windows: W,
    group: SALES,
    definition:
      "Sales orders created in the window and completed by asOf, divided by all sales orders created in the window (cancelled and in-progress ones included); window by createdAt.",
  },
  {
    key: "onTimeDeliveryRate",
    name: "On-time delivery rate",
    unit: "ratio",
    windows: W,
    group: SALES,
    definition: "Delivered sales orders whose deliveredAt <= deliveryDue, divided by delivered sales orders; window by deliveredAt.",
  },
  {
    key: "deliveryLeadTimeMean",
    name: "Mean delivery lead time",
    unit: "days",
    windows: W,
    group: SALES,
    definition: "Mean of deliveredAt - createdAt over delivered sales orders; window by deliveredAt.",
  },
  {
    key: "cancellationRate",
    name: "Cancellation rate",
    unit: "ratio",
    windows: W,
    group: SALES,
    definition:
      "Sales orders created in the window and cancelled (by either party) by asOf, divided by all sales orders created in the window; window by createdAt.",
  },
  {
    key: "disputeRate",
    name: "Dispute rate",
    unit: "ratio",
    windows: W,
    group: SALES,
    definition:
      "Sales orders shipped in the window on which the buyer raised at least one dispute by asOf (resolved or not), divided by sales orders shipped in the window; window by shippedAt.",
  },
  {
    key: "receivablesIssuedCount",
    name: "Receivables issued",
    unit: "count",
    windows: W,
    group: RECEIVABLES,
    definition: "Original receivables (split children not counted) the enterprise issued, later cancelled ones included; window by issuedAt.",
  },
  {
    key: "receivablesIssuedValue",
    name: "Receivables issued, value",
    unit: "minor_units",
    windows: W,
    group: RECEIVABLES,
    definition: "Sum of the face values of the receivables counted in receivablesIssuedCount; window by issuedAt.",
  },
  {
    key: "receivablesConfirmedCount",
    name: "Receivables confirmed",
    unit: "count",
    windows: W,
    group: RECEIVABLES,
    definition: "Original receivables the enterprise issued that the debtor acknowledged (confirmed); window by acknowledgedAt.",
  },
  {
    key: "receivablesConfirmedValue",
    name: "Receivables confirmed, value",
    unit: "minor_units",
    windows: W,
    group: RECEIVABLES,
    definition: "Sum of the face values of the receivables counted in receivablesConfirmedCount; window by acknowledgedAt.",
  },
  {
    key: "confirmationRate",
    name: "Confirmation rate",
    unit: "ratio",
    windows: W,
    group: RECEIVABLES,
    definition:
      "Original receivables issued in the window and acknowledged by the debtor by asOf, divided by original receivables issued in the window; window by issuedAt.",
  },
  {
    key: "paybackCycleMean",
    name: "Payback cycle, mean",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition:
      "Mean days from issue to the payment that completed the face value, over the enterprise's confirmed invoices fully paid (payments on split children included); window by that final payment time.",
  },
  {
    key: "paybackCycleP90",
    name: "Payback cycle, 90th percentile",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition: "90th percentile (nearest rank: the ceil(0.9 n)-th smallest) of the payback cycles of paybackCycleMean; window by final payment time.",
  },
  {
    key: "overdueRate",
    name: "Overdue rate",
    unit: "ratio",
    windows: W,
    group: COLLECTION,
    definition:
      "The enterprise's confirmed invoices maturing in the window that were not fully paid at maturity (paid late or still unpaid), divided by its confirmed invoices maturing in the window; window by maturity.",
  },
  {
    key: "daysPastDueMean",
    name: "Mean days past due",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition:
      "Over the late invoices counted in overdueRate: mean days from maturity to the final payment, or to asOfEnd if still not fully paid; window by maturity.",
  },
  {
    key: "outstandingValue",
    name: "Outstanding receivables",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: face value minus payments made by asOfEnd, summed over the enterprise's confirmed invoices, whoever holds them.",
  },
  {
    key: "overdueValue",
    name: "Overdue receivables",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue on invoices whose maturity is before asOfEnd.",
  },
  {
    key: "buyerHhi",
    name: "Buyer concentration (HHI)",
    unit: "hhi",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Herfindahl-Hirschman index on the 0-1 scale: sum over buyers of the squared share of orderValue (1 = a single buyer); window by createdAt.",
  },
  {
    key: "topBuyerShare",
    name: "Top buyer share",
    unit: "ratio",
    windows: W,
    group: COUNTERPARTIES,
    definition: "The largest single buyer's share of orderValue; window by createdAt.",
  },
  {
    key: "distinctCounterparties",
    name: "Distinct counterparties",
    unit: "count",
    windows: W,
    group: COUNTERPARTIES,
    definition: "Distinct buyers and suppliers with whom the enterprise has an order not cancelled by asOf, on either side; window by the order's createdAt.",
  },
  {
    key: "relationshipTenureDays",
    name: "Longest buyer relationship",
    unit: "days",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Over the buyers of the sales orders counted in orderCount: the longest time from the first non-cancelled sales order ever with that buyer to asOfEnd; window by createdAt.",
  },
  {
    key: "relationshipTenureMean",
    name: "Mean buyer relationship",
    unit: "days",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Over the same buyers as relationshipTenureDays: the mean time from the first non-cancelled sales order ever with that buyer to asOfEnd; window by createdAt.",
  },
  {
    key: "volumeGrowth",
    name: "Volume growth",
    unit: "ratio",
    windows: ["90d"],
    group: DYNAMICS,
    definition:
      "orderValue of the last 90 days minus orderValue of the 90 days before them, divided by the latter (null when the earlier period has none); windows by createdAt.",
  },
  {
    key: "volumeVolatility",
    name: "Monthly volume volatility",
    unit: "ratio",
    windows: ["365d"],
    group: DYNAMICS,
    definition:
      "Coefficient of variation (population standard deviation / mean) of monthly sales order value (as orderValue) over the 12 UTC calendar months ending with asOf's month, months without orders counting 0; null when all are 0.",
  },
  {
    key: "pledgedRatio",
    name: "Pledged ratio",
    unit: "ratio",
    windows: POINT,
    group: FINANCING,
    definition:
      "Point in time: unpaid value of the confirmed receivables the enterprise holds (as last indexed) that are pledged to a loan of the enterprise live at asOfEnd (signed or disbursed, not closed, defaulted or cancelled), divided by the unpaid value of all confirmed receivables it holds.",
  },
  {
    key: "loansOutstanding",
    name: "Loans outstanding",
    unit: "minor_units",
    windows: POINT,
    group: FINANCING,
    definition: "Point in time: total due minus repayments made by asOfEnd, over loans disbursed to the enterprise as borrower (defaulted loans included).",
  },
  {
    key: "repaymentOnTimeRate",
    name: "Loans repaid on time",
    unit: "ratio",
    windows: W,
    group: FINANCING,
    definition:
      "Disbursed loans of the enterprise (as borrower) maturing in the window that were repaid in full by their maturity, divided by those loans; window by maturity.",
  },
  {
    key: "defaults",
    name: "Defaults",
    unit: "count",
    windows: W,
    group: FINANCING,
    definition: "Loans of the enterprise (as borrower) that the lender declared in default; window by defaultedAt.",
  },
  {
    key: "purchaseCount",
    name: "Purchase orders",
    unit: "count",
    windows: W,
    group: DEBTOR,
    definition: "Purchase orders (the enterprise as buyer) created, excluding those cancelled by asOf; window by createdAt.",
  },
  {
    key: "purchaseValue",
    name: "Purchase order value",
    unit: "minor_units",
    windows: W,
    group: DEBTOR,
    definition: "Sum of the amounts of the purchase orders counted in purchaseCount; window by createdAt.",
  },
  {
    key: "debtorPaybackCycleMean",
    name: "Own payback cycle, mean",
    unit: "days",
    windows: W,
    group: DEBTOR,
    definition: "As paybackCycleMean, over confirmed invoices the enterprise owes as debtor: mean days from issue to final payment; window by final payment time.",
  },
  {
    key: "debtorOverdueRate",
    name: "Own overdue rate",
    unit: "ratio",
    windows: W,
    group: DEBTOR,
    definition: "As overdueRate, over confirmed invoices the enterprise owes as debtor: share not fully paid at maturity; window by maturity.",
  },
  {
    key: "debtorDaysPastDueMean",
    name: "Own mean days past due",
    unit: "days",
    windows: W,
    group: DEBTOR,
    definition: "As daysPastDueMean, over the late invoices of debtorOverdueRate: mean days from maturity to final payment or asOfEnd; window by maturity.",
  },
  {
    key: "debtorOutstandingValue",
    name: "Own payables outstanding",
    unit: "minor_units",
    windows: POINT,
    group: DEBTOR,
    definition: "Point in time: face value minus payments made by asOfEnd, summed over confirmed invoices the enterprise owes as debtor.",
  },
  {
    key: "debtorOverdueValue",
    name: "Own payables overdue",
    unit: "minor_units",
    windows: POINT,
    group: DEBTOR,
    definition: "Point in time: the part of debtorOutstandingValue on invoices whose maturity is before asOfEnd.",
  },
  {
    key: "disputesRaised",
    name: "Disputes raised as buyer",
    unit: "count",
    windows: W,
    group: DEBTOR,
    definition: "Disputes the enterprise raised as buyer on its purchase orders (each dispute counted); window by the dispute's time.",
  },
] satisfies MetricDefinition[]);

const BY_KEY = new Map(METRIC_DEFINITIONS.map((d) => [d.key, d]));

/** The definition of a metric key, or undefined for an unknown key. */
export function metricDefinition(key: string): MetricDefinition | undefined {
  return BY_KEY.get(key);
}
