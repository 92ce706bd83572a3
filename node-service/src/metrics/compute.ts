/**
 * Underwriting metrics of one enterprise, computed from its own records in the index (the per-party
 * id lists the reducers maintain as events arrive), as they stood at the end of asOf's UTC day.
 * Each metric is defined once in definitions.ts; this file holds one function per key.
 */
import type { Address, IndexState, OrderEntity } from "../domain/entities";
import { METRIC_DEFINITIONS, type MetricWindow } from "./definitions";
import { DAY } from "../domain/time";
import { coefficientOfVariation, hhi, meanDays, nearestRank, ratio, days } from "./math";
import {
  asOfDayEnd,
  by,
  enterpriseRecords,
  inWindow,
  loanLiveAt,
  orderCancelledBy,
  paidBy,
  walkRecords,
  repaidBy,
  type EnterpriseRecords,
  type Invoice,
} from "./records";

/** bigint for amounts (minor units), number for counts, ratios and days, null when undefined (no data). */
export type MetricValue = bigint | number | null;

export interface EnterpriseMetrics {
  enterprise: Address;
  /** The evaluation instant: the last second of the requested asOf's UTC day (block time, seconds). */
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
}

function sum(orders: readonly OrderEntity[]): bigint {
  return orders.reduce((s, o) => s + o.amount, 0n);
}

function paybackCycles(invoices: readonly Invoice[], end: number, w: MetricWindow): number[] {
  return invoices.filter((i) => i.confirmed && inWindow(i.paidAt, end, w)).map((i) => (i.paidAt as number) - i.receivable.issuedAt);
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

function daysPastDueOf(invoices: readonly Invoice[], end: number, w: MetricWindow): MetricValue {
  const late = matured(invoices, end, w).filter((x) => x.late);
  return meanDays(late.map(({ inv }) => (inv.paidAt ?? end) - inv.receivable.maturity));
}

function outstandingOf(invoices: readonly Invoice[], end: number, overdueOnly: boolean): bigint {
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
    const created = c.salesCreated(w);
    return ratio(created.filter((o) => by(o.completedAt, c.end)).length, created.length);
  },
  onTimeDeliveryRate: (c, w) => {
    const d = c.delivered(w);
    return ratio(d.filter((o) => (o.deliveredAt as number) <= o.deliveryDue).length, d.length);
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

  paybackCycleMean: (c, w) => meanDays(paybackCycles(c.rec.issued, c.end, w)),
  paybackCycleP90: (c, w) => {
    const p = nearestRank(paybackCycles(c.rec.issued, c.end, w), 0.9);
    return p === null ? null : days(p);
  },
  overdueRate: (c, w) => overdueRateOf(c.rec.issued, c.end, w),
  daysPastDueMean: (c, w) => daysPastDueOf(c.rec.issued, c.end, w),
  outstandingValue: (c) => outstandingOf(c.rec.issued, c.end, false),
  overdueValue: (c) => outstandingOf(c.rec.issued, c.end, true),

  buyerHhi: (c, w) => hhi([...c.buyerValues(w).values()]),
  topBuyerShare: (c, w) => {
    const values = [...c.buyerValues(w).values()];
    const total = values.reduce((s, v) => s + v, 0n);
    return total === 0n ? null : ratio(values.reduce((m, v) => (v > m ? v : m), 0n), total);
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
    const from = c.end - 180 * DAY;
    const to = c.end - 90 * DAY;
    const earlier = sum(c.trade("all").filter((o) => o.createdAt > from && o.createdAt <= to));
    return earlier === 0n ? null : ratio(recent - earlier, earlier);
  },
  volumeVolatility: (c) => coefficientOfVariation(monthlyTrade(c, 12).map((m) => m.value)),

  pledgedRatio: (c) => {
    let total = 0n;
    let pledged = 0n;
    for (const h of c.rec.held) {
      if (!h.confirmed || h.unpaid <= 0n) continue;
      total += h.unpaid;
      const loanId = h.receivable.pledgedLoanId;
      const loan = loanId === undefined ? undefined : c.rec.loanById(loanId);
      if (loan && loan.borrower === c.rec.enterprise && loanLiveAt(loan, c.end)) pledged += h.unpaid;
    }
    return ratio(pledged, total);
  },
  loansOutstanding: (c) => {
    let total = 0n;
    for (const l of c.rec.loans) {
      if (!by(l.disbursedAt, c.end) || by(l.cancelledAt, c.end)) continue;
      const due = l.totalDue - repaidBy(l, c.end);
      if (due > 0n) total += due;
    }
    return total;
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
  debtorDaysPastDueMean: (c, w) => daysPastDueOf(c.rec.owed, c.end, w),
  debtorOutstandingValue: (c) => outstandingOf(c.rec.owed, c.end, false),
  debtorOverdueValue: (c) => outstandingOf(c.rec.owed, c.end, true),
  disputesRaised: (c, w) => c.rec.purchases.reduce((n, o) => n + o.disputes.filter((d) => inWindow(d.at, c.end, w)).length, 0),
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

/** Computes every metric in every window of its definition, without the cache. */
export function computeMetricsUncached(state: IndexState, enterprise: Address, asOf: number): EnterpriseMetrics {
  const e = normalize(enterprise);
  const end = asOfDayEnd(asOf);
  const ctx = new Context(enterpriseRecords(state, e, end));
  const values: EnterpriseMetrics["values"] = {};
  for (const def of METRIC_DEFINITIONS) {
    const perWindow: Partial<Record<MetricWindow, MetricValue>> = {};
    for (const w of def.windows) perWindow[w] = COMPUTE[def.key](ctx, w);
    values[def.key] = perWindow;
  }
  return { enterprise: e, asOf: end, day: dayLabel(end), values };
}

// Memo: per index state object and (enterprise, asOf day), checked against the exact record objects
// the figures were computed from. Not keyed by state.eventCount alone: a reorg undoes blocks and
// re-applies others, which can bring the count back to the same number with different records; and
// events of other enterprises do not invalidate this one's figures.
const MAX_ENTRIES = 10_000;
const cache = new WeakMap<IndexState, Map<string, { deps: unknown[]; result: EnterpriseMetrics }>>();

/** True when the enterprise's records are exactly the objects in `deps` (no allocation). */
function unchanged(state: IndexState, e: Address, deps: readonly unknown[]): boolean {
  let i = 0;
  return walkRecords(state, e, (r) => i < deps.length && deps[i++] === r) && i === deps.length;
}

/**
 * The enterprise's metrics as of the end of asOf's UTC day (block time, seconds). A repeated query for
 * the same enterprise and day returns the same (frozen) object as long as none of the enterprise's
 * records changed; checking that costs one identity comparison per record.
 */
export function computeMetrics(state: IndexState, enterprise: Address, asOf: number): EnterpriseMetrics {
  const e = normalize(enterprise);
  const key = `${e}:${Math.floor(asOf / DAY)}`;
  let entries = cache.get(state);
  if (!entries) {
    entries = new Map();
    cache.set(state, entries);
  }
  const hit = entries.get(key);
  if (hit && unchanged(state, e, hit.deps)) return hit.result;
  const deps: unknown[] = [];
  walkRecords(state, e, (r) => deps.push(r) > 0);
  const result = freeze(computeMetricsUncached(state, e, asOf));
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { deps, result });
  return result;
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
  /** As paybackCycleMean over the enterprise's invoices fully paid in the month. */
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
