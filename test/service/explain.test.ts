/**
 * Money and decisions in words: formatMoney is exact for any amount, and explainDecision leads a
 * decline or a referral with the reasons in words (indicator, value, the policy's threshold) and what
 * would change the outcome, with no internal code or address in the words.
 */
import { expect } from "chai";
import fc from "fast-check";
import type { Address } from "../../node-service/src/domain/entities";
import { moneyWithRaw, formatMoney } from "../../node-service/src/domain/money";
import { decide, type DecisionInput, type MetricValues } from "../../node-service/src/underwriting/decide";
import {
  DECISION_REASON_CODES,
  describeDecisionReasons,
  EXPLAIN_CODES,
  explainDecision,
  type ExplainedReason,
} from "../../node-service/src/underwriting/explain";
import { decisionHash } from "../../node-service/src/underwriting/decide";
import { CURRENT_POLICY as policy } from "../../node-service/src/underwriting/policy";
import type { RiskFlag } from "../../node-service/src/risk/screen";
import { DAY } from "../../node-service/src/domain/time";

const AS_OF = 1_800_000_000;
const BORROWER = "0x1111111111111111111111111111111111111111" as Address;
const LENDER = "0x2222222222222222222222222222222222222222" as Address;
const BUYER = "0x3333333333333333333333333333333333333333" as Address;

const strong: MetricValues = {
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

function input(over: { metrics?: MetricValues; flags?: RiskFlag[]; amount?: bigint } = {}): DecisionInput {
  return {
    application: { borrower: BORROWER, lender: LENDER, amount: over.amount ?? 500_000n, termDays: 90, receivableIds: ["7"] },
    metrics: over.metrics ?? strong,
    flags: over.flags ?? [],
    collateral: [{ id: "7", faceValue: 1_000_000n, outstanding: 1_000_000n, debtor: BUYER, maturity: AS_OF + 60 * DAY }],
    debtors: {},
    asOf: AS_OF,
  };
}

const SNAKE_CODE = /\b[a-z]+_[a-z0-9_]+\b/;
const ADDRESS = /0x[0-9a-fA-F]{6}/;

describe("amounts and decisions in words", () => {
  it("formats minor units as CNY in major units with separators, exactly, beyond 2^53", () => {
    expect(formatMoney(181_356_000n)).to.equal("CNY 1,813,560.00");
    expect(formatMoney("5")).to.equal("CNY 0.05");
    expect(formatMoney(-123_456n)).to.equal("-CNY 1,234.56");
    expect(formatMoney(123_456_789_012_345_678_901n)).to.equal("CNY 1,234,567,890,123,456,789.01");
    expect(moneyWithRaw(181_356_000n)).to.equal("CNY 1,813,560.00 (181356000 minor units)");
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (v) => {
        const text = formatMoney(v);
        expect(/^CNY \d{1,3}(,\d{3})*\.\d\d$/.test(text), text).to.equal(true);
        expect(BigInt(text.slice(4).replace(/[,.]/g, ""))).to.equal(v);
      }),
    );
  });

  it("explains nothing for an approval", () => {
    const d = decide(input(), policy);
    expect(d.outcome).to.equal("approve");
    expect(explainDecision(d, policy).reasons).to.deep.equal([]);
  });

  it("leads a decline with a metric rule's indicator, value and threshold in words, and what would change it", () => {
    const d = decide(input({ metrics: { ...strong, defaults: { "365d": 1, all: 1 } } }), policy);
    expect(d.outcome).to.equal("decline");
    const [lead] = explainDecision(d, policy).reasons;
    expect(lead).to.include({ code: "default_365d", effect: "decline" });
    expect(lead.indicator).to.include({ metric: "defaults", value: "1", threshold: "at most 0" });
    expect(lead.text).to.match(/^A loan of the borrower defaulted in the last 365 days: .* is 1, above the policy's limit of 0\.$/);
    expect(lead.toChange).to.match(/at most 0\.$/);
  });

  it("puts declines before referrals and shows ratios as percentages", () => {
    const d = decide(
      input({
        metrics: { ...strong, overdueRate: { "365d": 0.4 } },
        flags: [{ code: "circular_trading", severity: "warn", summary: `ring through ${BUYER}`, details: {}, evidence: [] }],
      }),
      policy,
    );
    const reasons = explainDecision(d, policy).reasons;
    expect(reasons.map((r) => r.effect)).to.deep.equal(
      [...reasons.map((r) => r.effect)].sort((a, b) => (a === b ? 0 : a === "decline" ? -1 : 1)),
    );
    expect(reasons[0].text).to.equal("Orders run in a cycle through the borrower (circular trading).");
    const overdue = reasons.find((r) => r.code === "overdue_rate_high")!;
    expect(overdue.indicator).to.include({ value: "40.0%", threshold: "at most 30.0%" });
  });

  it("says how far the score is from the threshold and which indicators have the most room, and the limit in CNY for an amount above it", () => {
    const weak: MetricValues = {
      onTimeDeliveryRate: { "365d": 0.6 },
      completionRate: { "365d": 0.4 },
      paybackCycleMean: { "365d": 100 },
      overdueRate: { "365d": 0.2 },
      buyerHhi: { "365d": 0.9 },
      relationshipTenureDays: { all: 30 },
      ordersCompleted: { all: 5 },
      defaults: { "365d": 0 },
    };
    const d = decide(input({ metrics: weak, amount: 999_999_900n }), policy);
    const reasons = explainDecision(d, policy, { asked: 999_999_900n }).reasons;
    const score = reasons.find((r) => r.code === "score_decline")!;
    expect(score.text).to.equal(`The score is ${d.score} out of 100, below the 40 the policy needs for anything but a decline.`);
    expect(score.toChange)
      .to.contain(`A score of at least 40 (${40 - d.score} points more)`)
      .and.to.contain("Most room: ");
    expect(score.toChange).to.contain("On-time delivery rate, 365 days: 60.0%; at least 70.0% scores 8 more");
    const amount = reasons.find((r) => r.code === "amount_above_limit")!;
    expect(amount.text).to.equal(
      `The amount asked, CNY 9,999,999.00, is more than the selected receivables support: ${formatMoney(d.limit)}.`,
    );
    for (const r of reasons) {
      expect(`${r.text} ${r.toChange}`, r.code).not.to.match(SNAKE_CODE);
      expect(`${r.text} ${r.toChange}`, r.code).not.to.match(ADDRESS);
    }
  });

  describe("the same as message codes with parameters (what the web writes in Chinese and English)", () => {
    const weak: MetricValues = {
      onTimeDeliveryRate: { "365d": 0.6 },
      completionRate: { "365d": 0.4 },
      paybackCycleMean: { "365d": 100 },
      overdueRate: { "365d": 0.4 },
      buyerHhi: { "365d": 0.9 },
      relationshipTenureDays: { all: 30 },
      ordersCompleted: { all: 1 },
      defaults: { "365d": 1 },
    };
    const flags: RiskFlag[] = [
      { code: "circular_trading", severity: "block", summary: "ring", details: {}, evidence: [] },
      { code: "circular_trading", severity: "block", summary: "ring 2", details: {}, evidence: [] },
    ];
    const explain = (over: Parameters<typeof input>[0], asked?: bigint) => {
      const d = decide(input(over), policy);
      return { d, reasons: explainDecision(d, policy, { asked }).reasons };
    };
    const byCode = (reasons: ExplainedReason[], code: string) => reasons.find((r) => r.code === code)!;

    it("gives every reason a known text and to-change code with string parameters, and amounts in minor units with the currency", () => {
      const { d, reasons } = explain({ metrics: weak, flags, amount: 999_999_900n }, 999_999_900n);
      expect(reasons.length).to.be.greaterThan(4);
      for (const r of reasons) {
        expect(EXPLAIN_CODES.text as readonly string[], r.code).to.include(r.textCode);
        expect(EXPLAIN_CODES.toChange as readonly string[], r.code).to.include(r.toChangeCode);
        expect(r.textCode, r.code).to.not.equal("other");
        for (const [k, v] of Object.entries(r.params)) {
          expect(typeof v, `${r.code}.${k}`).to.equal("string");
          if (k.endsWith("Amount")) {
            expect(v, `${r.code}.${k}`).to.match(/^[0-9]+$/);
            expect(r.params.currency, r.code).to.equal("CNY");
          }
        }
      }
      const amount = byCode(reasons, "amount_above_limit");
      expect(amount).to.include({ textCode: "amount_above_limit", toChangeCode: "amount_above_limit" });
      expect(amount.params).to.deep.equal({ askedAmount: "999999900", limitAmount: d.limit.toString(), currency: "CNY" });
    });

    it("names the metric rule by its code, metric, window, unit, failing comparison, raw value and raw threshold", () => {
      const { reasons } = explain({ metrics: weak });
      expect(byCode(reasons, "default_365d")).to.deep.include({
        textCode: "metric_rule",
        toChangeCode: "metric_rule",
        params: {
          rule: "default_365d",
          ruleMessage: "a loan of the borrower defaulted in the last 365 days",
          metric: "defaults",
          window: "365d",
          unit: "count",
          op: ">",
          value: "1",
          threshold: "0",
        },
      });
      expect(byCode(reasons, "overdue_rate_high").params).to.include({ unit: "ratio", value: "0.4", threshold: "0.3" });
      const missing = explain({ metrics: { ...strong, ordersCompleted: {} } }).reasons;
      expect(byCode(missing, "thin_history")).to.deep.include({ textCode: "metric_missing" });
      expect(byCode(missing, "thin_history").params.value).to.equal("");
    });

    it("counts a flag rule's flags, and lists the score's room to improve as factor, value and next band's bound", () => {
      const { d, reasons } = explain({ metrics: weak, flags });
      expect(byCode(reasons, "circular_trading")).to.deep.include({
        textCode: "flag_rule",
        toChangeCode: "flag_decline",
        params: {
          rule: "circular_trading",
          ruleMessage: "orders run in a cycle through the borrower (circular trading)",
          flag: "circular_trading",
          times: "2",
        },
      });
      const score = byCode(reasons, "score_decline");
      expect(score.params).to.deep.equal({
        score: String(d.score),
        declineBelow: "40",
        approveMin: "70",
        target: "40",
        more: String(40 - d.score),
      });
      expect(score.room).to.have.length(3);
      const onTime = score.room!.find((x) => x.factor === "on_time_delivery")!;
      expect(onTime).to.deep.equal({
        factor: "on_time_delivery",
        label: "On-time delivery rate, 365 days",
        metric: "onTimeDeliveryRate",
        unit: "ratio",
        value: "0.6",
        boundKind: "min",
        bound: "0.7",
        points: "8",
      });
      // The English words list the same factors, in the same order.
      const listed = score.toChange.slice(score.toChange.indexOf("Most room: "));
      for (const item of score.room!) expect(listed).to.contain(item.label);
    });

    it("gives every reason of the decision (the lender's score table) a message code, in the decision's order, amounts with the currency", () => {
      const d = decide(input({ metrics: weak, flags, amount: 999_999_900n }), policy);
      const coded = describeDecisionReasons(d, policy, { asked: 999_999_900n, termDays: 90 });
      expect(coded.map((c) => c.code)).to.deep.equal(d.reasons.map((r) => r.code));
      for (const c of coded) {
        expect(DECISION_REASON_CODES as readonly string[], c.code).to.include(c.textCode);
        expect(c.textCode, c.code).to.not.equal("other");
        for (const v of Object.values(c.params)) expect(typeof v).to.equal("string");
      }
      const byReason = (code: string) => coded.find((c) => c.code === code)!;
      expect(byReason("default_365d")).to.deep.include({ textCode: "rule_metric" });
      expect(byReason("circular_trading").params).to.include({ flags: "2" });
      expect(byReason("on_time_delivery")).to.deep.include({
        textCode: "factor",
        params: {
          factor: "on_time_delivery",
          label: "On-time delivery rate, 365 days",
          metric: "onTimeDeliveryRate",
          unit: "ratio",
          value: "0.6",
          points: String(d.reasons.find((r) => r.code === "on_time_delivery")!.points),
        },
      });
      // The band a factor's value fell in, for the indicators table: raw bounds in the metric's unit.
      const good = describeDecisionReasons(decide(input(), policy), policy).find((c) => c.code === "on_time_delivery")!;
      expect(good.params).to.include({ value: "0.98", bandMin: "0.95", points: "20" });
      expect(good.params).to.not.have.property("bandMax");
      const line = d.collateral[0];
      expect(byReason("collateral_advance").params).to.deep.equal({
        receivableId: "7",
        debtor: BUYER,
        tier: line.tier,
        advanceRatio: String(line.advanceRateBps / 10_000),
        outstandingAmount: "1000000",
        advanceAmount: line.advance.toString(),
        currency: "CNY",
      });
      expect(byReason("amount_above_limit").params).to.deep.equal({
        askedAmount: "999999900",
        limitAmount: d.limit.toString(),
        currency: "CNY",
      });
      // Without the application's amount (not in the decision) the English message stays: code "other".
      const bare = describeDecisionReasons(d, policy).find((c) => c.code === "amount_above_limit")!;
      expect(bare).to.deep.equal({
        code: "amount_above_limit",
        textCode: "other",
        params: { message: d.reasons.find((r) => r.code === "amount_above_limit")!.message },
      });
    });

    it("leaves the decision, and so its anchored hash, as it was: the codes are beside it, not in it", () => {
      const d = decide(input({ metrics: weak, flags }), policy);
      const before = decisionHash(d);
      const json = JSON.stringify(d, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      explainDecision(d, policy);
      expect(decisionHash(d)).to.equal(before);
      expect(json).to.not.contain("textCode").and.to.not.contain("params");
    });
  });
});
