/**
 * The back-test on a history built so that the better policy is known in advance.
 *
 * Policy in force: declines thin histories (fewer than 3 completed orders), otherwise approves (score
 * 80 with at least one completed order). Candidate: drops the thin-history rule but declines a dilution
 * (credit notes, disputes, short payments) above 20% over 365 days. The history:
 *   G1 one completed order; its collateral (1000, matures Feb 20) paid on Feb 20 -> a good thin borrower
 *   G2 three completed orders; its collateral (1000, matures Feb 25) paid on Feb 25 -> good either way
 *   X1 three completed orders and a fourth whose invoice it cancelled (a credit note) on Jan 10, so
 *      dilution 1000 / 2000 = 0.5; its collateral is never paid -> the bad one
 *   G3 applied on Jan 20 with two completed orders for 500 on 30 days; its loan was repaid on time
 * Cases: G3's application; G1, G2, X1 never applied: one monthly case each at Jan 31 23:59:59, for the
 * most their collateral allows (80% of 1000 = 800) on 30 days. Observed at Jul 1.
 * So the in-force policy approves G2 and X1 (X1 defaults), the candidate G1, G2 and G3 (all on time):
 * approval from 2/4 to 3/4 and bad debt from 800/1600 to 0.
 */
import { expect } from "chai";
import { emptyIndexState, type Address, type IndexState } from "../../node-service/src/domain/entities";
import {
  applicationCases,
  backtest,
  backtestCsv,
  backtestReport,
  monthEnds,
  monthlyCases,
} from "../../node-service/src/underwriting/backtest";
import { decisionInputToJson, type DecisionInput } from "../../node-service/src/underwriting/decide";
import { parsePolicy } from "../../node-service/src/underwriting/policy";
import {
  inMemoryApplicationIndex,
  type ApplicationIndex,
  type WithApplicationIndex,
} from "../../node-service/src/underwriting/application-index";
import { computeMetricsAt, computeSelectedMetricsAt } from "../../node-service/src/metrics/compute";
import { loadEnterpriseSlice } from "../../node-service/src/metrics/slice";
import { OnDemandIndex } from "../../node-service/src/store/on-demand";
import { stateReader, type IndexReader } from "../../node-service/src/store/index-reader";
import { tierMetrics } from "../../node-service/src/underwriting/input";
import { addLoan, addOrder, addReceivable, party, pay, ref, repayment } from "../../scripts/lib/index-builders";

const DAY = 86_400;
const at = (month: number, day: number, hour = 10) => Date.UTC(2031, month - 1, day, hour) / 1000;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const [G1, G2, G3, X1, D, L] = [addr(0x61), addr(0x62), addr(0x63), addr(0x71), addr(0xd0), addr(0x1e)];

function basePolicy(version: string, hardRules: unknown[]) {
  return parsePolicy({
    version,
    name: `test ${version}`,
    description: "",
    hardRules,
    scorecard: {
      base: 0,
      minScore: 0,
      maxScore: 100,
      factors: [
        {
          code: "completed",
          label: "Completed orders",
          metric: "ordersCompleted",
          window: "all",
          missingPoints: 0,
          bands: [{ min: 1, points: 80 }, { points: 0 }],
        },
      ],
      flagPenalties: [],
    },
    thresholds: { approveMin: 70, declineBelow: 40 },
    advance: { tiers: [], defaultTier: { tier: "C", advanceRateBps: 8000 } },
    pricing: { bands: [{ minScore: 0, rateBps: 1000 }] },
    maxTermDays: 180,
    minAmount: "1",
    aboveLimit: "decline",
    aboveMaxTerm: "decline",
  });
}
const IN_FORCE = basePolicy("in-force", [
  {
    kind: "metric",
    code: "thin_history",
    metric: "ordersCompleted",
    window: "all",
    op: "<",
    value: 3,
    outcome: "decline",
    whenMissing: "trigger",
    message: "thin",
  },
]);
const CANDIDATE = basePolicy("candidate", [
  {
    kind: "metric",
    code: "dilution",
    metric: "dilutionRate",
    window: "365d",
    op: ">",
    value: 0.2,
    outcome: "decline",
    whenMissing: "skip",
    message: "dilution",
  },
]);

let nextId = 1;
/** n completed sales orders of `e` to D in early January, each invoiced and paid on time. */
function history(s: IndexState, e: Address, n: number) {
  for (let i = 0; i < n; i++) {
    const id = String(nextId++);
    addOrder(s, {
      id,
      buyer: D,
      supplier: e,
      amount: 1000n,
      createdAt: at(1, 1 + i),
      deliveryDue: at(1, 5 + i),
      deliveredAt: at(1, 4 + i),
      completedAt: at(1, 5 + i),
      status: "Completed",
    });
  }
}
/** A confirmed invoice of `e` on D, issued Jan 15, held by e, paid (in full) at `paidAt` if given. */
function collateral(s: IndexState, e: Address, maturity: number, paidAt?: number): string {
  const id = String(nextId++);
  addOrder(s, { id, buyer: D, supplier: e, amount: 1000n, createdAt: at(1, 14), deliveryDue: at(1, 15) });
  addReceivable(s, {
    id,
    orderId: id,
    issuer: e,
    debtor: D,
    faceValue: 1000n,
    issuedAt: at(1, 15),
    acknowledgedAt: at(1, 15),
    maturity,
    status: paidAt ? "Paid" : "Confirmed",
    payments: paidAt ? [pay(paidAt, 1000n, e)] : [],
    events: [ref("Receivables", "ReceivableIssued", at(1, 15)), ref("Receivables", "Transfer", at(1, 15))],
  });
  return id;
}

function world(opts: { x1CancelledAt?: number } = {}): { state: IndexState; g3Application: DecisionInput } {
  nextId = 1;
  const s = emptyIndexState();
  for (const p of [G1, G2, G3, X1, D, L]) party(s, p, at(1, 1, 0) - 30 * DAY);
  history(s, G1, 1);
  history(s, G2, 3);
  history(s, X1, 3);
  history(s, G3, 2);
  collateral(s, G1, at(2, 20), at(2, 20));
  collateral(s, G2, at(2, 25), at(2, 25));
  collateral(s, X1, at(2, 25));
  // X1's credit note: an invoice issued Jan 8 and cancelled.
  const cancelled = String(nextId++);
  const cancelledAt = opts.x1CancelledAt ?? at(1, 10);
  addOrder(s, { id: cancelled, buyer: D, supplier: X1, amount: 1000n, createdAt: at(1, 7), deliveryDue: at(1, 8) });
  addReceivable(s, {
    id: cancelled,
    orderId: cancelled,
    issuer: X1,
    debtor: D,
    faceValue: 1000n,
    issuedAt: at(1, 8),
    acknowledgedAt: at(1, 8),
    maturity: at(3, 8),
    status: "Cancelled",
    cancelledAt,
    events: [ref("Receivables", "ReceivableIssued", at(1, 8)), ref("Receivables", "ReceivableCancelled", cancelledAt)],
  });
  // G3's application on Jan 20 against its collateral, and the loan that came of it, repaid Feb 10.
  const g3c = collateral(s, G3, at(2, 28), at(2, 10));
  addLoan(s, {
    id: "1",
    borrower: G3,
    lender: L,
    totalDue: 500n,
    maturity: at(2, 19),
    recordedAt: at(1, 20, 12),
    disbursedAt: at(1, 20, 13),
    repayments: [repayment(at(2, 10), 500n)],
    status: "Repaid",
    collateral: [g3c],
  });
  const g3Application: DecisionInput = {
    application: { borrower: G3, lender: L, amount: 500n, termDays: 30, receivableIds: [g3c] },
    metrics: {},
    flags: [],
    collateral: [{ id: g3c, faceValue: 1000n, outstanding: 1000n, debtor: D, maturity: at(2, 28) }],
    asOf: at(1, 20, 11),
  };
  return { state: s, g3Application };
}

function run(opts: { x1CancelledAt?: number } = {}) {
  const { state, g3Application } = world(opts);
  const cases = [
    ...applicationCases([{ lender: L, decisionInput: decisionInputToJson(g3Application), loanId: "1" }]),
    ...monthlyCases(state, [G1, G2, X1], { from: at(1, 15), to: at(2, 10), termDays: 30, lender: L }),
  ];
  return inMemoryApplicationIndex(
    () => state,
    IN_FORCE,
  )((index) =>
    backtest(
      index,
      cases,
      [
        { policy: CANDIDATE, inForce: false },
        { policy: IN_FORCE, inForce: true },
      ],
      at(7, 1),
    ),
  );
}

describe("back-test of a policy over history", () => {
  it("takes one case per month end in range", () => {
    expect(monthEnds(at(1, 15), at(2, 10))).to.deep.equal([Date.UTC(2031, 1, 1) / 1000 - 1]);
    expect(monthEnds(at(1, 15), at(3, 31, 23) + 3599)).to.have.length(3);
  });

  it("shows the better policy: more approvals, no bad debt, side by side with the policy in force", async () => {
    const report = await run();
    expect(report.cases).to.deep.equal({ applications: 1, monthly: 3 });
    const [inForce, candidate] = report.policies;
    expect(inForce.version).to.equal("in-force");
    expect(inForce.inForce).to.equal(true);
    expect(candidate.version).to.equal("candidate");
    // Every case scores 80 (at least one completed order): all in band 70-84.
    expect(inForce.bands.map((b) => b.cases)).to.deep.equal([0, 0, 0, 4, 0]);
    expect(inForce.total).to.deep.equal({
      band: "all",
      cases: 4,
      approved: 2,
      approvalRate: 0.5,
      approvedAmount: 1600n,
      outcomes: { on_time: 1, late: 0, defaulted: 1, open: 0 },
      defaultedAmount: 800n,
      badDebtRate: 0.5,
    });
    expect(candidate.total).to.deep.equal({
      band: "all",
      cases: 4,
      approved: 3,
      approvalRate: 0.75,
      approvedAmount: 2100n,
      outcomes: { on_time: 3, late: 0, defaulted: 0, open: 0 },
      defaultedAmount: 0n,
      badDebtRate: 0,
    });
    expect(candidate.bands[3]).to.deep.equal({ ...candidate.total, band: "70-84" });
  });

  it("uses only what was known at each case's moment", async () => {
    // X1's credit note dated after Jan 31: at the monthly case its dilution was 0, so the candidate approves it too.
    const report = await run({ x1CancelledAt: at(2, 5) });
    const candidate = report.policies[1];
    expect(candidate.total.approved).to.equal(4);
    expect(candidate.total.outcomes.defaulted).to.equal(1);
  });

  it("exports the comparison as CSV, one line per policy and band, amounts in major units with the currency", async () => {
    const text = backtestCsv(await run());
    const lines = text.trimEnd().split("\r\n");
    expect(lines[0]).to.equal(
      "policy,in_force,band,cases,approved,approval_rate,approved_amount,on_time,late,defaulted,open,defaulted_amount,bad_debt_rate,currency",
    );
    expect(lines).to.have.length(1 + 2 * 6);
    expect(lines).to.include("in-force,true,all,4,2,0.5,16.00,1,0,1,0,8.00,0.5,CNY");
    expect(lines).to.include("candidate,false,all,4,3,0.75,21.00,3,0,0,0,0.00,0,CNY");
    expect(lines).to.include("candidate,false,0-39,0,0,,0.00,0,0,0,0,0.00,,CNY");
  });

  it("on a reader, finds and decides a borrower's monthly cases on one read of its keys, with the same report", async () => {
    const { state } = world();
    // Over keyed reads, as a reader process runs it (underwriting/application-index.ts committedApplicationIndex),
    // counting how often each key is read.
    const inner = stateReader(state);
    const reads = new Map<string, number>();
    const count = (coll: string, keys: readonly string[]) =>
      keys.forEach((k) => reads.set(`${coll}:${k}`, (reads.get(`${coll}:${k}`) ?? 0) + 1));
    const reader: IndexReader = {
      records: ((coll, keys) => (count(coll, keys), inner.records(coll, keys))) as IndexReader["records"],
      lists: ((coll, keys) => (count(coll, keys), inner.lists(coll, keys))) as IndexReader["lists"],
    };
    /** The index over keyed reads; `prefetch` false: a borrower's slice is not loaded beforehand (its keys found run by run). */
    const onDemand = (prefetch: boolean) => {
      const rounds = { count: 0 };
      const fresh = () => {
        const index = new OnDemandIndex(reader);
        const run = index.run.bind(index);
        // Counts the rounds of reads each run took.
        index.run = async (fn) => {
          const before = index.stats.rounds;
          const value = await run(fn);
          rounds.count += index.stats.rounds - before;
          return value;
        };
        return index;
      };
      const over = (index: OnDemandIndex): ApplicationIndex => ({
        run: (fn) => index.run(fn),
        tierMetrics: async (debtors, end, p = IN_FORCE) =>
          Object.fromEntries(debtors.map((d) => [d, computeSelectedMetricsAt(state, d, end, tierMetrics(p)).values])),
        participants: async () => state.participants,
        prefetchSlice: async (e) => (prefetch ? index.prefetch((through) => loadEnterpriseSlice(through, e)) : undefined),
        metricsAt: (e, at) => index.run((s) => computeMetricsAt(s, e, at).values),
        apart: (fn) => fn(over(fresh())),
      });
      const withIndex: WithApplicationIndex = (read) => read(over(fresh()));
      return { withIndex, rounds };
    };
    const opts = { applications: [], lender: L, policy: CANDIDATE, from: at(1, 15), to: at(2, 10), termDays: 30 };
    const prefetched = onDemand(true);
    const report = await prefetched.withIndex((index) => backtestReport(index, opts));
    expect(report).to.deep.equal(await inMemoryApplicationIndex(() => state, IN_FORCE)((index) => backtestReport(index, opts)));
    expect(report.cases.monthly, "a month end of each supplier with collateral").to.equal(4);
    for (const borrower of [G1, G2, G3, X1])
      expect(reads.get(`receivablesByParty:${borrower}`), `${borrower}'s receivables read`).to.equal(1);
    // Without the slice loaded beforehand, the same report, and runs that found their keys in more rounds.
    const found = onDemand(false);
    expect(await found.withIndex((index) => backtestReport(index, opts))).to.deep.equal(report);
    expect(prefetched.rounds.count, "rounds of reads in the runs").to.be.lessThan(found.rounds.count);
  });
});
