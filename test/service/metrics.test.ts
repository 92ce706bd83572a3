/**
 * Metrics over an index state built by hand: definitions, exact rounding, windows and point-in-time
 * evaluation, split receivables, pledges, the memo cache, and that only the enterprise's own records
 * are read. The full chain-to-metrics check is in metrics-chain.test.ts.
 */
import { expect } from "chai";
import {
  emptyIndexState,
  type Address,
  type IndexState,
  type LoanEntity,
  type OrderEntity,
  type ReceivableEntity,
} from "../../node-service/src/domain/entities";
import { METRIC_DEFINITIONS, metricDefinition } from "../../node-service/src/metrics/definitions";
import { computeMetrics, computeMetricsUncached, monthlySeries } from "../../node-service/src/metrics/compute";
import { coefficientOfVariation, hhi, isqrt, nearestRank, roundDiv } from "../../node-service/src/metrics/math";
import { asOfDayEnd } from "../../node-service/src/metrics/records";

const DAY = 86_400;
const T0 = Date.UTC(2030, 0, 1) / 1000; // 2030-01-01 00:00 UTC
/** Day n after T0 at 10:00 UTC. */
const d = (n: number) => T0 + n * DAY + 10 * 3600;

const E = "0x00000000000000000000000000000000000000e1" as Address; // the enterprise (supplier and buyer)
const A = "0x00000000000000000000000000000000000000a1" as Address; // buyer
const B = "0x00000000000000000000000000000000000000b1" as Address; // buyer
const C = "0x00000000000000000000000000000000000000c1" as Address; // E's own supplier
const L = "0x00000000000000000000000000000000000000d1" as Address; // lender

function push(list: Record<Address, string[]>, party: Address, id: string) {
  (list[party] ??= []).includes(id) || list[party].push(id);
}

function addOrder(s: IndexState, o: Partial<OrderEntity> & Pick<OrderEntity, "id" | "buyer" | "supplier" | "amount" | "createdAt" | "deliveryDue">) {
  const order: OrderEntity = { documentHash: "0x00", status: "Created", disputes: [], events: [], ...o };
  s.orders[order.id] = order;
  push(s.ordersByParty, order.buyer, order.id);
  push(s.ordersByParty, order.supplier, order.id);
  s.eventCount++;
}

function addReceivable(
  s: IndexState,
  r: Partial<ReceivableEntity> & Pick<ReceivableEntity, "id" | "orderId" | "issuer" | "debtor" | "faceValue" | "maturity" | "issuedAt">,
) {
  const rec: ReceivableEntity = { holder: r.issuer, paid: 0n, invoiceHash: "0x00", status: "Issued", payments: [], events: [], ...r };
  rec.paid = rec.payments.reduce((x, p) => x + p.amount, 0n);
  s.receivables[rec.id] = rec;
  for (const p of [rec.issuer, rec.debtor, rec.holder]) push(s.receivablesByParty, p, rec.id);
  s.eventCount++;
}

const pay = (at: number, amount: bigint, holder: Address = E): ReceivableEntity["payments"][number] => ({
  at,
  amount,
  toLoan: 0n,
  holder,
  ref: { contract: "Receivables", event: "ReceivablePaid", blockNumber: 0, blockHash: "0x00", txHash: "0x00", logIndex: 0, at },
});

function addLoan(s: IndexState, l: Partial<LoanEntity> & Pick<LoanEntity, "id" | "borrower" | "lender" | "totalDue" | "maturity" | "recordedAt">) {
  const loan: LoanEntity = {
    digest: "0x00",
    currency: "0x0000000000000000000000000000000000000001",
    principal: l.totalDue,
    rateBps: 0,
    start: l.recordedAt,
    disburseBy: l.maturity - 1,
    repaid: 0n,
    collateral: [],
    documentHash: "0x00",
    nonce: 0n,
    deadline: 0,
    borrowerSignature: "0x00",
    lenderSignature: "0x00",
    submitter: l.borrower,
    status: "Signed",
    repayments: [],
    events: [],
    ...l,
  };
  loan.repaid = loan.repayments.reduce((x, r) => x + r.amount, 0n);
  s.loans[loan.id] = loan;
  push(s.loansByParty, loan.borrower, loan.id);
  push(s.loansByParty, loan.lender, loan.id);
  s.eventCount++;
}

const repayment = (at: number, amount: bigint): LoanEntity["repayments"][number] => ({
  at,
  amount,
  ref: { contract: "LoanAgreements", event: "LoanRepaid", blockNumber: 0, blockHash: "0x00", txHash: "0x00", logIndex: 0, at },
});

/**
 * E sells to A and B, buys from C, borrows from L:
 * o1 A 1000 created d0, delivered d8 (due d10), completed d9; r1 on it: issued d9, matures d20, paid d18.
 * o2 A 3000 created d20, shipped d22, delivered d30 (due d25, late), disputed d31;
 *    r2 on it: issued d31, ack d32, matures d45, split at d33 into r3 (1000, kept by E) and r4 (2000, to C);
 *    r4 paid in full d50, r3 paid 500 at d46.
 * o3 B 2000 created d40, cancelled d41. o4 B 4000 created d50.
 * p1 E buys 700 from C created d10; q1 on it (C issues, E owes): issued d12, ack d12, matures d30, unpaid.
 * l0: 100 due d40, disbursed d5, repaid d39. l1: 410 due d70 on r3, disbursed d35, repaid 100 at d46.
 */
function scenario(): IndexState {
  const s = emptyIndexState();
  addOrder(s, { id: "1", buyer: A, supplier: E, amount: 1000n, createdAt: d(0), deliveryDue: d(10), deliveredAt: d(8), completedAt: d(9), status: "Completed" });
  addOrder(s, {
    id: "2", buyer: A, supplier: E, amount: 3000n, createdAt: d(20), deliveryDue: d(25), shippedAt: d(22), deliveredAt: d(30),
    status: "Disputed", disputes: [{ at: d(31), reasonCode: 1 }],
  });
  addOrder(s, { id: "3", buyer: B, supplier: E, amount: 2000n, createdAt: d(40), deliveryDue: d(60), cancelledAt: d(41), status: "Cancelled" });
  addOrder(s, { id: "4", buyer: B, supplier: E, amount: 4000n, createdAt: d(50), deliveryDue: d(70) });
  addOrder(s, { id: "5", buyer: E, supplier: C, amount: 700n, createdAt: d(10), deliveryDue: d(11), deliveredAt: d(11), status: "Delivered" });
  addReceivable(s, {
    id: "1", orderId: "1", issuer: E, debtor: A, faceValue: 1000n, maturity: d(20), issuedAt: d(9), acknowledgedAt: d(9) + 60,
    status: "Paid", payments: [pay(d(18), 1000n)], paidAt: d(18),
  });
  addReceivable(s, { id: "2", orderId: "2", issuer: E, debtor: A, faceValue: 3000n, maturity: d(45), issuedAt: d(31), acknowledgedAt: d(32), status: "Split", childIds: ["3", "4"] });
  addReceivable(s, {
    id: "3", orderId: "2", issuer: E, debtor: A, faceValue: 1000n, maturity: d(45), issuedAt: d(33), acknowledgedAt: d(32), parentId: "2",
    status: "Confirmed", payments: [pay(d(46), 500n)], pledgedLoanId: "2",
  });
  addReceivable(s, {
    id: "4", orderId: "2", issuer: E, debtor: A, holder: C, faceValue: 2000n, maturity: d(45), issuedAt: d(33), acknowledgedAt: d(32), parentId: "2",
    status: "Paid", payments: [pay(d(50), 2000n, C)], paidAt: d(50),
  });
  addReceivable(s, { id: "5", orderId: "5", issuer: C, debtor: E, faceValue: 700n, maturity: d(30), issuedAt: d(12), acknowledgedAt: d(12) + 60, status: "Confirmed" });
  addLoan(s, { id: "1", borrower: E, lender: L, totalDue: 100n, maturity: d(40), recordedAt: d(4), disbursedAt: d(5), repayments: [repayment(d(39), 100n)], status: "Repaid", closedAt: d(39) });
  addLoan(s, { id: "2", borrower: E, lender: L, totalDue: 410n, maturity: d(70), recordedAt: d(34), disbursedAt: d(35), repayments: [repayment(d(46), 100n)], status: "Active", collateral: ["3"] });
  return s;
}

describe("metrics: definitions", () => {
  it("defines at least 20 metrics once each, with a unit, windows and a definition naming its time rule", () => {
    expect(METRIC_DEFINITIONS.length).to.be.at.least(20);
    const keys = METRIC_DEFINITIONS.map((m) => m.key);
    expect(new Set(keys).size).to.equal(keys.length);
    for (const m of METRIC_DEFINITIONS) {
      expect(m.windows.length, m.key).to.be.greaterThan(0);
      expect(m.name, m.key).to.be.a("string").and.not.equal("");
      expect(m.definition, m.key).to.match(/window by|windows by|Point in time|calendar months/);
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
    expect(v.completionRate).to.deep.equal({ "30d": 0, "90d": 0.25, "365d": 0.25, all: 0.25 }); // o3 o4 created in 30d
    expect(v.onTimeDeliveryRate).to.deep.equal({ "30d": 0, "90d": 0.5, "365d": 0.5, all: 0.5 }); // o2 delivered d30, late
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
    // r1 paid d18 after issue d9: 9 days. r2 is paid 2500 of 3000: not fully paid, no payback yet.
    expect(v.paybackCycleMean).to.deep.equal({ "30d": null, "90d": 9, "365d": 9, all: 9 });
    expect(v.paybackCycleP90.all).to.equal(9);
    // Matured: r1 (d20, paid d18: on time), r2 (d45: nothing paid by then, late).
    expect(v.overdueRate).to.deep.equal({ "30d": 1, "90d": 0.5, "365d": 0.5, all: 0.5 });
    // r2 still 500 short: from d45 10:00 to the end of d59 = 14 d 13:59:59.
    expect(v.daysPastDueMean.all).to.equal(14.58);
    expect(v.outstandingValue.all).to.equal(500n);
    expect(v.overdueValue.all).to.equal(500n);
  });

  it("measures the enterprise as debtor, borrower and pledgor", () => {
    const v = computeMetricsUncached(scenario(), E, asOf).values;
    expect(v.purchaseCount).to.deep.equal({ "30d": 0, "90d": 1, "365d": 1, all: 1 });
    expect(v.purchaseValue.all).to.equal(700n);
    expect(v.debtorOverdueRate).to.deep.equal({ "30d": 1, "90d": 1, "365d": 1, all: 1 }); // q1 matured d30, unpaid
    expect(v.debtorDaysPastDueMean.all).to.equal(29.58);
    expect(v.debtorOutstandingValue.all).to.equal(700n);
    expect(v.debtorOverdueValue.all).to.equal(700n);
    expect(v.debtorPaybackCycleMean.all).to.equal(null);
    // l0 matured d40 repaid d39; l1 not matured. Outstanding: l1 410 - 100.
    expect(v.repaymentOnTimeRate).to.deep.equal({ "30d": 1, "90d": 1, "365d": 1, all: 1 });
    expect(v.loansOutstanding.all).to.equal(310n);
    expect(v.defaults.all).to.equal(0);
    // E holds r3 (500 unpaid, pledged to live l1); r4 is C's.
    expect(v.pledgedRatio.all).to.equal(1);
  });

  it("stops counting a pledge once its loan is repaid, cancelled or defaulted", () => {
    for (const change of [
      { status: "Repaid", repayments: [repayment(d(46), 410n)] },
      { status: "Cancelled", cancelledAt: d(40) },
      { status: "Defaulted", defaultedAt: d(58) },
    ] as Partial<LoanEntity>[]) {
      const s = scenario();
      s.loans["2"] = { ...s.loans["2"], ...change };
      const v = computeMetricsUncached(s, E, asOf).values;
      expect(v.pledgedRatio.all, change.status).to.equal(0);
    }
    const s = scenario();
    s.loans["2"] = { ...s.loans["2"], status: "Defaulted", defaultedAt: d(58) };
    expect(computeMetricsUncached(s, E, asOf).values.defaults).to.deep.equal({ "30d": 1, "90d": 1, "365d": 1, all: 1 });
  });

  it("gives the figures as they stood at a past asOf, ignoring later events", () => {
    // End of day 45: r3/r4 payments (d46, d50), o4 (d50) and l1's repayment (d46) have not happened.
    const v = computeMetricsUncached(scenario(), E, d(45)).values;
    expect(v.orderCount.all).to.equal(2);
    expect(v.cancellationRate.all).to.equal(0.3333); // o3 of o1 o2 o3
    expect(v.outstandingValue.all).to.equal(3000n);
    expect(v.overdueValue.all).to.equal(3000n); // matured d45 10:00, before the end of day 45
    expect(v.loansOutstanding.all).to.equal(410n);
    expect(v.daysPastDueMean.all).to.equal(0.58); // 13:59:59 past maturity
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
    expect(v.volumeGrowth).to.deep.equal({ "90d": 2.5 }); // (3500 - 1000) / 1000
    // Aug 2029..Jul 2030: Feb 1000, May 3000, Jun 500, nine months 0. n*sum(x^2) - sum^2 = 12*10.25e6 - 4.5^2e6 = 102.75e6;
    // CV = sqrt(102.75e6) / 4500 = 10136.56 / 4500 = 2.2526
    expect(v.volumeVolatility).to.deep.equal({ "365d": 2.2526 });
    expect(computeMetricsUncached(s, E, Date.UTC(2030, 3, 1) / 1000).values.volumeGrowth).to.deep.equal({ "90d": null });
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
    const watched: IndexState = { ...s, orders: watch("orders", s.orders), receivables: watch("receivables", s.receivables), loans: watch("loans", s.loans) };
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
