/**
 * A decision in plain words, for the borrower and the lender: the reasons that set a decline or a
 * referral, each with the indicator, its value and the policy's threshold, and what would change the
 * outcome. Derived from the stored decision and the policy it names (nothing new is decided here); the
 * internal reason codes stay in the decision as details.
 */
import { metricDefinition, type MetricUnit } from "../metrics/definitions";
import { CURRENCY, formatMoney } from "../domain/money";
import type { Decision, Reason } from "./decide";
import type { Policy } from "./policy";

/**
 * The same words as a stable message code and its parameters, for a client that writes them in its own
 * language (the web UI in Chinese and English). Every parameter is a string. Conventions: a key ending in
 * `Amount` is an amount in minor units, in `params.currency`; `value` and `threshold` are raw metric values
 * in `params.unit` (ratio, days, hhi, minor_units, count); `window` is a metric window ("365d", "all");
 * `op` the failing comparison of the rule ("<", ">=", ...). A client that does not know the code shows
 * the English text instead.
 */
export type TextParams = Record<string, string>;

/** A scorecard factor with points still to gain: its value and the bound of the next band up (raw, in `unit`). */
export interface RoomToImprove {
  /** The policy's factor code (on_time_delivery, ...) and its English label. */
  factor: string;
  label: string;
  metric: string;
  unit: string;
  value: string | null;
  /** "min": at least `bound` scores `points` more; "max": below `bound` does; absent: no bound to name. */
  boundKind?: "min" | "max";
  bound?: string;
  points?: string;
}

export interface ExplainedReason {
  /** The decision's reason code (a detail, not for leading with). */
  code: string;
  effect: "refer" | "decline";
  /** What happened, in words. */
  text: string;
  /** What would change the outcome, in words. */
  toChange: string;
  /** The indicator behind it, when there is one: its name, value and the policy's threshold, formatted. */
  indicator?: { metric: string; name: string; window: string; value: string; threshold: string };
  /** `text` as a stable message code (metric_rule, metric_missing, flag_rule, score_decline, ...), with `params`. */
  textCode: string;
  /** `toChange` as a stable message code, with the same `params`. */
  toChangeCode: string;
  params: TextParams;
  /** For a score reason: the factors with the most room, most first (what `toChange` lists after "Most room"). */
  room?: RoomToImprove[];
}

/** Every textCode and toChangeCode explainDecision writes (the web has a text for each, in each language). */
export const EXPLAIN_CODES = {
  text: [
    "metric_rule",
    "metric_missing",
    "flag_rule",
    "score_decline",
    "score_refer",
    "amount_above_limit",
    "amount_below_minimum",
    "term_outside",
    "collateral_unavailable",
    "other",
  ],
  toChange: [
    "metric_rule",
    "flag_decline",
    "flag_refer",
    "score",
    "amount_above_limit",
    "amount_below_minimum",
    "term_outside",
    "collateral_unavailable",
    "contest",
  ],
} as const;

export interface Explanation {
  outcome: Decision["outcome"];
  /** The reasons that made the outcome, declines first. Empty for an approval. */
  reasons: ExplainedReason[];
}

/** One decision reason's message as a code (rule_metric, factor, collateral_advance, ...) with its parameters. */
export interface ReasonText {
  code: string;
  textCode: string;
  params: TextParams;
}

/** A metric value or bound in its unit: ratios as percentages, days, amounts in CNY. */
export function formatMetricValue(value: unknown, unit: MetricUnit | undefined): string {
  if (value === null || value === undefined) return "no data";
  if (unit === "minor_units") return formatMoney(String(value));
  const n = Number(value);
  if (unit === "ratio") return `${(n * 100).toFixed(1)}%`;
  if (unit === "days") return `${n.toFixed(1)} days`;
  if (unit === "hhi") return n.toFixed(2);
  return n.toLocaleString("en-US");
}

/** The bound that would pass the rule "value op bound", in words. */
const PASSING: Record<string, string> = {
  ">": "at most",
  ">=": "below",
  "<": "at least",
  "<=": "above",
  "==": "other than",
  "!=": "exactly",
};
const FAILING: Record<string, string> = { ">": "above", ">=": "at least", "<": "below", "<=": "at most", "==": "exactly", "!=": "not" };

const sentence = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);

export function explainDecision(
  decision: Decision,
  policy: Policy,
  opts: { asked?: bigint | string; termDays?: number } = {},
): Explanation {
  const out: ExplainedReason[] = [];
  for (const r of decision.reasons) {
    if (!r.effect) continue;
    out.push(explainReason(r, decision, policy, opts));
  }
  out.sort((a, b) => (a.effect === b.effect ? 0 : a.effect === "decline" ? -1 : 1));
  return { outcome: decision.outcome, reasons: out };
}

/**
 * Every reason of the decision (decision.reasons, same order, same length), its English `message` as a
 * message code with string parameters (conventions as TextParams): what the lender's score table and
 * indicators write in the reader's language. Parameters may hold addresses (a collateral line's debtor),
 * for the client to name.
 * read from the decision and the policy it names: the decision itself, and so its anchored hash, is not
 * touched. `asked` and `termDays` are the application's (a decision does not repeat them).
 */
export function describeDecisionReasons(
  decision: Decision,
  policy: Policy,
  opts: { asked?: bigint | string; termDays?: number } = {},
): ReasonText[] {
  const currency = CURRENCY.code;
  let line = 0;
  return decision.reasons.map((r): ReasonText => {
    const base = { code: r.code };
    const value = r.value === null || r.value === undefined ? "" : String(r.value);
    const rule = policy.hardRules.find((h) => h.code === r.code);
    if (rule?.kind === "metric")
      return { ...base, textCode: value === "" ? "rule_metric_missing" : "rule_metric", params: metricRuleParams(rule, value) };
    if (rule?.kind === "flag")
      return { ...base, textCode: "rule_flag", params: { rule: rule.code, ruleMessage: rule.message, flags: value || "1" } };
    const factor = policy.scorecard.factors.find((f) => f.code === r.code);
    if (factor) {
      const def = metricDefinition(factor.metric);
      const band =
        value === ""
          ? undefined
          : factor.bands.find(
              (b) => (b.min === undefined || compare(value, b.min) >= 0) && (b.max === undefined || compare(value, b.max) < 0),
            );
      return {
        ...base,
        textCode: value === "" ? "factor_missing" : "factor",
        params: {
          ...(band?.min !== undefined ? { bandMin: String(band.min) } : {}),
          ...(band?.max !== undefined ? { bandMax: String(band.max) } : {}),
          factor: factor.code,
          label: factor.label,
          metric: factor.metric,
          unit: def?.unit ?? "count",
          value,
          points: String(r.points ?? 0),
          ...(def?.unit === "minor_units" ? { currency } : {}),
        },
      };
    }
    const penalty = policy.scorecard.flagPenalties.find((p) => p.code === r.code);
    if (penalty) return { ...base, textCode: "flag_penalty", params: { flag: penalty.flag, flags: value, points: String(r.points ?? 0) } };
    const { approveMin, declineBelow } = policy.thresholds;
    const score = { score: String(decision.score), approveMin: String(approveMin), declineBelow: String(declineBelow) };
    switch (r.code) {
      case "score_approve":
      case "score_decline":
      case "score_refer":
        return { ...base, textCode: r.code, params: score };
      case "collateral_advance":
      case "collateral_matured": {
        // One reason per collateral line, in the lines' order.
        const l = decision.collateral[line++];
        if (!l) break;
        return {
          ...base,
          textCode: r.code,
          params: {
            receivableId: l.id,
            debtor: l.debtor,
            tier: l.tier,
            advanceRatio: String(l.advanceRateBps / 10_000),
            outstandingAmount: l.outstanding.toString(),
            advanceAmount: l.advance.toString(),
            currency,
          },
        };
      }
      case "collateral_unavailable":
        return { ...base, textCode: r.code, params: { receivableIds: value.split(",").join(", ") } };
      case "amount_below_minimum":
        if (opts.asked === undefined) break;
        return { ...base, textCode: r.code, params: { askedAmount: BigInt(opts.asked).toString(), minAmount: value, currency } };
      case "amount_above_limit":
        if (opts.asked === undefined) break;
        return { ...base, textCode: r.code, params: { askedAmount: BigInt(opts.asked).toString(), limitAmount: value, currency } };
      case "term_invalid":
        return { ...base, textCode: r.code, params: { termDays: value } };
      case "term_above_maximum":
        if (opts.termDays === undefined) break;
        return { ...base, textCode: r.code, params: { termDays: String(opts.termDays), maxTermDays: value } };
    }
    return { ...base, textCode: "other", params: { message: r.message } };
  });
}

/**
 * A failed metric rule's parameters (TextParams), the same for the explanation and the reason's message:
 * the rule, its metric, window, unit, comparison and threshold, and the raw value ("" when missing).
 */
function metricRuleParams(rule: Extract<Policy["hardRules"][number], { kind: "metric" }>, value: string): TextParams {
  const def = metricDefinition(rule.metric);
  return {
    rule: rule.code,
    ruleMessage: rule.message,
    metric: rule.metric,
    window: rule.window,
    unit: def?.unit ?? "count",
    op: rule.op,
    value,
    threshold: String(rule.value),
    ...(def?.unit === "minor_units" ? { currency: CURRENCY.code } : {}),
  };
}

/** A raw value against a band's bound, as decide compares them: exact for integers (amounts), numeric otherwise. */
function compare(value: string, bound: number | string): number {
  const [a, b] = [value, String(bound)];
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
  return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
}

/** Every textCode describeDecisionReasons writes (the web has a text for each, in each language). */
export const DECISION_REASON_CODES = [
  "rule_metric",
  "rule_metric_missing",
  "rule_flag",
  "factor",
  "factor_missing",
  "flag_penalty",
  "score_approve",
  "score_decline",
  "score_refer",
  "collateral_advance",
  "collateral_matured",
  "collateral_unavailable",
  "amount_below_minimum",
  "amount_above_limit",
  "term_invalid",
  "term_above_maximum",
  "other",
] as const;

function explainReason(r: Reason, decision: Decision, policy: Policy, opts: { asked?: bigint | string }): ExplainedReason {
  const effect = r.effect!;
  const base = { code: r.code, effect };
  const rule = policy.hardRules.find((h) => h.code === r.code);
  if (rule?.kind === "metric") {
    const def = metricDefinition(rule.metric);
    const name = def?.name ?? rule.metric;
    const window = rule.window === "all" ? "all time" : rule.window.replace("d", " days");
    const value = formatMetricValue(r.value, def?.unit);
    const threshold = formatMetricValue(rule.value, def?.unit);
    const missing = r.value === null || r.value === undefined;
    return {
      ...base,
      textCode: missing ? "metric_missing" : "metric_rule",
      toChangeCode: "metric_rule",
      params: metricRuleParams(rule, missing ? "" : String(r.value)),
      text: missing
        ? `${sentence(rule.message)}: there is no ${name.toLowerCase()} on chain yet (${window}).`
        : `${sentence(rule.message)}: ${name.toLowerCase()} (${window}) is ${value}, ${FAILING[rule.op]} the policy's limit of ${threshold}.`,
      toChange: `${name} (${window}) ${PASSING[rule.op]} ${threshold}.`,
      indicator: { metric: rule.metric, name, window: rule.window, value, threshold: `${PASSING[rule.op]} ${threshold}` },
    };
  }
  if (rule?.kind === "flag") {
    const times = typeof r.value === "number" ? r.value : 1;
    return {
      ...base,
      textCode: "flag_rule",
      toChangeCode: effect === "decline" ? "flag_decline" : "flag_refer",
      params: { rule: rule.code, ruleMessage: rule.message, flag: rule.flag, times: String(times) },
      text: `${sentence(rule.message)}${typeof r.value === "number" && r.value > 1 ? ` (${r.value} times)` : ""}.`,
      toChange:
        effect === "decline"
          ? "The trades behind this risk signal must be explained: contest the decision and the lender's reviewer looks at the evidence."
          : "The lender's reviewer looks at the trades behind this risk signal and decides.",
    };
  }
  switch (r.code) {
    case "score_decline":
    case "score_refer": {
      const { approveMin, declineBelow } = policy.thresholds;
      const target = r.code === "score_decline" ? declineBelow : approveMin;
      const room = roomToImprove(decision, policy);
      return {
        ...base,
        textCode: r.code,
        toChangeCode: "score",
        params: {
          score: String(decision.score),
          declineBelow: String(declineBelow),
          approveMin: String(approveMin),
          target: String(target),
          more: String(target - decision.score),
        },
        room: room.items,
        text:
          r.code === "score_decline"
            ? `The score is ${decision.score} out of 100, below the ${declineBelow} the policy needs for anything but a decline.`
            : `The score is ${decision.score} out of 100: automatic approval needs ${approveMin}, so a reviewer decides.`,
        toChange: `A score of at least ${target} (${target - decision.score} points more). ${room.text}`.trim(),
      };
    }
    case "amount_above_limit": {
      const asked = opts.asked ?? decision.limit;
      return {
        ...base,
        textCode: r.code,
        toChangeCode: r.code,
        params: { askedAmount: BigInt(asked).toString(), limitAmount: decision.limit.toString(), currency: CURRENCY.code },
        text: `The amount asked, ${formatMoney(asked)}, is more than the selected receivables support: ${formatMoney(decision.limit)}.`,
        toChange: `Ask for ${formatMoney(decision.limit)} or less, or pledge more receivables.`,
      };
    }
    case "amount_below_minimum":
      return {
        ...base,
        textCode: r.code,
        toChangeCode: r.code,
        params: { minAmount: BigInt(policy.minAmount).toString(), currency: CURRENCY.code },
        text: `The amount asked is below the smallest loan, ${formatMoney(policy.minAmount)}.`,
        toChange: `Ask for at least ${formatMoney(policy.minAmount)}.`,
      };
    case "term_above_maximum":
    case "term_invalid":
      return {
        ...base,
        textCode: "term_outside",
        toChangeCode: "term_outside",
        params: { maxTermDays: String(policy.maxTermDays) },
        text: `The term is outside 1 to ${policy.maxTermDays} days.`,
        toChange: `Choose a term of ${policy.maxTermDays} days or less.`,
      };
    case "collateral_unavailable":
      return {
        ...base,
        textCode: r.code,
        toChangeCode: r.code,
        params: {},
        text: "A selected receivable is no longer available as collateral (paid, pledged elsewhere or no longer yours).",
        toChange: "Apply again with receivables that are confirmed and not pledged.",
      };
    default:
      return {
        ...base,
        text: sentence(r.message),
        toChange: "The lender's reviewer can look at it if you contest.",
        textCode: "other",
        toChangeCode: "contest",
        params: { message: r.message },
      };
  }
}

/** The scorecard factors with the most points still to gain, each with its value and the next band's bound. */
function roomToImprove(decision: Decision, policy: Policy): { text: string; items: RoomToImprove[] } {
  const gains: { gain: number; text: string; item: RoomToImprove }[] = [];
  for (const factor of policy.scorecard.factors) {
    const reason = decision.reasons.find((r) => r.code === factor.code);
    if (!reason || reason.points === undefined) continue;
    const best = Math.max(...factor.bands.map((b) => b.points));
    if (reason.points >= best) continue;
    const def = metricDefinition(factor.metric);
    // The next band up (fewest points above the current ones): the nearest step to take.
    const better = factor.bands.filter((b) => b.points > reason.points!).sort((a, b) => a.points - b.points)[0];
    const bound =
      better?.min !== undefined
        ? `at least ${formatMetricValue(better.min, def?.unit)}`
        : better?.max !== undefined
          ? `below ${formatMetricValue(better.max, def?.unit)}`
          : "";
    const boundKind = better?.min !== undefined ? "min" : better?.max !== undefined ? "max" : undefined;
    gains.push({
      gain: best - reason.points,
      text: `${factor.label}: ${formatMetricValue(reason.value, def?.unit)}${bound ? `; ${bound} scores ${better!.points - reason.points} more` : ""}`,
      item: {
        factor: factor.code,
        label: factor.label,
        metric: factor.metric,
        unit: def?.unit ?? "count",
        value: reason.value === null || reason.value === undefined ? null : String(reason.value),
        ...(boundKind
          ? { boundKind, bound: String(boundKind === "min" ? better!.min : better!.max), points: String(better!.points - reason.points) }
          : {}),
      },
    });
  }
  gains.sort((a, b) => b.gain - a.gain);
  const top = gains.slice(0, 3);
  return {
    text: top.length ? `Most room: ${top.map((g) => g.text).join("; ")}.` : "",
    items: top.map((g) => g.item),
  };
}
