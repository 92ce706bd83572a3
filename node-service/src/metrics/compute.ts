/**
 * Underwriting metrics of one enterprise, computed from its own records in the index (the per-party
 * id lists the reducers maintain as events arrive), as they stood at the end of asOf's UTC day.
 * Each metric is defined once in definitions.ts; this file holds one function per key.
 */
import type { Address, IndexState, LoanEntity, OrderEntity, ReceivableEntity } from "../domain/entities";
import { METRIC_DEFINITIONS, WINDOW_DAYS, type MetricWindow } from "./definitions";
import { changeJournalOf, isReadOnce, type ChangeJournal, type CollectionKeys } from "../domain/mutations";
import { DAY } from "../domain/time";
import { coefficientOfVariation, hhi, meanDays, nearestRank, ratio, roundDiv, days } from "./math";
import {
  asOfDayEnd,
  by,
  enterpriseRecords,
  inWindow,
  loanLiveAt,
  orderCancelledBy,
  paidBy,
  pledgedLoanAt,
  recordKeysOf,
  sharedKycAttributes,
  walkRecords,
  repaidBy,
  type EnterpriseRecords,
  type Invoice,
} from "./records";

/** bigint for amounts (minor units), number for counts, ratios and days, null when undefined (no data). */
export type MetricValue = bigint | number | null;

export interface EnterpriseMetrics {
  enterprise: Address;
  /** The evaluation instant (block time, seconds): the last second of asOf's UTC day, or a decision's moment. */
  asOf: number;
  /** The UTC day the figures are for, YYYY-MM-DD. */
  day: string;
  values: Record<string, Partial<Record<MetricWindow, MetricValue>>>;
}

type Compute = (ctx: Context, w: MetricWindow) => MetricValue;

/** The records plus per-window selections shared by several metrics (computed once per query). */
class Context {
  private readonly memo = new Map<string, unknown>();
  constructor(readonly rec: EnterpriseRecords) {}

  get end(): number {
    return this.rec.end;
  }

  cached<T>(key: string, make: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as T;
  }

  /** Sales orders created in w (cancelled included). */
  salesCreated(w: MetricWindow): OrderEntity[] {
    return this.cached(`salesCreated:${w}`, () => this.rec.sales.filter((o) => inWindow(o.createdAt, this.end, w)));
  }

  /** Sales orders created in w and not cancelled by asOfEnd: the trade volume. */
  trade(w: MetricWindow): OrderEntity[] {
    return this.cached(`trade:${w}`, () => this.salesCreated(w).filter((o) => !orderCancelledBy(o, this.end)));
  }

  /** Trade value per buyer in w. */
  buyerValues(w: MetricWindow): Map<Address, bigint> {
    return this.cached(`buyerValues:${w}`, () => {
      const m = new Map<Address, bigint>();
      for (const o of this.trade(w)) m.set(o.buyer, (m.get(o.buyer) ?? 0n) + o.amount);
      return m;
    });
  }

  /** First non-cancelled sales order time per buyer, over all history up to asOfEnd. */
  firstTradeByBuyer(): Map<Address, number> {
    return this.cached("firstTrade", () => {
      const m = new Map<Address, number>();
      for (const o of this.trade("all")) {
        const t = m.get(o.buyer);
        if (t === undefined || o.createdAt < t) m.set(o.buyer, o.createdAt);
      }
      return m;
    });
  }

  /** Tenure in seconds of each buyer traded with in w, from its first trade to asOfEnd. */
  tenures(w: MetricWindow): number[] {
    const first = this.firstTradeByBuyer();
    return [...this.buyerValues(w).keys()].map((b) => this.end - (first.get(b) as number));
  }

  delivered(w: MetricWindow): OrderEntity[] {
    return this.cached(`delivered:${w}`, () => this.rec.sales.filter((o) => inWindow(o.deliveredAt, this.end, w)));
  }

  /** True when a dispute was raised on the sales order by end. */
  orderDisputedBy(orderId: string): boolean {
    const byId = this.cached("salesById", () => new Map(this.rec.sales.map((o) => [o.id, o])));
    return byId.get(orderId)?.disputes.some((d) => d.at <= this.end) ?? false;
  }

  /** The receivables book: confirmed pieces the enterprise issued and held at end, with their unpaid part. */
  book(): { receivable: ReceivableEntity; unpaid: bigint }[] {
    return this.cached("book", () =>
      this.rec.held.filter((h) => h.confirmed && h.unpaid > 0n && h.receivable.issuer === this.rec.enterprise),
    );
  }

  /**
   * The book's totals in one pass (a bulk supplier's book holds 160,000 pieces): its unpaid value per
   * debtor and per ageing bucket of AGEING_BUCKETS, and from the buckets its whole unpaid value and the
   * part past maturity (every bucket after the first).
   */
  bookTotals(): { outstanding: bigint; overdue: bigint; byDebtor: Map<Address, bigint>; ageing: bigint[] } {
    return this.cached("bookTotals", () => {
      const byDebtor = new Map<Address, bigint>();
      const ageing = AGEING_BUCKETS.map(() => 0n);
      for (const { receivable: r, unpaid } of this.book()) {
        byDebtor.set(r.debtor, (byDebtor.get(r.debtor) ?? 0n) + unpaid);
        const late = this.end - r.maturity;
        for (let b = 0; b < AGEING_BUCKETS.length; b++)
          if (late > AGEING_BUCKETS[b][0] * DAY && late <= AGEING_BUCKETS[b][1] * DAY) {
            ageing[b] += unpaid;
            break;
          }
      }
      const overdue = ageing.slice(1).reduce((s, v) => s + v, 0n);
      return { outstanding: ageing[0] + overdue, overdue, byDebtor, ageing };
    });
  }

  /**
   * Loans disbursed by end and not cancelled that still owe at end: total due minus repayments by end
   * (after a default the collateral stays pledged and its payments repay the loan first, as repayments).
   */
  owing(): { loan: LoanEntity; due: bigint }[] {
    return this.cached("owing", () => {
      const out: { loan: LoanEntity; due: bigint }[] = [];
      for (const l of this.rec.loans) {
        if (!by(l.disbursedAt, this.end) || by(l.cancelledAt, this.end)) continue;
        const due = l.totalDue - repaidBy(l, this.end);
        if (due > 0n) out.push({ loan: l, due });
      }
      return out;
    });
  }
}

function sum(orders: readonly OrderEntity[]): bigint {
  return orders.reduce((s, o) => s + o.amount, 0n);
}

/**
 * The ageing buckets, in days past maturity: more than the first bound and at most the second. They
 * cover every time, so each piece of the book is in exactly one; the first holds the pieces not past
 * maturity (maturity >= end), the others those past it.
 */
const AGEING_BUCKETS: readonly (readonly [number, number])[] = [
  [-Infinity, 0],
  [0, 30],
  [30, 60],
  [60, 90],
  [90, Infinity],
];

/** A short payment: partly paid and still short this many days after maturity. */
const SHORT_PAYMENT_DAYS = 90;
/** volumeVolatility: the 365-day window cut into 12 equal periods (30 d 10 h each). */
const VOLATILITY_PERIODS = 12;
const VOLATILITY_PERIOD = (365 * DAY) / VOLATILITY_PERIODS;

function topShare(values: readonly bigint[]): MetricValue {
  const total = values.reduce((s, v) => s + v, 0n);
  return total === 0n
    ? null
    : ratio(
        values.reduce((m, v) => (v > m ? v : m), 0n),
        total,
      );
}

/**
 * Confirmed invoices settled in w: fully paid (placed at the final payment) or past maturity and still
 * unpaid (placed at maturity, counted to `end`): days from issue to full payment, or to `end`.
 */
function paybackCycles(invoices: readonly Invoice[], end: number, w: MetricWindow): number[] {
  return invoices
    .filter((i) => i.confirmed && inWindow(i.paidAt ?? i.receivable.maturity, end, w))
    .map((i) => (i.paidAt ?? end) - i.receivable.issuedAt);
}

/** Confirmed invoices maturing in w, each with whether it was late (not fully paid at maturity). */
function matured(invoices: readonly Invoice[], end: number, w: MetricWindow): { inv: Invoice; late: boolean }[] {
  return invoices
    .filter((i) => i.confirmed && inWindow(i.receivable.maturity, end, w))
    .map((inv) => ({ inv, late: paidBy(inv, inv.receivable.maturity) < inv.receivable.faceValue }));
}

function overdueRateOf(invoices: readonly Invoice[], end: number, w: MetricWindow): MetricValue {
  const m = matured(invoices, end, w);
  return ratio(m.filter((x) => x.late).length, m.length);
}

function lateDaysOf(invoices: readonly Invoice[], end: number, w: MetricWindow): MetricValue {
  const late = matured(invoices, end, w).filter((x) => x.late);
  return meanDays(late.map(({ inv }) => (inv.paidAt ?? end) - inv.receivable.maturity));
}

/** Amount-weighted days beyond terms over all confirmed invoices maturing in w. */
function daysBeyondTermsOf(invoices: readonly Invoice[], end: number, w: MetricWindow): MetricValue {
  let face = 0n;
  let weighted = 0n; // amount x seconds late
  for (const { inv } of matured(invoices, end, w)) {
    const m = inv.receivable.maturity;
    face += inv.receivable.faceValue;
    for (const p of inv.payments) if (p.at > m) weighted += p.amount * BigInt(p.at - m);
    const unpaid = inv.receivable.faceValue - inv.paid;
    if (unpaid > 0n) weighted += unpaid * BigInt(end - m);
  }
  return face === 0n ? null : roundDiv(weighted, face * BigInt(DAY), 2);
}

/** Face value minus payments by `end` over confirmed invoices, whoever holds them. */
function unpaidOf(invoices: readonly Invoice[], end: number, overdueOnly: boolean): bigint {
  let total = 0n;
  for (const i of invoices) {
    if (!i.confirmed) continue;
    if (overdueOnly && !(i.receivable.maturity < end)) continue;
    total += i.receivable.faceValue - i.paid;
  }
  return total;
}

/** Sales trade value per UTC calendar month, for the `months` months ending with the month of `end`. */
function monthBuckets(ctx: Context, months: number): { month: string; start: number; stop: number }[] {
  const d = new Date(ctx.end * 1000);
  const out: { month: string; start: number; stop: number }[] = [];
  for (let k = months - 1; k >= 0; k--) {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - k, 1) / 1000;
    const stop = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - k + 1, 1) / 1000; // exclusive
    const m = new Date(start * 1000);
    out.push({ month: `${m.getUTCFullYear()}-${String(m.getUTCMonth() + 1).padStart(2, "0")}`, start, stop });
  }
  return out;
}

const inMonth = (t: number | undefined, b: { start: number; stop: number }, end: number): t is number =>
  by(t, end) && t >= b.start && t < b.stop;

/** One function per metric key; checked against METRIC_DEFINITIONS at load. */
const COMPUTE: Record<string, Compute> = {
  orderCount: (c, w) => c.trade(w).length,
  orderValue: (c, w) => sum(c.trade(w)),
  ordersCompleted: (c, w) => c.rec.sales.filter((o) => inWindow(o.completedAt, c.end, w)).length,
  completionRate: (c, w) => {
    // Settled by end: completed (at completedAt), cancelled (at cancelledAt), or open past its due (at deliveryDue).
    const settled = c.rec.sales.filter((o) =>
      inWindow(by(o.completedAt, c.end) ? o.completedAt : by(o.cancelledAt, c.end) ? o.cancelledAt : o.deliveryDue, c.end, w),
    );
    return ratio(settled.filter((o) => by(o.completedAt, c.end)).length, settled.length);
  },
  onTimeDeliveryRate: (c, w) => {
    // Known by end: delivered by its due time (on time, at deliveredAt), or past due undelivered or delivered late (at deliveryDue).
    const known = c.rec.sales.filter(
      (o) =>
        !by(o.cancelledAt, Math.min(o.deliveryDue, c.end)) &&
        inWindow(by(o.deliveredAt, o.deliveryDue) ? o.deliveredAt : o.deliveryDue, c.end, w),
    );
    return ratio(known.filter((o) => by(o.deliveredAt, o.deliveryDue)).length, known.length);
  },
  deliveryLeadTimeMean: (c, w) => meanDays(c.delivered(w).map((o) => (o.deliveredAt as number) - o.createdAt)),
  cancellationRate: (c, w) => {
    const created = c.salesCreated(w);
    return ratio(created.filter((o) => orderCancelledBy(o, c.end)).length, created.length);
  },
  disputeRate: (c, w) => {
    const shipped = c.rec.sales.filter((o) => inWindow(o.shippedAt, c.end, w));
    return ratio(shipped.filter((o) => o.disputes.some((d) => d.at <= c.end)).length, shipped.length);
  },

  receivablesIssuedCount: (c, w) => c.rec.issued.filter((i) => inWindow(i.receivable.issuedAt, c.end, w)).length,
  receivablesIssuedValue: (c, w) =>
    c.rec.issued.filter((i) => inWindow(i.receivable.issuedAt, c.end, w)).reduce((s, i) => s + i.receivable.faceValue, 0n),
  receivablesConfirmedCount: (c, w) => c.rec.issued.filter((i) => inWindow(i.receivable.acknowledgedAt, c.end, w)).length,
  receivablesConfirmedValue: (c, w) =>
    c.rec.issued.filter((i) => inWindow(i.receivable.acknowledgedAt, c.end, w)).reduce((s, i) => s + i.receivable.faceValue, 0n),
  confirmationRate: (c, w) => {
    const issued = c.rec.issued.filter((i) => inWindow(i.receivable.issuedAt, c.end, w));
    return ratio(issued.filter((i) => by(i.receivable.acknowledgedAt, c.end)).length, issued.length);
  },
  dilutionRate: (c, w) => {
    let face = 0n;
    let lost = 0n;
    for (const i of c.rec.issued) {
      const r = i.receivable;
      if (!inWindow(r.issuedAt, c.end, w)) continue;
      face += r.faceValue;
      const unpaid = r.faceValue - i.paid;
      if (by(r.cancelledAt, c.end)) lost += r.faceValue;
      else if (c.orderDisputedBy(r.orderId)) lost += unpaid;
      else if (i.paid > 0n && unpaid > 0n && c.end - r.maturity > SHORT_PAYMENT_DAYS * DAY) lost += unpaid;
    }
    return ratio(lost, face);
  },

  paybackCycleMean: (c, w) => meanDays(paybackCycles(c.rec.issued, c.end, w)),
  paybackCycleP90: (c, w) => {
    const p = nearestRank(paybackCycles(c.rec.issued, c.end, w), 0.9);
    return p === null ? null : days(p);
  },
  overdueRate: (c, w) => overdueRateOf(c.rec.issued, c.end, w),
  lateInvoiceDaysMean: (c, w) => lateDaysOf(c.rec.issued, c.end, w),
  daysBeyondTerms: (c, w) => daysBeyondTermsOf(c.rec.issued, c.end, w),
  dso: (c, w) => {
    const invoiced = c.rec.issued
      .filter((i) => inWindow(i.receivable.issuedAt, c.end, w) && !by(i.receivable.cancelledAt, c.end))
      .reduce((s, i) => s + i.receivable.faceValue, 0n);
    if (invoiced === 0n || w === "all") return null;
    return roundDiv(unpaidOf(c.rec.issued, c.end, false) * BigInt(WINDOW_DAYS[w]), invoiced, 2);
  },
  outstandingValue: (c) => c.bookTotals().outstanding,
  overdueValue: (c) => c.bookTotals().overdue,
  ageingCurrent: (c) => c.bookTotals().ageing[0],
  ageing1to30: (c) => c.bookTotals().ageing[1],
  ageing31to60: (c) => c.bookTotals().ageing[2],
  ageing61to90: (c) => c.bookTotals().ageing[3],
  ageingOver90: (c) => c.bookTotals().ageing[4],

  buyerHhi: (c, w) => hhi([...c.buyerValues(w).values()]),
  topBuyerShare: (c, w) => topShare([...c.buyerValues(w).values()]),
  debtorHhi: (c) => hhi([...c.bookTotals().byDebtor.values()]),
  topDebtorShare: (c) => topShare([...c.bookTotals().byDebtor.values()]),
  relatedPartySalesShare: (c, w) => {
    const self = c.rec.participant(c.rec.enterprise);
    let total = 0n;
    let related = 0n;
    for (const [buyer, value] of c.buyerValues(w)) {
      total += value;
      const party = c.rec.participant(buyer);
      if (self && party && party.admittedAt <= c.end && sharedKycAttributes(self, party).length > 0) related += value;
    }
    return ratio(related, total);
  },
  distinctCounterparties: (c, w) => {
    const parties = new Set<Address>();
    for (const o of c.rec.sales) if (inWindow(o.createdAt, c.end, w) && !orderCancelledBy(o, c.end)) parties.add(o.buyer);
    for (const o of c.rec.purchases) if (inWindow(o.createdAt, c.end, w) && !orderCancelledBy(o, c.end)) parties.add(o.supplier);
    return parties.size;
  },
  relationshipTenureDays: (c, w) => {
    const t = c.tenures(w);
    return t.length === 0 ? null : days(Math.max(...t));
  },
  relationshipTenureMean: (c, w) => meanDays(c.tenures(w)),

  volumeGrowth: (c) => {
    const recent = sum(c.trade("90d"));
    const earlier = sum(c.trade("180d").filter((o) => o.createdAt <= c.end - 90 * DAY));
    return earlier === 0n ? null : ratio(recent - earlier, earlier);
  },
  volumeVolatility: (c) => {
    const trade = c.trade("all");
    if (trade.length === 0) return null;
    const first = Math.min(...trade.map((o) => o.createdAt));
    const values: bigint[] = [];
    for (let k = VOLATILITY_PERIODS - 1; k >= 0; k--) {
      const stop = c.end - k * VOLATILITY_PERIOD; // inclusive
      const start = stop - VOLATILITY_PERIOD; // exclusive
      if (stop < first) continue;
      values.push(sum(trade.filter((o) => o.createdAt > start && o.createdAt <= stop)));
    }
    return values.length < 3 ? null : coefficientOfVariation(values);
  },

  pledgedRatio: (c) => {
    let total = 0n;
    let pledged = 0n;
    for (const h of c.rec.held) {
      if (!h.confirmed || h.unpaid <= 0n) continue;
      total += h.unpaid;
      const loanId = pledgedLoanAt(h.receivable, c.end);
      const loan = loanId === undefined ? undefined : c.rec.loanById(loanId);
      if (loan && loan.borrower === c.rec.enterprise && loanLiveAt(loan, c.end)) pledged += h.unpaid;
    }
    return ratio(pledged, total);
  },
  loansOutstanding: (c) => c.owing().reduce((s, x) => s + x.due, 0n),
  loanDaysPastDue: (c) => {
    const owing = c.owing();
    if (owing.length === 0) return null;
    return days(Math.max(0, ...owing.map((x) => c.end - x.loan.maturity)));
  },
  lenderCount: (c, w) => new Set(c.rec.loans.filter((l) => inWindow(l.disbursedAt, c.end, w)).map((l) => l.lender)).size,
  leverage: (c) => {
    const held = c.rec.held.reduce((s, h) => (h.confirmed && h.unpaid > 0n ? s + h.unpaid : s), 0n);
    return ratio(
      c.owing().reduce((s, x) => s + x.due, 0n),
      held,
    );
  },
  repaymentOnTimeRate: (c, w) => {
    const due = c.rec.loans.filter((l) => by(l.disbursedAt, c.end) && inWindow(l.maturity, c.end, w));
    return ratio(due.filter((l) => repaidBy(l, l.maturity) >= l.totalDue).length, due.length);
  },
  defaults: (c, w) => c.rec.loans.filter((l) => inWindow(l.defaultedAt, c.end, w)).length,

  purchaseCount: (c, w) => c.rec.purchases.filter((o) => inWindow(o.createdAt, c.end, w) && !orderCancelledBy(o, c.end)).length,
  purchaseValue: (c, w) => sum(c.rec.purchases.filter((o) => inWindow(o.createdAt, c.end, w) && !orderCancelledBy(o, c.end))),
  debtorPaybackCycleMean: (c, w) => meanDays(paybackCycles(c.rec.owed, c.end, w)),
  debtorOverdueRate: (c, w) => overdueRateOf(c.rec.owed, c.end, w),
  debtorLateInvoiceDaysMean: (c, w) => lateDaysOf(c.rec.owed, c.end, w),
  debtorDaysBeyondTerms: (c, w) => daysBeyondTermsOf(c.rec.owed, c.end, w),
  debtorOutstandingValue: (c) => unpaidOf(c.rec.owed, c.end, false),
  debtorOverdueValue: (c) => unpaidOf(c.rec.owed, c.end, true),
  disputesRaised: (c, w) => c.rec.purchases.reduce((n, o) => n + o.disputes.filter((d) => inWindow(d.at, c.end, w)).length, 0),

  networkTenureDays: (c) => {
    const p = c.rec.participant(c.rec.enterprise);
    return p && p.admittedAt <= c.end ? days(c.end - p.admittedAt) : null;
  },
  daysSinceLastActivity: (c) => {
    let last: number | undefined;
    const seen = (t: number) => {
      if (t <= c.end && (last === undefined || t > last)) last = t;
    };
    for (const o of [...c.rec.sales, ...c.rec.purchases]) seen(o.createdAt);
    for (const i of c.rec.issued) seen(i.receivable.issuedAt);
    for (const i of c.rec.owed) for (const p of i.payments) seen(p.at);
    return last === undefined ? null : days(c.end - last);
  },
};

// Fail fast if a definition has no computation or a computation no definition.
{
  const defined = new Set(METRIC_DEFINITIONS.map((d) => d.key));
  const computed = new Set(Object.keys(COMPUTE));
  const missing = [...defined].filter((k) => !computed.has(k));
  const extra = [...computed].filter((k) => !defined.has(k));
  if (missing.length || extra.length || defined.size !== METRIC_DEFINITIONS.length) {
    throw new Error(`metrics: definitions and computations differ (missing ${missing.join(",")}; extra ${extra.join(",")})`);
  }
}

function monthlyTrade(c: Context, months: number): { month: string; value: bigint; count: number; start: number; stop: number }[] {
  return monthBuckets(c, months).map((b) => {
    const orders = c.trade("all").filter((o) => inMonth(o.createdAt, b, c.end));
    return { ...b, value: sum(orders), count: orders.length };
  });
}

function normalize(enterprise: Address): Address {
  return enterprise.toLowerCase() as Address;
}

function dayLabel(end: number): string {
  return new Date(end * 1000).toISOString().slice(0, 10);
}

/** Some metrics in some of their windows: key -> windows (each a window of the key's definition). */
export type MetricSelection = ReadonlyMap<string, readonly MetricWindow[]>;

/**
 * The selection of the given (metric, window) pairs, checked against the definitions: an unknown key or a
 * window its definition does not have is refused (the full evaluation would not hold it either).
 */
export function metricSelection(pairs: readonly { metric: string; window: MetricWindow }[]): MetricSelection {
  const out = new Map<string, MetricWindow[]>();
  for (const { metric, window } of pairs) {
    const def = METRIC_DEFINITIONS.find((d) => d.key === metric);
    if (!def || !def.windows.includes(window)) throw new RangeError(`metrics: no metric ${metric} in window ${window}`);
    const list = out.get(metric) ?? [];
    if (!list.includes(window)) list.push(window);
    out.set(metric, list);
  }
  return out;
}

/**
 * Every metric in every window of its definition (or only the `only` selection: the same computations,
 * fewer of them), evaluated at the instant `end`, without the cache.
 */
function evaluate(state: IndexState, e: Address, end: number, only?: MetricSelection): EnterpriseMetrics {
  const ctx = new Context(enterpriseRecords(state, e, end));
  const values: EnterpriseMetrics["values"] = {};
  for (const def of METRIC_DEFINITIONS) {
    const windows = only ? only.get(def.key) : def.windows;
    if (!windows) continue;
    const perWindow: Partial<Record<MetricWindow, MetricValue>> = {};
    for (const w of def.windows) if (windows.includes(w)) perWindow[w] = COMPUTE[def.key](ctx, w);
    values[def.key] = perWindow;
  }
  return { enterprise: e, asOf: end, day: dayLabel(end), values };
}

/** The daily figures (at the last second of asOf's UTC day), without the cache. */
export function computeMetricsUncached(state: IndexState, enterprise: Address, asOf: number): EnterpriseMetrics {
  return evaluate(state, normalize(enterprise), asOfDayEnd(asOf));
}

/** The figures at the instant `at` itself (a decision's moment), without the cache. */
export function computeMetricsAtUncached(state: IndexState, enterprise: Address, at: number): EnterpriseMetrics {
  return evaluate(state, normalize(enterprise), at);
}

// Memo: per index state object and (enterprise, evaluation instant), checked against the exact record
// objects the figures were computed from. Not keyed by state.eventCount alone: a reorg undoes blocks
// and re-applies others, which can bring the count back to the same number with different records;
// and events of other enterprises do not invalidate this one's figures. On a state whose changes are
// journaled (domain/mutations.ts trackChanges: the indexer's), the check reads the keys changed since
// instead of walking the enterprise's records (77-99 ms for bench:reader's bulk supplier of 160,000
// receivables, after every commit of anyone's events).
const MAX_ENTRIES = 10_000;
/** Keys of the enterprises' records kept for journaled states at most (all are dropped past it). */
const MAX_KEPT_KEYS = 2_000_000;
type MemoEntry = { result: EnterpriseMetrics } & ({ deps: unknown[] } | { version: number });
const cache = new WeakMap<IndexState, Map<string, MemoEntry>>();

/** An enterprise's records in a journaled state: their keys, and a version that changes whenever one of them does. */
interface RecordsVersion {
  /** The journal position up to which no change touched `keys`. */
  position: number;
  version: number;
  keys: CollectionKeys;
}
const versions = new WeakMap<IndexState, { byEnterprise: Map<Address, RecordsVersion>; keys: number }>();
/** Versions are never reused, also across states and after the bound drops them. */
let lastVersion = 0;

/** The version of `e`'s records in a journaled state now: the same while the journal shows no change to them. */
function recordsVersion(state: IndexState, journal: ChangeJournal, e: Address): number {
  let held = versions.get(state);
  if (!held) versions.set(state, (held = { byEnterprise: new Map(), keys: 0 }));
  const known = held.byEnterprise.get(e);
  if (known && journal.touches(known.position, known.keys) === false) {
    known.position = journal.position;
    return known.version;
  }
  const fresh: RecordsVersion = { position: journal.position, version: ++lastVersion, keys: recordKeysOf(state, e) };
  if (known) held.keys -= known.keys.size;
  if (held.keys + fresh.keys.size > MAX_KEPT_KEYS) {
    held.byEnterprise.clear();
    held.keys = 0;
  }
  held.byEnterprise.set(e, fresh);
  held.keys += fresh.keys.size;
  return fresh.version;
}

/** True when the enterprise's records are exactly the objects in `deps` (no allocation). */
function unchanged(state: IndexState, e: Address, deps: readonly unknown[]): boolean {
  let i = 0;
  return walkRecords(state, e, (r) => i < deps.length && deps[i++] === r) && i === deps.length;
}

/** A selection's memo key part (keys and windows in definition order). */
function selectionKey(only: MetricSelection | undefined): string {
  if (!only) return "";
  return METRIC_DEFINITIONS.filter((d) => only.has(d.key))
    .map((d) => `${d.key}/${d.windows.filter((w) => only.get(d.key)!.includes(w)).join(",")}`)
    .join(";");
}

function cachedEvaluate(state: IndexState, e: Address, end: number, only?: MetricSelection): EnterpriseMetrics {
  if (isReadOnce(state)) return evaluate(state, e, end, only);
  const key = `${e}:${end}:${selectionKey(only)}`;
  let entries = cache.get(state);
  if (!entries) {
    entries = new Map();
    cache.set(state, entries);
  }
  const hit = entries.get(key);
  const journal = changeJournalOf(state);
  const version = journal && recordsVersion(state, journal, e);
  if (hit && ("version" in hit ? hit.version === version : unchanged(state, e, hit.deps))) return hit.result;
  let entry: MemoEntry;
  const result = freeze(evaluate(state, e, end, only));
  if (version !== undefined) entry = { version, result };
  else {
    const deps: unknown[] = [];
    walkRecords(state, e, (r) => deps.push(r) > 0);
    entry = { deps, result };
  }
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, entry);
  return result;
}

/**
 * The enterprise's daily metrics: as of the end of asOf's UTC day (block time, seconds). A repeated
 * query for the same enterprise and day returns the same (frozen) object as long as none of the
 * enterprise's records changed; checking that costs one identity comparison per record.
 */
export function computeMetrics(state: IndexState, enterprise: Address, asOf: number): EnterpriseMetrics {
  return cachedEvaluate(state, normalize(enterprise), asOfDayEnd(asOf));
}

/**
 * The enterprise's metrics at the instant `at` (block time, seconds), not at the end of its day: what
 * a decision made at `at` could know (an invoice due at 18:00 is not overdue in a decision at 08:00).
 * Cached like computeMetrics.
 */
export function computeMetricsAt(state: IndexState, enterprise: Address, at: number): EnterpriseMetrics {
  return cachedEvaluate(state, normalize(enterprise), at);
}

/**
 * Only the selected metrics at the instant `at`: each value equal to the same key and window of
 * computeMetricsAt (the same computations over the same records), the others absent. For what reads a
 * few metrics only, such as a debtor's tier under the policy. Cached like computeMetrics.
 */
export function computeSelectedMetricsAt(state: IndexState, enterprise: Address, at: number, only: MetricSelection): EnterpriseMetrics {
  return cachedEvaluate(state, normalize(enterprise), at, only);
}

/** computeSelectedMetricsAt without the cache. */
export function computeSelectedMetricsAtUncached(
  state: IndexState,
  enterprise: Address,
  at: number,
  only: MetricSelection,
): EnterpriseMetrics {
  return evaluate(state, normalize(enterprise), at, only);
}

function freeze(m: EnterpriseMetrics): EnterpriseMetrics {
  for (const v of Object.values(m.values)) Object.freeze(v);
  Object.freeze(m.values);
  return Object.freeze(m);
}

export interface MonthlyPoint {
  /** UTC calendar month, YYYY-MM. */
  month: string;
  /** Sales trade in the month, as orderValue / orderCount (by createdAt, cancelled excluded). */
  orderValue: bigint;
  orderCount: number;
  /** As onTimeDeliveryRate over sales orders delivered in the month. */
  onTimeRate: number | null;
  /** Mean days from issue to full payment over the enterprise's confirmed invoices fully paid in the month. */
  paybackDaysMean: number | null;
}

/** Per UTC calendar month, the `months` months ending with asOf's month (oldest first), for charts. */
export function monthlySeries(state: IndexState, enterprise: Address, asOf: number, months: number): MonthlyPoint[] {
  if (!Number.isInteger(months) || months < 1 || months > 240) throw new RangeError(`months must be an integer in 1..240, got ${months}`);
  const end = asOfDayEnd(asOf);
  const ctx = new Context(enterpriseRecords(state, normalize(enterprise), end));
  return monthlyTrade(ctx, months).map((b) => {
    const delivered = ctx.rec.sales.filter((o) => inMonth(o.deliveredAt, b, end));
    const paid = ctx.rec.issued.filter((i) => i.confirmed && inMonth(i.paidAt, b, end));
    return {
      month: b.month,
      orderValue: b.value,
      orderCount: b.count,
      onTimeRate: ratio(delivered.filter((o) => (o.deliveredAt as number) <= o.deliveryDue).length, delivered.length),
      paybackDaysMean: meanDays(paid.map((i) => (i.paidAt as number) - i.receivable.issuedAt)),
    };
  });
}
