import { expect } from "chai";
import fc from "fast-check";
import { compareIds, type Address, type EventRef } from "../../node-service/src/domain/entities";
import type { RiskFlag } from "../../node-service/src/risk/screen";
import {
  collateralLimit,
  decide,
  decisionFromJson,
  decisionHash,
  decisionInputFromJson,
  decisionInputToJson,
  decisionToJson,
  snapshotHash,
  type CollateralItem,
  type DecisionInput,
  type MetricValues,
} from "../../node-service/src/underwriting/decide";
import { canonicalJson } from "../../node-service/src/underwriting/canonical";
import { CURRENT_POLICY, parsePolicy, policyByVersion, type Policy } from "../../node-service/src/underwriting/policy";
import { DAY } from "../../node-service/src/domain/time";

const AS_OF = 1_800_000_000;
const BORROWER = "0x1111111111111111111111111111111111111111" as Address;
const LENDER = "0x2222222222222222222222222222222222222222" as Address;
const GOOD_BUYER = "0x3333333333333333333333333333333333333333" as Address;
const NEW_BUYER = "0x4444444444444444444444444444444444444444" as Address;
const policy = CURRENT_POLICY;

/** Every scorecard factor of v1 in its best band, no default, a long record. */
function strongMetrics(): MetricValues {
  return {
    onTimeDeliveryRate: { "365d": 0.98 },
    completionRate: { "365d": 0.95 },
    paybackCycleMean: { "365d": 25 },
    overdueRate: { "365d": 0 },
    buyerHhi: { "365d": 0.2 },
    relationshipTenureDays: { all: 400 },
    repaymentOnTimeRate: { all: 1 },
    ordersCompleted: { all: 40 },
    defaults: { "365d": 0, all: 0 },
  };
}

/** Middling: 14 + 10 + 10 + 10 + 6 + 10 + 6 (no loans yet) = 66 points. */
function middlingMetrics(): MetricValues {
  return {
    onTimeDeliveryRate: { "365d": 0.88 },
    completionRate: { "365d": 0.8 },
    paybackCycleMean: { "365d": 45 },
    overdueRate: { "365d": 0.03 },
    buyerHhi: { "365d": 0.4 },
    relationshipTenureDays: { all: 200 },
    ordersCompleted: { all: 12 },
    defaults: { "365d": 0 },
  };
}

/** Weak in every band but not past any hard rule: only the missing-loan points (6). */
function weakMetrics(): MetricValues {
  return {
    onTimeDeliveryRate: { "365d": 0.6 },
    completionRate: { "365d": 0.4 },
    paybackCycleMean: { "365d": 100 },
    overdueRate: { "365d": 0.2 },
    buyerHhi: { "365d": 0.9 },
    relationshipTenureDays: { all: 30 },
    ordersCompleted: { all: 5 },
    defaults: { "365d": 0 },
  };
}

function collateral(): CollateralItem[] {
  return [
    { id: "7", faceValue: 1_000_000n, outstanding: 1_000_000n, debtor: GOOD_BUYER, maturity: AS_OF + 60 * DAY },
    { id: "9", faceValue: 600_000n, outstanding: 500_000n, debtor: NEW_BUYER, maturity: AS_OF + 45 * DAY },
  ];
}

/** The good buyer meets tier A (own overdue rate <= 2%, >= 12 purchases in a year); the new buyer has no data (tier C). */
function debtors(): Record<Address, MetricValues> {
  return { [GOOD_BUYER]: { debtorOverdueRate: { "365d": 0.01 }, purchaseCount: { "365d": 40 } } };
}

function ref(n: number): EventRef {
  const hex = n.toString(16).padStart(64, "0");
  return {
    contract: "TradeOrders",
    event: "OrderCreated",
    blockNumber: n,
    blockHash: `0x${hex}`,
    txHash: `0x${hex}`,
    logIndex: 0,
    at: AS_OF - n,
  };
}

function flag(code: string, severity: RiskFlag["severity"]): RiskFlag {
  return {
    code,
    severity,
    summary: `${code} seen`,
    details: { orderIds: ["1", "2"], share: 0.75, party: GOOD_BUYER },
    evidence: [ref(3), ref(4)],
  };
}

function input(over: Partial<DecisionInput> & { amount?: bigint; termDays?: number } = {}): DecisionInput {
  const { amount, termDays, ...rest } = over;
  return {
    application: { borrower: BORROWER, lender: LENDER, amount: amount ?? 1_000_000n, termDays: termDays ?? 90, receivableIds: ["7", "9"] },
    metrics: strongMetrics(),
    flags: [],
    collateral: collateral(),
    debtors: debtors(),
    asOf: AS_OF,
    ...rest,
  };
}

function reason(d: ReturnType<typeof decide>, code: string) {
  return d.reasons.find((r) => r.code === code);
}

describe("underwriting decisions (policy v1)", () => {
  describe("outcomes", () => {
    it("approves a borrower in the best band of every factor, priced at the best score band", () => {
      const d = decide(input(), policy);
      expect(d.outcome).to.equal("approve");
      expect(d.score).to.equal(100);
      expect(d.rateBps).to.equal(600);
      expect(d.policyVersion).to.equal("v1");
      expect(d.maxTermDays).to.equal(180);
      expect(d.decidedAt).to.equal(AS_OF);
      expect(d.reasons.filter((r) => r.effect)).to.deep.equal([]);
      expect(reason(d, "score_approve")).to.include({ value: 100 });
    });

    it("refers a middling borrower between the decline and approval thresholds, at the matching price", () => {
      const d = decide(input({ metrics: middlingMetrics() }), policy);
      expect(d.score).to.equal(66);
      expect(d.outcome).to.equal("refer");
      expect(d.rateBps).to.equal(1000);
      expect(reason(d, "score_refer")).to.include({ value: 66, effect: "refer" });
    });

    it("declines a borrower whose score is below the decline threshold", () => {
      const d = decide(input({ metrics: weakMetrics() }), policy);
      expect(d.score).to.equal(6);
      expect(d.outcome).to.equal("decline");
      expect(d.rateBps).to.equal(1300);
      expect(reason(d, "score_decline")).to.include({ value: 6, effect: "decline" });
    });

    it("gives every scorecard reason the metric, window, value and points that produced it", () => {
      const d = decide(input({ metrics: middlingMetrics() }), policy);
      expect(reason(d, "on_time_delivery")).to.include({ metric: "onTimeDeliveryRate", window: "365d", value: 0.88, points: 14 });
      expect(reason(d, "payback_cycle")).to.include({ metric: "paybackCycleMean", window: "365d", value: 45, points: 10 });
      expect(reason(d, "buyer_hhi")).to.include({ metric: "buyerHhi", value: 0.4, points: 6 });
      const loans = reason(d, "loan_repayment")!;
      expect(loans).to.include({ metric: "repaymentOnTimeRate", value: null, points: 6 });
      expect(loans.message).to.contain("no data");
      const sum = policy.scorecard.factors.reduce((s, f) => s + (reason(d, f.code)?.points ?? 0), 0);
      expect(sum).to.equal(d.score);
    });
  });

  describe("hard rules", () => {
    it("declines a borrower with a default in the last 365 days whatever its score", () => {
      const metrics = { ...strongMetrics(), defaults: { "365d": 1, all: 1 } };
      const d = decide(input({ metrics }), policy);
      expect(d.score).to.equal(100);
      expect(d.outcome).to.equal("decline");
      expect(reason(d, "default_365d")).to.include({ metric: "defaults", window: "365d", value: 1, effect: "decline" });
    });

    it("does not hold a default older than 365 days against the borrower", () => {
      const metrics = { ...strongMetrics(), defaults: { "365d": 0, all: 2 } };
      const d = decide(input({ metrics }), policy);
      expect(d.outcome).to.equal("approve");
      expect(reason(d, "default_365d")).to.equal(undefined);
    });

    it("declines on a circular-trading flag, quoting the flag, with one reason only", () => {
      const d = decide(input({ flags: [flag("circular_trading", "block")] }), policy);
      expect(d.outcome).to.equal("decline");
      expect(reason(d, "circular_trading")).to.include({ value: 1, effect: "decline" });
      expect(reason(d, "circular_trading")!.message).to.contain("circular_trading seen");
      expect(reason(d, "blocking_flag")).to.equal(undefined);
    });

    it("declines on any other blocking flag through the wildcard rule", () => {
      const d = decide(input({ flags: [flag("sanctions_hit", "block")] }), policy);
      expect(d.outcome).to.equal("decline");
      expect(reason(d, "blocking_flag")).to.include({ value: 1, effect: "decline" });
    });

    it("refers a strong borrower whose receivable was acknowledged by a related party", () => {
      const d = decide(input({ flags: [flag("related_party_acknowledgment", "warn")] }), policy);
      expect(d.score).to.equal(100);
      expect(d.outcome).to.equal("refer");
      expect(reason(d, "related_party_acknowledgment")).to.include({ value: 1, effect: "refer" });
    });

    it("refers a borrower with farmed history", () => {
      const d = decide(input({ flags: [flag("farmed_history", "warn")] }), policy);
      expect(d.outcome).to.equal("refer");
      expect(reason(d, "farmed_history")).to.include({ effect: "refer" });
    });

    it("refers a borrower with too few completed orders, and one with no order count at all", () => {
      const few = decide(input({ metrics: { ...strongMetrics(), ordersCompleted: { all: 2 } } }), policy);
      expect(few.outcome).to.equal("refer");
      expect(reason(few, "thin_history")).to.include({ metric: "ordersCompleted", value: 2, effect: "refer" });
      const { ordersCompleted: _omit, ...rest } = strongMetrics();
      const none = decide(input({ metrics: rest }), policy);
      expect(none.outcome).to.equal("refer");
      expect(reason(none, "thin_history")).to.include({ value: null, effect: "refer" });
    });

    it("takes points off for concentration, related-party and selective-leniency flags without a hard rule", () => {
      const d = decide(
        input({ flags: [flag("buyer_concentration", "warn"), flag("related_party", "warn"), flag("related_party", "info")] }),
        policy,
      );
      expect(d.score).to.equal(90);
      expect(d.outcome).to.equal("approve");
      expect(reason(d, "buyer_concentration_flag")).to.include({ value: 1, points: -5 });
      expect(reason(d, "related_party_flag")).to.include({ value: 1, points: -5 });
      const lenient = decide(input({ flags: [flag("selective_leniency", "warn")] }), policy);
      expect(lenient.score).to.equal(90);
      expect(reason(lenient, "selective_leniency_flag")).to.include({ value: 1, points: -10 });
    });
  });

  describe("limit, amount and term", () => {
    it("limits the loan to the outstanding face value times the advance rate of each debtor's tier", () => {
      const d = decide(input(), policy);
      // Tier A (90%) on 1,000,000 outstanding + default tier C (70%) on 600,000 - 100,000 paid.
      expect(d.limit).to.equal(900_000n + 350_000n);
      expect(d.collateral).to.deep.equal([
        { id: "7", debtor: GOOD_BUYER, tier: "A", advanceRateBps: 9000, outstanding: 1_000_000n, advance: 900_000n, eligible: true },
        { id: "9", debtor: NEW_BUYER, tier: "C", advanceRateBps: 7000, outstanding: 500_000n, advance: 350_000n, eligible: true },
      ]);
      expect(reason(d, "collateral_advance")!.message).to.contain("tier A");
    });

    it("places a debtor with a middling payment record in tier B", () => {
      const d = decide(input({ debtors: { [NEW_BUYER]: { debtorOverdueRate: { "365d": 0.08 }, purchaseCount: { "365d": 3 } } } }), policy);
      expect(d.collateral.map((c) => c.tier)).to.deep.equal(["C", "B"]);
      expect(d.limit).to.equal(700_000n + 400_000n);
    });

    it("never gives more without debtor data than with it (the application form's maximum is safe)", () => {
      const without = collateralLimit(collateral(), policy);
      expect(without).to.equal(700_000n + 350_000n);
      expect(collateralLimit(collateral(), policy, { debtors: debtors() })).to.equal(decide(input(), policy).limit);
      expect(without <= decide(input(), policy).limit).to.equal(true);
    });

    it("counts nothing for a receivable past its maturity", () => {
      const items = collateral();
      items[1].maturity = AS_OF - DAY;
      const d = decide(input({ collateral: items, amount: 800_000n }), policy);
      expect(d.limit).to.equal(900_000n);
      expect(d.outcome).to.equal("approve");
      expect(d.collateral[1]).to.include({ eligible: false, advance: 0n });
      expect(reason(d, "collateral_matured")).to.include({ value: "0" });
    });

    it("declines an amount above the limit with a reason that says the maximum", () => {
      const d = decide(input({ amount: 1_250_001n }), policy);
      expect(d.outcome).to.equal("decline");
      const r = reason(d, "amount_above_limit")!;
      expect(r).to.include({ value: "1250000", effect: "decline" });
      expect(r.message).to.contain("the maximum is CNY 12,500.00 (1250000 minor units)");
      expect(decide(input({ amount: 1_250_000n }), policy).outcome).to.equal("approve");
    });

    it("declines when a pledged receivable is not among the collateral", () => {
      const base = input();
      const d = decide({ ...base, application: { ...base.application, receivableIds: ["7", "9", "11"] } }, policy);
      expect(d.outcome).to.equal("decline");
      expect(reason(d, "collateral_unavailable")).to.include({ value: "11", effect: "decline" });
    });

    it("declines a term above the maximum, naming the maximum, and an amount below the minimum", () => {
      const long = decide(input({ termDays: 181 }), policy);
      expect(long.outcome).to.equal("decline");
      expect(reason(long, "term_above_maximum")).to.include({ value: 180, effect: "decline" });
      expect(reason(long, "term_above_maximum")!.message).to.contain("maximum of 180 days");
      expect(decide(input({ termDays: 180 }), policy).outcome).to.equal("approve");
      const tiny = decide(input({ amount: 9_999n }), policy);
      expect(reason(tiny, "amount_below_minimum")).to.include({ value: "10000", effect: "decline" });
    });
  });

  describe("reproducibility", () => {
    function fullInput(): DecisionInput {
      return input({
        metrics: { ...middlingMetrics(), outstandingValue: { "30d": 123_456_789_012_345_678_901n, all: null } },
        flags: [flag("buyer_concentration", "warn"), flag("related_party_acknowledgment", "warn")],
      });
    }

    it("gives the identical decision when re-run on the same input", () => {
      const a = decide(fullInput(), policy);
      const b = decide(fullInput(), policy);
      expect(b).to.deep.equal(a);
      expect(a.inputHash).to.equal(snapshotHash(fullInput()));
    });

    it("gives the identical decision from the stored canonical JSON of its input", () => {
      const original = fullInput();
      const decision = decide(original, policy);
      const stored = JSON.stringify(decisionInputToJson(original));
      const restored = decisionInputFromJson(JSON.parse(stored));
      expect(restored).to.deep.equal(original);
      expect(snapshotHash(restored)).to.equal(decision.inputHash);
      expect(decide(restored, policyByVersion(decision.policyVersion))).to.deep.equal(decision);
      // The stored decision itself survives the round trip too, and so does the hash anchored for it.
      const storedDecision = decisionFromJson(JSON.parse(JSON.stringify(decisionToJson(decision))));
      expect(storedDecision).to.deep.equal(decision);
      expect(decisionHash(storedDecision)).to.equal(decisionHash(decision));
      expect(decisionHash(decide({ ...restored, asOf: restored.asOf + 1 }, policy))).to.not.equal(decisionHash(decision));
    });

    it("hashes the canonical form: key order does not matter, bigints are decimal strings", () => {
      const a = fullInput();
      const reordered = JSON.parse(canonicalJson(a)) as Record<string, unknown>;
      const reversed = Object.fromEntries(Object.entries(reordered).reverse());
      expect(snapshotHash(decisionInputFromJson(reversed))).to.equal(snapshotHash(a));
      expect(canonicalJson({ b: 1n, a: [2n, { d: null, c: "x" }] })).to.equal('{"a":["2",{"c":"x","d":null}],"b":"1"}');
    });

    it("changes the input hash when any decision input changes", () => {
      const base = snapshotHash(fullInput());
      expect(snapshotHash(input({ amount: 1_000_001n }))).to.not.equal(snapshotHash(input()));
      const f = fullInput();
      f.flags[0].evidence[0].logIndex = 1;
      expect(snapshotHash(f)).to.not.equal(base);
      const g = fullInput();
      g.asOf += 1;
      expect(snapshotHash(g)).to.not.equal(base);
    });

    it("re-runs identically for arbitrary metrics, amounts and flags (property)", () => {
      const metricArb = fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1000, noNaN: true }), fc.bigInt({ min: 0n, max: 10n ** 24n }));
      const keys = [
        "onTimeDeliveryRate",
        "completionRate",
        "paybackCycleMean",
        "overdueRate",
        "buyerHhi",
        "relationshipTenureDays",
        "ordersCompleted",
        "defaults",
      ];
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom(...keys), fc.record({ "365d": metricArb, all: metricArb }, { requiredKeys: [] })),
          fc.bigInt({ min: 1n, max: 5_000_000n }),
          fc.integer({ min: 1, max: 400 }),
          fc.subarray([
            "circular_trading",
            "related_party",
            "farmed_history",
            "buyer_concentration",
            "related_party_acknowledgment",
            "selective_leniency",
          ]),
          (metrics, amount, termDays, codes) => {
            const x = input({ metrics, amount, termDays, flags: codes.map((c) => flag(c, "warn")) });
            const d = decide(x, policy);
            const again = decide(decisionInputFromJson(JSON.parse(JSON.stringify(decisionInputToJson(x)))), policy);
            expect(again).to.deep.equal(d);
            expect(d.score).to.be.within(policy.scorecard.minScore, policy.scorecard.maxScore);
            if (amount > d.limit) expect(d.outcome).to.equal("decline");
          },
        ),
        { numRuns: 200 },
      );
    });

    it("refuses a stored input with a malformed amount, naming the field", () => {
      const json = decisionInputToJson(input()) as { application: Record<string, unknown> };
      json.application.amount = "12.5";
      expect(() => decisionInputFromJson(json)).to.throw(/application.*amount|amount/);
    });
  });

  describe("policy as data", () => {
    it("loads v1 through the schema and finds it by version", () => {
      expect(policyByVersion("v1")).to.equal(CURRENT_POLICY);
      expect(() => policyByVersion("v0")).to.throw(/unknown underwriting policy version/);
    });

    it("refuses a policy whose approval threshold is below its decline threshold", () => {
      const bad: Policy = { ...structuredClone(policy), thresholds: { approveMin: 30, declineBelow: 40 } };
      expect(() => parsePolicy(bad)).to.throw(/approveMin must be at least declineBelow/);
    });

    it("refuses a tier that advances less than the default tier (missing data must never raise a limit)", () => {
      const bad = structuredClone(policy);
      bad.advance.tiers[1].advanceRateBps = 6000;
      expect(() => parsePolicy(bad)).to.throw(/no tier may advance less than the default tier/);
    });

    it("refuses an advance rate above 100% and an unknown metric window", () => {
      const rate = structuredClone(policy);
      rate.advance.defaultTier.advanceRateBps = 10_001;
      expect(() => parsePolicy(rate)).to.throw();
      const win = structuredClone(policy) as unknown as { scorecard: { factors: { window: string }[] } };
      win.scorecard.factors[0].window = "7d";
      expect(() => parsePolicy(win)).to.throw();
    });

    it("refuses a rule over a metric the service does not compute, or over a window the metric lacks", () => {
      const unknown = structuredClone(policy);
      unknown.scorecard.factors[0].metric = "onTimeDeliveryRatio";
      expect(() => parsePolicy(unknown)).to.throw(/unknown metric onTimeDeliveryRatio/);
      const window = structuredClone(policy);
      window.advance.tiers[0].conditions[0] = { metric: "outstandingValue", window: "30d", op: "<=", value: "100" };
      expect(() => parsePolicy(window)).to.throw(/metric outstandingValue has no window 30d/);
    });

    it("decides differently under a stricter policy version from the same input", () => {
      const strict = parsePolicy({ ...structuredClone(policy), version: "v1-strict", thresholds: { approveMin: 101, declineBelow: 40 } });
      const d = decide(input(), strict);
      expect(d.policyVersion).to.equal("v1-strict");
      expect(d.outcome).to.equal("refer");
      expect(d.inputHash).to.equal(decide(input(), policy).inputHash);
    });
  });
});

describe("on-chain ids in numeric order (compareIds: the collateral, the form's receivables, loans)", () => {
  it("orders any two uint256 ids as their numbers, without parsing them (fast-check)", () => {
    const id = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: 10_000n }));
    fc.assert(
      fc.property(id, id, (x, y) => {
        expect(Math.sign(compareIds(x.toString(), y.toString()))).to.equal(x < y ? -1 : x > y ? 1 : 0);
      }),
      { numRuns: 2_000 },
    );
    expect(["10", "9", "100", "11", "2"].sort(compareIds)).to.deep.equal(["2", "9", "10", "11", "100"]);
  });
});
