/**
 * Metrics over an index state built by hand: definitions, exact rounding, windows and point-in-time
 * evaluation, split receivables, pledges, the memo cache, and that only the enterprise's own records
 * are read. The full chain-to-metrics check is in metrics-chain.test.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import { emptyIndexState, type Address, type IndexState, type LoanEntity } from "../../node-service/src/domain/entities";
import { addOrder, repayment } from "../../scripts/lib/index-builders";
import {
  applyMutations,
  BlockUndoRecorder,
  LIST_COLLECTIONS,
  markReadOnce,
  push,
  put,
  RECORD_COLLECTIONS,
  trackChanges,
  undoBlock,
} from "../../node-service/src/domain/mutations";
import { CHANGED_PARTIES, INDEX_CHANGE, indexChanges } from "./index-changes";
import { METRIC_DEFINITIONS, ROUNDING, metricDefinition } from "../../node-service/src/metrics/definitions";
import {
  computeMetrics,
  computeMetricsAtUncached,
  computeMetricsUncached,
  computeSelectedMetricsAt,
  computeSelectedMetricsAtUncached,
  metricSelection,
  monthlySeries,
} from "../../node-service/src/metrics/compute";
import { coefficientOfVariation, hhi, isqrt, nearestRank, roundDiv } from "../../node-service/src/metrics/math";
import { asOfDayEnd } from "../../node-service/src/metrics/records";
import { loadEnterpriseSlice } from "../../node-service/src/metrics/slice";
import { stateReader } from "../../node-service/src/store/index-reader";
import { toJsonSafe } from "../../node-service/src/domain/json";
import { DAY } from "../../node-service/src/domain/time";
import { A, B, C, E, L, T0, book, d, scenario } from "./metric-scenarios";

describe("metrics: definitions", () => {
  it("defines at least 20 metrics once each, with a unit, windows and a definition naming its time rule", () => {
    expect(METRIC_DEFINITIONS.length).to.be.at.least(20);
    const keys = METRIC_DEFINITIONS.map((m) => m.key);
    expect(new Set(keys).size).to.equal(keys.length);
    for (const m of METRIC_DEFINITIONS) {
      expect(m.windows.length, m.key).to.be.greaterThan(0);
      expect(m.name, m.key).to.be.a("string").and.not.equal("");
      // Every definition states its window rule and its rounding.
      expect(m.definition, m.key).to.match(m.windows.length === 1 && m.windows[0] === "all" ? /^Point in time: / : /window by \w+/);
      expect(m.rounding, m.key).to.equal(ROUNDING[m.unit]);
      expect(metricDefinition(m.key)).to.equal(m);
    }
    expect(metricDefinition("noSuchMetric")).to.equal(undefined);
  });

  it("computes exactly the metrics and windows the definitions name", () => {
    const m = computeMetricsUncached(scenario(), E, d(59));
    expect(Object.keys(m.values)).to.deep.equal(METRIC_DEFINITIONS.map((x) => x.key));
    for (const def of METRIC_DEFINITIONS) expect(Object.keys(m.values[def.key]), def.key).to.deep.equal(def.windows);
  });

  it("gives amounts as bigint, counts as integers and null where there is nothing to measure", () => {
    const m = computeMetricsUncached(emptyIndexState(), E, d(59));
    for (const def of METRIC_DEFINITIONS) {
      for (const w of def.windows) {
        const v = m.values[def.key][w];
        if (def.unit === "minor_units") expect(v, `${def.key} ${w}`).to.equal(0n);
        else if (def.unit === "count") expect(v, `${def.key} ${w}`).to.equal(0);
        else expect(v, `${def.key} ${w}`).to.equal(null);
      }
    }
  });
});

describe("metrics: exact arithmetic", () => {
  it("rounds half away from zero from integers", () => {
    expect(roundDiv(1n, 8n, 2)).to.equal(0.13); // 0.125
    expect(roundDiv(-1n, 8n, 2)).to.equal(-0.13);
    expect(roundDiv(2n, 3n, 4)).to.equal(0.6667);
    expect(roundDiv(1n, 3n, 4)).to.equal(0.3333);
    expect(() => roundDiv(1n, 0n, 2)).to.throw(RangeError);
  });

  it("takes the nearest-rank percentile", () => {
    expect(nearestRank([5, 1, 3, 2, 4, 6, 7, 8, 9, 10], 0.9)).to.equal(9);
    expect(nearestRank([3, 1], 0.9)).to.equal(3);
    expect(nearestRank([7], 0.9)).to.equal(7);
    expect(nearestRank([], 0.9)).to.equal(null);
  });

  it("computes the integer square root, the coefficient of variation and the HHI exactly", () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 30n, 10n ** 30n - 1n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n, `isqrt(${n})`).to.equal(true);
    }
    expect(coefficientOfVariation([10n, 10n, 10n])).to.equal(0);
    // values 0 and 2: mean 1, population sd 1.
    expect(coefficientOfVariation([0n, 2n])).to.equal(1);
    // 1, 2, 3, 4: mean 2.5, sd sqrt(1.25) = 1.118034 -> 0.4472
    expect(coefficientOfVariation([1n, 2n, 3n, 4n])).to.equal(0.4472);
    expect(coefficientOfVariation([0n, 0n])).to.equal(null);
    expect(hhi([1n, 1n, 1n, 1n])).to.equal(0.25);
    expect(hhi([3n, 1n])).to.equal(0.625);
    expect(hhi([])).to.equal(null);
  });
});

describe("metrics: computation over a hand-built index", () => {
  // asOf d59 (10:00): evaluated at the end of day 59; window 30d covers days 30..59.
  const asOf = d(59);
  const end = T0 + 60 * DAY - 1;

  it("evaluates at the last second of asOf's UTC day and names that day", () => {
    const m = computeMetricsUncached(scenario(), E, asOf);
    expect(m.asOf).to.equal(end);
    expect(asOfDayEnd(asOf)).to.equal(end);
    expect(m.day).to.equal("2030-03-01");
    expect(m.enterprise).to.equal(E);
  });

  it("computes the sales, delivery, dispute and concentration figures by their defining times", () => {
    const v = computeMetricsUncached(scenario(), E, asOf).values;
    expect(v.orderCount).to.deep.equal({ "30d": 1, "90d": 3, "365d": 3, all: 3 }); // o4 | o1 o2 o4 (o3 cancelled)
    expect(v.orderValue).to.deep.equal({ "30d": 4000n, "90d": 8000n, "365d": 8000n, all: 8000n });
    expect(v.ordersCompleted.all).to.equal(1);
    // Settled: o1 completed d9, o2 open past its due d25, o3 cancelled d41; o4 (due d70) not settled.
    expect(v.completionRate).to.deep.equal({ "30d": 0, "90d": 0.3333, "365d": 0.3333, all: 0.3333 });
    // o1 on time (delivered d8, due d10); o2 late (due d25, delivered d30); o3 cancelled before due; o4 not due.
    expect(v.onTimeDeliveryRate).to.deep.equal({ "30d": null, "90d": 0.5, "365d": 0.5, all: 0.5 });
    expect(v.deliveryLeadTimeMean).to.deep.equal({ "30d": 10, "90d": 9, "365d": 9, all: 9 }); // (8 + 10) / 2
    expect(v.cancellationRate).to.deep.equal({ "30d": 0.5, "90d": 0.25, "365d": 0.25, all: 0.25 });
    expect(v.disputeRate).to.deep.equal({ "30d": null, "90d": 1, "365d": 1, all: 1 }); // o2 shipped d22
    expect(v.buyerHhi).to.deep.equal({ "30d": 1, "90d": 0.5, "365d": 0.5, all: 0.5 }); // A 4000, B 4000
    expect(v.topBuyerShare).to.deep.equal({ "30d": 1, "90d": 0.5, "365d": 0.5, all: 0.5 });
    expect(v.distinctCounterparties).to.deep.equal({ "30d": 1, "90d": 3, "365d": 3, all: 3 }); // B | A B C
    // A since d0 10:00: 59 d 13:59:59 = 59.58; B since d50 (o3 cancelled does not count): 9.58.
    expect(v.relationshipTenureDays).to.deep.equal({ "30d": 9.58, "90d": 59.58, "365d": 59.58, all: 59.58 });
    expect(v.relationshipTenureMean).to.deep.equal({ "30d": 9.58, "90d": 34.58, "365d": 34.58, all: 34.58 });
  });

  it("follows payments on split children back to the original invoice", () => {
    const v = computeMetricsUncached(scenario(), E, asOf).values;
    expect(v.receivablesIssuedCount.all).to.equal(2); // r1, r2 (children are not new invoices)
    expect(v.receivablesIssuedValue.all).to.equal(4000n);
    // r1 paid d18 after issue d9: 9 days (window by payment). r2 (matured d45) is paid 2500 of 3000: counted from
    // issue d31 10:00 to the end of d59 = 28 d 13:59:59 = 28.5833. Mean (9 + 28.5833) / 2 = 18.7917.
    expect(v.paybackCycleMean).to.deep.equal({ "30d": 28.58, "90d": 18.79, "365d": 18.79, all: 18.79 });
    expect(v.paybackCycleP90.all).to.equal(28.58);
    // Matured: r1 (d20, paid d18: on time), r2 (d45: nothing paid by then, late).
    expect(v.overdueRate).to.deep.equal({ "30d": 1, "90d": 0.5, "365d": 0.5, all: 0.5 });
    // r2 still 500 short: from d45 10:00 to the end of d59 = 14 d 13:59:59.
    expect(v.lateInvoiceDaysMean.all).to.equal(14.58);
    expect(v.outstandingValue.all).to.equal(500n);
    expect(v.overdueValue.all).to.equal(500n);
  });

  it("measures the enterprise as debtor, borrower and pledgor", () => {
    const v = computeMetricsUncached(scenario(), E, asOf).values;
    expect(v.purchaseCount).to.deep.equal({ "30d": 0, "90d": 1, "365d": 1, all: 1 });
    expect(v.purchaseValue.all).to.equal(700n);
    expect(v.debtorOverdueRate).to.deep.equal({ "30d": 1, "90d": 1, "365d": 1, all: 1 }); // q1 matured d30, unpaid
    expect(v.debtorLateInvoiceDaysMean.all).to.equal(29.58);
    expect(v.debtorOutstandingValue.all).to.equal(700n);
    expect(v.debtorOverdueValue.all).to.equal(700n);
    // q1 (matured d30) is still unpaid: its cycle runs from issue d12 10:00 to the end of d59 (a debtor
    // that stops paying does not look better for it).
    expect(v.debtorPaybackCycleMean.all).to.equal(47.58);
    // l0 matured d40 repaid d39; l1 not matured. Outstanding: l1 410 - 100.
    expect(v.repaymentOnTimeRate).to.deep.equal({ "30d": 1, "90d": 1, "365d": 1, all: 1 });
    expect(v.loansOutstanding.all).to.equal(310n);
    expect(v.defaults.all).to.equal(0);
    // E holds r3 (500 unpaid, pledged to live l1); r4 is C's.
    expect(v.pledgedRatio.all).to.equal(1);
  });

  it("stops counting a pledge once its loan is repaid, cancelled or recovered; a defaulted loan keeps it", () => {
    for (const change of [
      { status: "Repaid", repayments: [repayment(d(46), 410n)] },
      { status: "Cancelled", cancelledAt: d(40) },
      { status: "Recovered", defaultedAt: d(50), repayments: [repayment(d(58), 410n)] },
    ] as Partial<LoanEntity>[]) {
      const s = scenario();
      s.loans["2"] = { ...s.loans["2"], ...change };
      const v = computeMetricsUncached(s, E, asOf).values;
      expect(v.pledgedRatio.all, change.status).to.equal(0);
    }
    // After a default the collateral stays pledged (it still pays the loan first) until the debt is paid.
    const s = scenario();
    s.loans["2"] = { ...s.loans["2"], status: "Defaulted", defaultedAt: d(58) };
    const v = computeMetricsUncached(s, E, asOf).values;
    expect(v.pledgedRatio.all).to.equal(1);
    expect(v.defaults).to.deep.equal({ "30d": 1, "90d": 1, "365d": 1, all: 1 });
  });

  it("gives the figures as they stood at a past asOf, ignoring later events", () => {
    // End of day 45: r3/r4 payments (d46, d50), o4 (d50) and l1's repayment (d46) have not happened.
    const v = computeMetricsUncached(scenario(), E, d(45)).values;
    expect(v.orderCount.all).to.equal(2);
    expect(v.cancellationRate.all).to.equal(0.3333); // o3 of o1 o2 o3
    // r2 was split d33: E keeps r3 (1000, unpaid until d46); r4 (2000) is C's, not in E's book.
    expect(v.outstandingValue.all).to.equal(1000n);
    expect(v.overdueValue.all).to.equal(1000n); // matured d45 10:00, before the end of day 45
    expect(v.loansOutstanding.all).to.equal(410n);
    expect(v.lateInvoiceDaysMean.all).to.equal(0.58); // 13:59:59 past maturity
    // End of day 3: nothing disbursed, a single order.
    const early = computeMetricsUncached(scenario(), E, d(3)).values;
    expect(early.orderCount.all).to.equal(1);
    expect(early.loansOutstanding.all).to.equal(0n);
    expect(early.repaymentOnTimeRate.all).to.equal(null);
  });

  it("gives the same figures for every asOf within one UTC day", () => {
    const s = scenario();
    const morning = computeMetricsUncached(s, E, T0 + 59 * DAY);
    const night = computeMetricsUncached(s, E, end);
    expect(night).to.deep.equal(morning);
    expect(computeMetricsUncached(s, E, end + 1).asOf).to.equal(end + DAY);
  });

  it("accepts the enterprise address in any letter case", () => {
    const s = scenario();
    const upper = `0x${E.slice(2).toUpperCase()}` as Address;
    expect(computeMetricsUncached(s, upper, asOf)).to.deep.equal(computeMetricsUncached(s, E, asOf));
  });

  it("compares the last 90 days with the 90 before and measures monthly volatility", () => {
    const s = emptyIndexState();
    // asOf 2030-07-15: last 90 days = Apr 17..Jul 15, the 90 before = Jan 17..Apr 16.
    addOrder(s, { id: "1", buyer: A, supplier: E, amount: 1000n, createdAt: Date.UTC(2030, 1, 10) / 1000, deliveryDue: 0 });
    addOrder(s, { id: "2", buyer: A, supplier: E, amount: 3000n, createdAt: Date.UTC(2030, 4, 10) / 1000, deliveryDue: 0 });
    addOrder(s, { id: "3", buyer: B, supplier: E, amount: 500n, createdAt: Date.UTC(2030, 5, 1) / 1000, deliveryDue: 0 });
    const v = computeMetricsUncached(s, E, Date.UTC(2030, 6, 15) / 1000).values;
    expect(v.volumeGrowth).to.deep.equal({ "180d": 2.5 }); // (3500 - 1000) / 1000
    // Twelve periods of 30 d 10 h ending Jul 15 23:59:59: the first order (Feb 10) falls in the period
    // Jan 14 12:00..Feb 13 21:59:59, so that and the five after it count (the six before are left out):
    // 1000 | 0 (to Mar 16 07:59:59) | 0 (to Apr 15 17:59:59) | 3000 (May 10, to May 16 03:59:59) |
    // 500 (Jun 1, to Jun 15 13:59:59) | 0. n = 6, sum 4500, sum of squares 10.25e6:
    // sqrt(6 * 10.25e6 - 4500^2) / 4500 = sqrt(41.25e6) / 4500 = 6422.62 / 4500 = 1.42725
    expect(v.volumeVolatility).to.deep.equal({ "365d": 1.4272 });
    expect(computeMetricsUncached(s, E, Date.UTC(2030, 3, 1) / 1000).values.volumeGrowth).to.deep.equal({ "180d": null });
    // Mar 1: only the period holding the first order (Jan 30 14:00..Mar 1 23:59:59): fewer than 3 to judge.
    expect(computeMetricsUncached(s, E, Date.UTC(2030, 2, 1) / 1000).values.volumeVolatility).to.deep.equal({ "365d": null });
  });
});

describe("metrics: the receivables book, dilution, leverage and presence (hand-checked)", () => {
  // book(): E's invoices to A (a related party) and B, and two loans (metric-scenarios.ts), evaluated at the end of day 150.
  const asOf = d(150);

  it("ages the book by amount and measures its debtor concentration", () => {
    const v = computeMetricsUncached(book(), E, asOf).values;
    // Book: i2 1500 (130 d past due), i3 4000 (20 d), i4 3000 (50 d), i5 1000 (70 d), i6 5000 (current).
    expect(v.outstandingValue.all).to.equal(14_500n);
    expect(v.overdueValue.all).to.equal(9_500n);
    expect([v.ageingCurrent.all, v.ageing1to30.all, v.ageing31to60.all, v.ageing61to90.all, v.ageingOver90.all]).to.deep.equal([
      5000n,
      4000n,
      3000n,
      1000n,
      1500n,
    ]);
    // A 2500, B 12000: (2500^2 + 12000^2) / 14500^2 = 150.25 / 210.25 = 0.71463; top 12000 / 14500 = 0.82759.
    expect(v.debtorHhi.all).to.equal(0.7146);
    expect(v.topDebtorShare.all).to.equal(0.8276);
  });

  it("measures dilution, DSO and amount-weighted days beyond terms", () => {
    const v = computeMetricsUncached(book(), E, asOf).values;
    // Lost: i1 1000 (credit note), i2 1500 (short payment: partly paid, 130 d past due), i3 4000 (disputed);
    // i5 is merely unpaid. Issued: 30d (d121..) i6 i7 = 5600; 90d (d61..) i3 i6 i7 = 9600; all 16,600.
    expect(v.dilutionRate).to.deep.equal({ "30d": 0, "90d": 0.4167, "365d": 0.3916, all: 0.3916 });
    // Unpaid confirmed 14,500. Invoiced and not cancelled: 90d 9600, 365d 15,600.
    // 14,500 x 90 / 9600 = 135.9375; 14,500 x 365 / 15,600 = 339.2628.
    expect(v.dso).to.deep.equal({ "90d": 135.94, "365d": 339.26 });
    // Confirmed, matured by end: i2 (500 x 5 d + 1500 x 130.5833 d), i3 4000 x 20.5833, i4 3000 x 50.5833,
    // i5 1000 x 70.5833 = 503,041.67 amount-days over face 10,000 = 50.304.
    expect(v.daysBeyondTerms.all).to.equal(50.3);
    // 30d (maturing d121..): i3 only: 20.58. 90d (d61..): i3 i4 i5: (82,333.3 + 151,750 + 70,583.3) / 8000 = 38.0833.
    expect(v.daysBeyondTerms["30d"]).to.equal(20.58);
    expect(v.daysBeyondTerms["90d"]).to.equal(38.08);
  });

  it("gives the same figures from each party's slice of the book as from the whole index (issue 17)", async () => {
    await expectSlicesAgree(book(), [0, 60, 100, 150, 200]);
  });

  it("measures leverage, lenders, loan days past due, related-party share, tenure and recency", () => {
    const v = computeMetricsUncached(book(), E, asOf).values;
    expect(v.loansOutstanding.all).to.equal(4500n); // la 1500 + lb 3000
    expect(v.leverage.all).to.equal(0.3103); // 4500 / 14,500
    expect(v.loanDaysPastDue.all).to.equal(90.58); // la matured d60 10:00
    expect(v.lenderCount).to.deep.equal({ "30d": 1, "90d": 1, "365d": 2, all: 2 });
    // A's orders 1000 + 2000 + 1000 + 600 = 4600 of 16,600; 30d: o7 600 of o6 + o7 5600.
    expect(v.relatedPartySalesShare).to.deep.equal({ "30d": 0.1071, "90d": 0.0625, "365d": 0.2771, all: 0.2771 });
    expect(v.networkTenureDays.all).to.equal(160.58); // admitted d-10 10:00
    expect(v.daysSinceLastActivity.all).to.equal(5.58); // i7 issued d145 10:00
    // A related party admitted only after asOf does not count then.
    const s = book();
    s.participants[A] = { ...s.participants[A], admittedAt: d(151) };
    expect(computeMetricsUncached(s, E, asOf).values.relatedPartySalesShare.all).to.equal(0);
  });
});

describe("metrics: reads and cache", () => {
  it("reads only the enterprise's own records through the per-party lists", () => {
    const s = scenario();
    // Other parties' trade that a scan would have to touch.
    for (let i = 100; i < 400; i++) addOrder(s, { id: String(i), buyer: A, supplier: B, amount: 1n, createdAt: d(1), deliveryDue: d(2) });
    const touched = { orders: new Set<string>(), receivables: new Set<string>(), loans: new Set<string>() };
    const watch = <T extends object>(name: keyof typeof touched, target: Record<string, T>) =>
      new Proxy(target, {
        get: (t, key) => {
          if (typeof key === "string") touched[name].add(key);
          return t[key as string];
        },
        ownKeys: () => {
          throw new Error(`metrics enumerated all ${name}`);
        },
      });
    const watched: IndexState = {
      ...s,
      orders: watch("orders", s.orders),
      receivables: watch("receivables", s.receivables),
      loans: watch("loans", s.loans),
    };
    computeMetrics(watched, E, d(59));
    computeMetrics(watched, E, d(59)); // the cache check reads the same records
    monthlySeries(watched, E, d(59), 12);
    expect([...touched.orders].sort()).to.deep.equal(["1", "2", "3", "4", "5"]);
    expect([...touched.receivables].sort()).to.deep.equal(["1", "2", "3", "4", "5"]);
    expect([...touched.loans].sort()).to.deep.equal(["1", "2"]);
  });

  it("answers a repeated query for the same day from the cache until one of the enterprise's records changes", () => {
    const s = scenario();
    const first = computeMetrics(s, E, d(59));
    expect(computeMetrics(s, E, d(59) + 3600)).to.equal(first); // same object
    expect(first).to.deep.equal(computeMetricsUncached(s, E, d(59)));
    expect(Object.isFrozen(first.values.orderCount)).to.equal(true);
    expect(computeMetrics(s, E, d(60))).to.not.equal(first); // another day
    // Trade between other parties changes the event count, not E's figures.
    addOrder(s, { id: "500", buyer: A, supplier: B, amount: 5n, createdAt: d(59), deliveryDue: d(70) });
    expect(computeMetrics(s, E, d(59))).to.equal(first);
    addOrder(s, { id: "9", buyer: B, supplier: E, amount: 5n, createdAt: d(59), deliveryDue: d(70) });
    const after = computeMetrics(s, E, d(59));
    expect(after).to.not.equal(first);
    expect(after.values.orderValue.all).to.equal(8005n);
  });

  it("recomputes after a reorg replaced a record while the event count came back to the same number", () => {
    const s = scenario();
    const before = computeMetrics(s, E, d(59));
    // The indexer undoes a block and applies another fork's block with as many events: order 4 now carries 6000.
    const count = s.eventCount;
    s.orders["4"] = { ...s.orders["4"], amount: 6000n };
    expect(s.eventCount).to.equal(count);
    const after = computeMetrics(s, E, d(59));
    expect(after.values.orderValue.all).to.equal(10_000n);
    expect(before.values.orderValue.all).to.equal(8000n);
    // A different state object never shares entries.
    expect(computeMetrics(scenario(), E, d(59)).values.orderValue.all).to.equal(8000n);
  });
});

describe("metrics: the cache over a journaled index (the indexer's)", () => {
  /** Wraps `s`'s records and lists in place (the state object stays the same) to count each key read of them. */
  function watchReads(s: IndexState) {
    const reads = { count: 0 };
    const collections = s as unknown as Record<string, Record<string, unknown>>;
    for (const coll of [...RECORD_COLLECTIONS, ...LIST_COLLECTIONS])
      collections[coll] = new Proxy(collections[coll], {
        get: (t, key) => {
          if (typeof key === "string") reads.count += 1;
          return t[key as string];
        },
      });
    return reads;
  }

  it("answers from the cache after other enterprises' changes without reading the enterprise's records, and recomputes after its own, after an undo, and once the journal has passed it", () => {
    const s = scenario();
    trackChanges(s);
    const reads = watchReads(s);
    const first = computeMetrics(s, E, d(59));
    // Trade between other parties: journaled, and none of E's keys.
    applyMutations(s, [put("orders", "500", { ...s.orders["1"], id: "500", buyer: A, supplier: B }), push("ordersByParty", A, "500")]);
    let before = reads.count;
    expect(computeMetrics(s, E, d(59))).to.equal(first);
    expect(reads.count - before, "the check reads the journal, not E's records").to.equal(0);
    // Without a journal, the same check walks E's records.
    const untracked = scenario();
    const walked = watchReads(untracked);
    computeMetrics(untracked, E, d(59));
    before = walked.count;
    computeMetrics(untracked, E, d(59));
    expect(walked.count - before, "the walk reads every record of E").to.be.greaterThan(10);
    // E's own new order, recorded for undo as the indexer records a block.
    const undo = new BlockUndoRecorder(1);
    applyMutations(
      s,
      [put("orders", "9", { ...s.orders["1"], id: "9", buyer: B, supplier: E, amount: 5n }), push("ordersByParty", E, "9")],
      undo,
    );
    const after = computeMetrics(s, E, d(59));
    expect(after).to.not.equal(first);
    expect(after).to.deep.equal(computeMetricsUncached(s, E, d(59)));
    undoBlock(s, undo.block);
    const undone = computeMetrics(s, E, d(59));
    expect(undone).to.not.equal(after);
    expect(undone).to.deep.equal(first);
    // More changes than the journal keeps since E's records were last checked: they count as changed.
    const cached = computeMetrics(s, E, d(59));
    const others = Array.from({ length: 70_000 }, () => put("participants", B, s.participants[B]));
    applyMutations(s, others);
    expect(computeMetrics(s, E, d(59))).to.not.equal(cached);
  });

  it("computes over a state read once (an on-demand view) without the memo's walk of its records", () => {
    const uncached = scenario();
    const byUncached = watchReads(uncached);
    const expected = computeMetricsUncached(uncached, E, d(59));
    const once = scenario();
    markReadOnce(once);
    const byOnce = watchReads(once);
    expect(computeMetrics(once, E, d(59))).to.deep.equal(expected);
    expect(byOnce.count, "the same reads as the computation alone").to.equal(byUncached.count);
    // A state not marked is noted for the memo: its records are walked once more.
    const memoized = scenario();
    const byMemo = watchReads(memoized);
    computeMetrics(memoized, E, d(59));
    expect(byMemo.count).to.be.greaterThan(byUncached.count);
  });

  it("gives the uncached figures after any random changes and undos (fast-check)", () => {
    const step = fc.record({
      changes: fc.array(INDEX_CHANGE, { minLength: 1, maxLength: 3 }),
      undo: fc.boolean(),
      reads: fc.uniqueArray(fc.nat({ max: CHANGED_PARTIES.length - 1 }), { maxLength: 3 }),
      // A few days only, so that later steps ask what is cached.
      at: fc.constantFrom(-2, 30, 59, 120),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), (steps) => {
        const s = scenario();
        trackChanges(s);
        const changesOf = indexChanges(s);
        let block = 1;
        for (const { changes, undo, reads, at } of steps) {
          const recorder = new BlockUndoRecorder(block++);
          // Each change over the state as the previous one left it.
          for (const change of changes) applyMutations(s, changesOf(change), recorder);
          for (const who of [...reads.map((i) => CHANGED_PARTIES[i]), E]) {
            expect(computeMetrics(s, who, d(at)), `${who} at day ${at}`).to.deep.equal(computeMetricsUncached(s, who, d(at)));
          }
          if (undo) undoBlock(s, recorder.block);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("metrics: a selection of metrics (a debtor's tier reads a few)", () => {
  const pairs = METRIC_DEFINITIONS.flatMap((def) => def.windows.map((window) => ({ metric: def.key, window })));

  it("gives each selected metric exactly the full evaluation's value, and nothing else, at any instant and for any party", () => {
    const s = scenario();
    fc.assert(
      fc.property(
        fc.subarray(pairs, { minLength: 1 }),
        fc.integer({ min: d(-2), max: d(120) }),
        fc.constantFrom(E, A, B, C, L),
        (chosen, at, who) => {
          const full = computeMetricsAtUncached(s, who, at).values;
          const only = metricSelection(chosen);
          for (const selected of [computeSelectedMetricsAtUncached(s, who, at, only), computeSelectedMetricsAt(s, who, at, only)]) {
            const expected: Record<string, Record<string, unknown>> = {};
            for (const { metric, window } of chosen) (expected[metric] ??= {})[window] = full[metric][window];
            expect(selected.values).to.deep.equal(expected);
            expect(selected.asOf).to.equal(at);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps a selection's cache entry apart from the full figures' and from another selection's", () => {
    const s = scenario();
    const one = computeSelectedMetricsAt(s, E, d(59), metricSelection([{ metric: "purchaseCount", window: "365d" }]));
    const two = computeSelectedMetricsAt(s, E, d(59), metricSelection([{ metric: "orderCount", window: "30d" }]));
    expect(Object.keys(one.values)).to.deep.equal(["purchaseCount"]);
    expect(Object.keys(two.values)).to.deep.equal(["orderCount"]);
    expect(computeSelectedMetricsAt(s, E, d(59), metricSelection([{ metric: "purchaseCount", window: "365d" }]))).to.equal(one);
    expect(Object.keys(computeMetrics(s, E, d(59)).values)).to.have.length(METRIC_DEFINITIONS.length);
  });

  it("refuses a metric that is not defined, or a window its definition does not have", () => {
    expect(() => metricSelection([{ metric: "noSuchMetric", window: "30d" }])).to.throw(RangeError, /noSuchMetric/);
    const single = METRIC_DEFINITIONS.find((def) => !def.windows.includes("30d"))!;
    expect(() => metricSelection([{ metric: single.key, window: "30d" }])).to.throw(RangeError, new RegExp(single.key));
  });
});

describe("metrics: monthly series", () => {
  it("gives per calendar month the trade, the on-time rate and the payback cycle, oldest first", () => {
    // asOf d59 = 2030-03-01: months Jan, Feb, Mar 2030.
    const series = monthlySeries(scenario(), E, d(59), 3);
    expect(series).to.deep.equal([
      // o1 d0 (Jan 1) and o2 d20 (Jan 21); delivered o1 d8 on time, o2 d30 (Jan 31) late; r1 paid d18 after 9 days.
      { month: "2030-01", orderValue: 4000n, orderCount: 2, onTimeRate: 0.5, paybackDaysMean: 9 },
      // o3 d40 cancelled, o4 d50 (Feb 20).
      { month: "2030-02", orderValue: 4000n, orderCount: 1, onTimeRate: null, paybackDaysMean: null },
      { month: "2030-03", orderValue: 0n, orderCount: 0, onTimeRate: null, paybackDaysMean: null },
    ]);
  });

  it("refuses a month count outside 1..240", () => {
    for (const n of [0, -1, 1.5, 241]) expect(() => monthlySeries(scenario(), E, d(59), n)).to.throw(RangeError);
  });
});

describe("metrics: one enterprise's slice of the index (issue 17)", () => {
  it("gives every party the same figures and series from its slice, loaded by keyed reads, as from the whole index", async () => {
    const s = scenario();
    for (let i = 100; i < 130; i++) addOrder(s, { id: String(i), buyer: A, supplier: B, amount: 1n, createdAt: d(1), deliveryDue: d(2) });
    await expectSlicesAgree(s, [0, 9, 31, 46, 59, 80]);
  });

  it("holds only the enterprise's records, its split descendants and pledged loans, and its buyers' entries", async () => {
    const s = scenario();
    const slice = await loadEnterpriseSlice(stateReader(s), C);
    expect(Object.keys(slice.orders).sort()).to.deep.equal([...(s.ordersByParty[C] ?? [])].sort());
    expect(Object.keys(slice.loans)).to.deep.equal([]);
    const whole = await loadEnterpriseSlice(stateReader(s), E);
    expect(Object.keys(whole.receivables).sort()).to.deep.equal(["1", "2", "3", "4", "5"]);
    expect(Object.keys(whole.loans).sort()).to.deep.equal(["1", "2"]);
  });
});

/** For every party of `s` and each day: metrics and monthly series over its slice equal those over the whole index. */
async function expectSlicesAgree(s: IndexState, days: number[]): Promise<void> {
  const parties = [
    ...new Set([...Object.keys(s.ordersByParty), ...Object.keys(s.receivablesByParty), ...Object.keys(s.loansByParty)]),
  ] as Address[];
  expect(parties.length).to.be.greaterThan(3);
  for (const p of parties) {
    const slice = await loadEnterpriseSlice(stateReader(s), p);
    expect(Object.keys(slice.orders).sort(), p).to.deep.equal([...(s.ordersByParty[p] ?? [])].sort());
    for (const day of days) {
      expect(toJsonSafe(computeMetricsUncached(slice, p, d(day))), `${p} day ${day}`).to.deep.equal(
        toJsonSafe(computeMetricsUncached(s, p, d(day))),
      );
      expect(toJsonSafe(monthlySeries(slice, p, d(day), 6))).to.deep.equal(toJsonSafe(monthlySeries(s, p, d(day), 6)));
    }
  }
}
