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
import { explainDecision } from "../../node-service/src/underwriting/explain";
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
});
