/**
 * Every underwriting metric, defined once: key, name, unit, windows, rounding and the definition the
 * API returns. compute.ts produces exactly these keys and windows (a test checks both ways).
 *
 * Time rules shared by all definitions:
 * - Every metric is evaluated at one instant `end` and uses only what happened at or before it (a
 *   record, payment, transfer, pledge or loan event after `end` is ignored: no look-ahead). The API's
 *   daily figures take `end` = the last second of asOf's UTC day (so every asOf within one day gives
 *   the same values); an underwriting decision takes `end` = the decision's own moment.
 * - A record is in window "Nd" when the time that defines it (named in each definition) satisfies
 *   end - N days < t <= end; "all" takes every t <= end.
 * - "Point in time" metrics are stocks at `end` and have the single window "all".
 * - An invoice is an original (not split) receivable; its payments include those on its split
 *   descendants, so factoring or splitting does not change the payer's record. An invoice is
 *   "confirmed" when the debtor acknowledged it at or before `end` and it was not cancelled by then;
 *   an invoice acknowledged after its maturity counts as confirmed, and as late if it was not fully
 *   paid at maturity.
 * - The enterprise's "receivables book" is the unpaid part, at `end`, of the confirmed receivables
 *   (originals or split pieces) it issued and held at `end` (sold-on pieces belong to their buyer).
 * - Rounding (stated in each definition's `rounding`): counts and amounts are exact; ratios and HHI
 *   are computed from integers and rounded once to 4 decimals, days to 2, half away from zero; a
 *   ratio, index or mean over nothing is null.
 */

export const METRIC_WINDOWS = ["30d", "90d", "180d", "365d", "all"] as const;
export type MetricWindow = (typeof METRIC_WINDOWS)[number];

export type MetricUnit = "count" | "minor_units" | "ratio" | "days" | "hhi";

export interface MetricDefinition {
  key: string;
  name: string;
  unit: MetricUnit;
  windows: MetricWindow[];
  definition: string;
  /** How the value is rounded (follows from the unit). */
  rounding: string;
  group: string;
}

/** Length of each bounded window in days. */
export const WINDOW_DAYS: Readonly<Record<Exclude<MetricWindow, "all">, number>> = { "30d": 30, "90d": 90, "180d": 180, "365d": 365 };

/** The rounding rule of each unit, as the definitions state it. */
export const ROUNDING: Readonly<Record<MetricUnit, string>> = {
  count: "Exact integer.",
  minor_units: "Exact, in minor units (a decimal string in JSON).",
  ratio: "Computed from integers, rounded once to 4 decimals, half away from zero; null when the denominator is 0.",
  days: "Computed from seconds, rounded once to 2 decimals of a day (86,400 s), half away from zero; null when there is nothing to measure.",
  hhi: "0-1 scale, computed from integer amounts, rounded once to 4 decimals, half away from zero; null when the total is 0.",
};

const W: MetricWindow[] = ["30d", "90d", "365d", "all"];
const POINT: MetricWindow[] = ["all"];

const ORDERS = "Orders received (the enterprise as supplier; orders, not invoices)";
const RECEIVABLES = "Receivables (the enterprise as issuer)";
const COLLECTION = "Collection (buyers paying the enterprise's invoices)";
const COUNTERPARTIES = "Counterparties";
const DYNAMICS = "Volume dynamics";
const FINANCING = "Financing (the enterprise as borrower)";
const DEBTOR = "Payment behaviour (the enterprise as buyer and debtor)";
const NETWORK = "Presence on the network";

type Def = Omit<MetricDefinition, "rounding">;

const DEFINITIONS: Def[] = [
  {
    key: "orderCount",
    name: "Orders received",
    unit: "count",
    windows: W,
    group: ORDERS,
    definition:
      "Sales orders (the enterprise as supplier) created, excluding those cancelled by end; orders, not invoiced sales (see receivablesIssuedValue); window by createdAt.",
  },
  {
    key: "orderValue",
    name: "Orders received, value",
    unit: "minor_units",
    windows: W,
    group: ORDERS,
    definition: "Sum of the amounts of the sales orders counted in orderCount; window by createdAt.",
  },
  {
    key: "ordersCompleted",
    name: "Orders completed",
    unit: "count",
    windows: W,
    group: ORDERS,
    definition: "Sales orders the buyer accepted as completed; window by completedAt.",
  },
  {
    key: "completionRate",
    name: "Completion rate of settled orders",
    unit: "ratio",
    windows: W,
    group: ORDERS,
    definition:
      "Sales orders settled by end, by the time they settled: completed (completedAt), cancelled (cancelledAt), or still open past their delivery due time (deliveryDue; an order in transit before its due time is not settled and is left out); the completed ones divided by all settled ones; window by that settlement time.",
  },
  {
    key: "onTimeDeliveryRate",
    name: "On-time delivery rate",
    unit: "ratio",
    windows: W,
    group: ORDERS,
    definition:
      "Sales orders whose delivery outcome is known by end, not cancelled by their due time: delivered at or before deliveryDue (on time, placed at deliveredAt) or not (late, placed at deliveryDue: an order past due and still undelivered counts as late); on-time ones divided by all; window by deliveredAt for on-time orders, deliveryDue for late ones.",
  },
  {
    key: "deliveryLeadTimeMean",
    name: "Mean delivery lead time",
    unit: "days",
    windows: W,
    group: ORDERS,
    definition: "Mean of deliveredAt - createdAt over delivered sales orders; window by deliveredAt.",
  },
  {
    key: "cancellationRate",
    name: "Cancellation rate",
    unit: "ratio",
    windows: W,
    group: ORDERS,
    definition:
      "Sales orders created in the window and cancelled (by either party) by end, divided by all sales orders created in the window; window by createdAt.",
  },
  {
    key: "disputeRate",
    name: "Dispute rate",
    unit: "ratio",
    windows: W,
    group: ORDERS,
    definition:
      "Sales orders shipped in the window on which the buyer raised at least one dispute by end (resolved or not), divided by sales orders shipped in the window; window by shippedAt.",
  },
  {
    key: "receivablesIssuedCount",
    name: "Invoices issued",
    unit: "count",
    windows: W,
    group: RECEIVABLES,
    definition:
      "Original receivables (split children not counted) the enterprise issued, later cancelled ones included; window by issuedAt.",
  },
  {
    key: "receivablesIssuedValue",
    name: "Invoices issued, value",
    unit: "minor_units",
    windows: W,
    group: RECEIVABLES,
    definition: "Sum of the face values of the receivables counted in receivablesIssuedCount (the invoiced sales); window by issuedAt.",
  },
  {
    key: "receivablesConfirmedCount",
    name: "Invoices confirmed",
    unit: "count",
    windows: W,
    group: RECEIVABLES,
    definition: "Original receivables the enterprise issued that the debtor acknowledged (confirmed); window by acknowledgedAt.",
  },
  {
    key: "receivablesConfirmedValue",
    name: "Invoices confirmed, value",
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
      "Original receivables issued in the window and acknowledged by the debtor by end, divided by original receivables issued in the window; window by issuedAt.",
  },
  {
    key: "dilutionRate",
    name: "Dilution",
    unit: "ratio",
    windows: W,
    group: RECEIVABLES,
    definition:
      "Over invoices issued in the window: the value lost to credit notes, disputes and short payments by end, divided by their face value. Each invoice counts once: its face value if cancelled (a credit note); else its unpaid part if its order was disputed by end; else its unpaid part if it was partly paid and is more than 90 days past maturity (a short payment); window by issuedAt.",
  },

  {
    key: "paybackCycleMean",
    name: "Payback cycle, mean",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition:
      "Over the enterprise's confirmed invoices fully paid in the window (placed at the payment that completed the face value, payments on split children included) or past maturity and still not fully paid at end (placed at maturity): mean days from issue to that final payment, or to end for an unpaid one, so a buyer that stops paying lengthens the cycle; window by final payment time, or maturity for unpaid invoices.",
  },
  {
    key: "paybackCycleP90",
    name: "Payback cycle, 90th percentile",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition:
      "90th percentile (nearest rank: the ceil(0.9 n)-th smallest) of the payback cycles of paybackCycleMean, unpaid invoices counted to end; window by final payment time, or maturity for unpaid invoices.",
  },
  {
    key: "overdueRate",
    name: "Overdue rate",
    unit: "ratio",
    windows: W,
    group: COLLECTION,
    definition:
      "The enterprise's confirmed invoices maturing in the window that were not fully paid at maturity (paid late or still unpaid), divided by its confirmed invoices maturing in the window (by count); window by maturity.",
  },
  {
    key: "lateInvoiceDaysMean",
    name: "Days late per late invoice, mean",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition:
      "Over the late invoices counted in overdueRate only, each invoice weighing the same whatever its amount: mean days from maturity to the final payment, or to end if still not fully paid; window by maturity. See daysBeyondTerms for the amount-weighted figure over all invoices.",
  },
  {
    key: "daysBeyondTerms",
    name: "Days beyond terms, amount-weighted",
    unit: "days",
    windows: W,
    group: COLLECTION,
    definition:
      "Over all the enterprise's confirmed invoices maturing in the window (paid on time ones included): the sum, over every amount paid after maturity, of amount x (payment time - maturity), plus the amount still unpaid at end x (end - maturity), divided by the invoices' total face value; window by maturity.",
  },
  {
    key: "dso",
    name: "Days sales outstanding (DSO)",
    unit: "days",
    windows: ["90d", "365d"],
    group: COLLECTION,
    definition:
      "The unpaid part at end of the enterprise's confirmed invoices (whoever holds them: a sold-on invoice is still not collected from the debtor), divided by the face value of the invoices issued in the window and not cancelled by end, times the window's days; window by issuedAt for the invoiced value.",
  },
  {
    key: "outstandingValue",
    name: "Receivables book",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition:
      "Point in time: the receivables book: unpaid part at end of the confirmed receivables the enterprise issued and still held at end (pieces sold on are not counted).",
  },
  {
    key: "overdueValue",
    name: "Receivables book, overdue",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue on receivables whose maturity is before end.",
  },
  {
    key: "ageingCurrent",
    name: "Ageing: current",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue not yet past maturity at end (maturity >= end).",
  },
  {
    key: "ageing1to30",
    name: "Ageing: 1-30 days past due",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue past maturity by more than 0 and at most 30 days (of 86,400 s) at end.",
  },
  {
    key: "ageing31to60",
    name: "Ageing: 31-60 days past due",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue past maturity by more than 30 and at most 60 days at end.",
  },
  {
    key: "ageing61to90",
    name: "Ageing: 61-90 days past due",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue past maturity by more than 60 and at most 90 days at end.",
  },
  {
    key: "ageingOver90",
    name: "Ageing: over 90 days past due",
    unit: "minor_units",
    windows: POINT,
    group: COLLECTION,
    definition: "Point in time: the part of outstandingValue past maturity by more than 90 days at end.",
  },

  {
    key: "buyerHhi",
    name: "Buyer concentration of orders (HHI)",
    unit: "hhi",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Herfindahl-Hirschman index on the 0-1 scale: sum over buyers of the squared share of orderValue (orders, not receivables; 1 = a single buyer); window by createdAt.",
  },
  {
    key: "topBuyerShare",
    name: "Top buyer share of orders",
    unit: "ratio",
    windows: W,
    group: COUNTERPARTIES,
    definition: "The largest single buyer's share of orderValue (orders, not receivables); window by createdAt.",
  },
  {
    key: "debtorHhi",
    name: "Debtor concentration of the receivables book (HHI)",
    unit: "hhi",
    windows: POINT,
    group: COUNTERPARTIES,
    definition:
      "Point in time: Herfindahl-Hirschman index on the 0-1 scale of outstandingValue by debtor (what a lender finances; 1 = a single debtor).",
  },
  {
    key: "topDebtorShare",
    name: "Top debtor share of the receivables book",
    unit: "ratio",
    windows: POINT,
    group: COUNTERPARTIES,
    definition: "Point in time: the largest single debtor's share of outstandingValue.",
  },
  {
    key: "relatedPartySalesShare",
    name: "Related-party share of orders",
    unit: "ratio",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "The share of orderValue placed by buyers admitted by end that share at least one KYC attribute hash with the enterprise (the risk screen's related-party test); window by createdAt.",
  },
  {
    key: "distinctCounterparties",
    name: "Distinct counterparties",
    unit: "count",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Distinct buyers and suppliers with whom the enterprise has an order not cancelled by end, on either side; window by the order's createdAt.",
  },
  {
    key: "relationshipTenureDays",
    name: "Longest buyer relationship",
    unit: "days",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Over the buyers of the sales orders counted in orderCount: the longest time from the first non-cancelled sales order ever with that buyer to end; window by createdAt.",
  },
  {
    key: "relationshipTenureMean",
    name: "Mean buyer relationship",
    unit: "days",
    windows: W,
    group: COUNTERPARTIES,
    definition:
      "Over the same buyers as relationshipTenureDays: the mean time from the first non-cancelled sales order ever with that buyer to end; window by createdAt.",
  },

  {
    key: "volumeGrowth",
    name: "Order volume growth, last 90 days over the 90 before",
    unit: "ratio",
    windows: ["180d"],
    group: DYNAMICS,
    definition:
      "Over the 180 days ending at end: orderValue of the last 90 days minus orderValue of the 90 days before them, divided by the latter (null when the earlier 90 days have none); window by createdAt.",
  },
  {
    key: "volumeVolatility",
    name: "Order volume volatility",
    unit: "ratio",
    windows: ["365d"],
    group: DYNAMICS,
    definition:
      "The 365 days ending at end cut into 12 equal periods of 30 d 10 h (2,628,000 s): coefficient of variation (population standard deviation / mean) of orderValue per period, over the periods ending at or after the enterprise's first order counted in orderCount (empty periods before it are left out); null with fewer than 3 such periods or no orders; window by createdAt.",
  },

  {
    key: "pledgedRatio",
    name: "Pledged ratio",
    unit: "ratio",
    windows: POINT,
    group: FINANCING,
    definition:
      "Point in time: unpaid value of the confirmed receivables the enterprise held at end whose latest pledge by end is to a loan of the enterprise live at end (signed, disbursed or in default, not repaid in full or cancelled by end: a defaulted loan keeps its collateral pledged until recovered), divided by the unpaid value of all confirmed receivables it held at end.",
  },
  {
    key: "loansOutstanding",
    name: "Loans outstanding",
    unit: "minor_units",
    windows: POINT,
    group: FINANCING,
    definition:
      "Point in time: over loans disbursed to the enterprise by end and not cancelled (defaulted loans included): total due minus repayments by end, collections on the collateral after a default included (the collateral stays pledged and repays the loan first).",
  },
  {
    key: "loanDaysPastDue",
    name: "Loan days past due",
    unit: "days",
    windows: POINT,
    group: FINANCING,
    definition:
      "Point in time: over the loans counted in loansOutstanding still owing at end, the largest time past maturity at end (0 when none is past maturity; null without such a loan).",
  },
  {
    key: "lenderCount",
    name: "Lenders",
    unit: "count",
    windows: W,
    group: FINANCING,
    definition: "Distinct lenders of the loans disbursed to the enterprise; window by disbursedAt.",
  },
  {
    key: "leverage",
    name: "Leverage (debt to receivables)",
    unit: "ratio",
    windows: POINT,
    group: FINANCING,
    definition:
      "Point in time: loansOutstanding divided by the unpaid value of the confirmed receivables the enterprise held at end (the denominator of pledgedRatio); can exceed 1.",
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
    definition: "Purchase orders (the enterprise as buyer) created, excluding those cancelled by end; window by createdAt.",
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
    definition:
      "As paybackCycleMean, over confirmed invoices the enterprise owes as debtor: mean days from issue to final payment, or to end when past maturity and still not fully paid; window by final payment time, or maturity for unpaid invoices.",
  },
  {
    key: "debtorOverdueRate",
    name: "Own overdue rate",
    unit: "ratio",
    windows: W,
    group: DEBTOR,
    definition:
      "As overdueRate, over confirmed invoices the enterprise owes as debtor: share not fully paid at maturity, by count; window by maturity.",
  },
  {
    key: "debtorLateInvoiceDaysMean",
    name: "Own days late per late invoice, mean",
    unit: "days",
    windows: W,
    group: DEBTOR,
    definition:
      "As lateInvoiceDaysMean, over the late invoices of debtorOverdueRate only: mean days from maturity to final payment or end, per invoice; window by maturity.",
  },
  {
    key: "debtorDaysBeyondTerms",
    name: "Own days beyond terms, amount-weighted",
    unit: "days",
    windows: W,
    group: DEBTOR,
    definition: "As daysBeyondTerms, over all confirmed invoices the enterprise owes as debtor maturing in the window; window by maturity.",
  },
  {
    key: "debtorOutstandingValue",
    name: "Own payables outstanding",
    unit: "minor_units",
    windows: POINT,
    group: DEBTOR,
    definition:
      "Point in time: face value minus payments made by end, summed over confirmed invoices the enterprise owes as debtor (whoever holds them).",
  },
  {
    key: "debtorOverdueValue",
    name: "Own payables overdue",
    unit: "minor_units",
    windows: POINT,
    group: DEBTOR,
    definition: "Point in time: the part of debtorOutstandingValue on invoices whose maturity is before end.",
  },
  {
    key: "disputesRaised",
    name: "Disputes raised as buyer",
    unit: "count",
    windows: W,
    group: DEBTOR,
    definition: "Disputes the enterprise raised as buyer on its purchase orders (each dispute counted); window by the dispute's time.",
  },

  {
    key: "networkTenureDays",
    name: "Tenure on the network",
    unit: "days",
    windows: POINT,
    group: NETWORK,
    definition: "Point in time: end minus the time the enterprise was admitted to the network (null when not admitted by end).",
  },
  {
    key: "daysSinceLastActivity",
    name: "Days since last activity",
    unit: "days",
    windows: POINT,
    group: NETWORK,
    definition:
      "Point in time: end minus the latest of: an order created with the enterprise on either side, an invoice it issued, a payment it made as debtor (null when none by end).",
  },
];

export const METRIC_DEFINITIONS: readonly MetricDefinition[] = Object.freeze(
  DEFINITIONS.map((d) => Object.freeze({ ...d, rounding: ROUNDING[d.unit] })),
);

const BY_KEY = new Map(METRIC_DEFINITIONS.map((d) => [d.key, d]));

/** The definition of a metric key, or undefined for an unknown key. */
export function metricDefinition(key: string): MetricDefinition | undefined {
  return BY_KEY.get(key);
}
