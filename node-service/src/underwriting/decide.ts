/**
 * The underwriting decision: a pure function of its input snapshot and the policy. No clock, no
 * randomness, no I/O: the same input and policy give a deep-equal Decision, so a stored decision can
 * be re-run from its snapshot (after a JSON round trip through the canonical form) and checked.
 *
 * Order of judgement: hard rules (metrics, risk flags), then the scorecard (bands over the metrics,
 * penalties for flags) and its thresholds, then the collateral limit (advance rate on the outstanding
 * face value by the debtor's quality tier), the amount and the term. The worst outcome wins; every
 * step leaves a reason with the value that produced it.
 */
import { formatMoney, moneyWithRaw } from "../domain/money";
import type { Hex } from "viem";
import { z } from "zod";
import type { Address, EventRef } from "../domain/entities";
import type { MetricValue } from "../metrics/compute";
import { SEVERITY_RANK, type RiskFlag } from "../risk/screen";
import { canonicalJson } from "./canonical";
import { sha256Hex } from "../domain/hash";
import { METRIC_WINDOWS, type MetricCondition, type MetricWindow, type Policy } from "./policy";

/** Metric key -> window -> value, the shape of computeMetrics(...).values. */
export type MetricValues = Record<string, Partial<Record<MetricWindow, MetricValue>>>;

export interface CollateralItem {
  id: string;
  faceValue: bigint;
  /** faceValue minus what the debtor paid already. */
  outstanding: bigint;
  debtor: Address;
  maturity: number;
}

export interface DecisionInput {
  application: { borrower: Address; lender: Address; amount: bigint; termDays: number; receivableIds: string[] };
  metrics: MetricValues;
  flags: RiskFlag[];
  /** The pledged receivables (confirmed, held by the borrower, not pledged to a live loan). */
  collateral: CollateralItem[];
  /** Each debtor's own metrics, for its buyer-quality tier. A debtor absent here gets the policy's default tier. */
  debtors?: Record<Address, MetricValues>;
  /**
   * Each debtor's tier as resolved at collection, instead of its metrics: all the policy needs of a
   * debtor that has not consented to share its data (see collectDecisionInput's `policy`). Wins over `debtors`.
   */
  debtorTiers?: Record<Address, DebtorTier>;
  /** Block time the snapshot was taken at; also the decision's time. */
  asOf: number;
}

export type Outcome = "approve" | "refer" | "decline";

/** A debtor's buyer-quality tier and the advance rate it gives. */
export interface DebtorTier {
  tier: string;
  advanceRateBps: number;
}

export interface Reason {
  code: string;
  message: string;
  metric?: string;
  window?: MetricWindow;
  value?: string | number | null;
  points?: number;
  /** Set when this reason forces at least this outcome. */
  effect?: "refer" | "decline";
}

export interface CollateralLine {
  id: string;
  debtor: Address;
  tier: string;
  advanceRateBps: number;
  outstanding: bigint;
  /** outstanding * advanceRateBps / 10000 when eligible, else 0. */
  advance: bigint;
  eligible: boolean;
}

export interface Decision {
  policyVersion: string;
  inputHash: Hex;
  score: number;
  outcome: Outcome;
  reasons: Reason[];
  /** The most the pledged receivables allow: the sum of their advances. */
  limit: bigint;
  rateBps: number;
  maxTermDays: number;
  decidedAt: number;
  collateral: CollateralLine[];
}

const OUTCOME_RANK: Record<Outcome, number> = { approve: 0, refer: 1, decline: 2 };

/** sha256 over the canonical JSON of the input: the identity of the snapshot a decision was made from. */
export function snapshotHash(input: DecisionInput): Hex {
  return sha256Hex(canonicalJson(input));
}

/** sha256 over the canonical JSON of a decision (its input hash included): what the EvidenceNotary anchors. */
export function decisionHash(decision: Decision): Hex {
  return sha256Hex(canonicalJson(decision));
}

/**
 * With `hashInput: false` (the back-test, which neither stores nor anchors its decisions) the decision's
 * inputHash is left "0x" instead of hashing the canonical input.
 */
export function decide(input: DecisionInput, policy: Policy, opts: { hashInput?: boolean } = {}): Decision {
  const reasons: Reason[] = [];
  const { application, asOf } = input;

  // 1. Hard rules.
  const namedFlags = new Set(policy.hardRules.flatMap((r) => (r.kind === "flag" && r.flag !== "*" ? [r.flag] : [])));
  for (const rule of policy.hardRules) {
    if (rule.kind === "metric") {
      const value = metricValue(input.metrics, rule.metric, rule.window);
      if (value === null) {
        if (rule.whenMissing === "trigger") {
          reasons.push({
            code: rule.code,
            message: `${rule.message} (no data)`,
            metric: rule.metric,
            window: rule.window,
            value: null,
            effect: rule.outcome,
          });
        }
      } else if (holds(value, rule.op, rule.value)) {
        reasons.push({
          code: rule.code,
          message: `${rule.message} (${rule.metric} ${rule.window} = ${show(value)}, rule ${rule.op} ${boundText(rule.value, typeof value === "bigint")})`,
          metric: rule.metric,
          window: rule.window,
          value: jsonValue(value),
          effect: rule.outcome,
        });
      }
    } else {
      // A wildcard rule covers the flags no specific rule names, so one flag never yields two reasons.
      const matching = input.flags.filter(
        (f) =>
          (rule.flag === "*" ? !namedFlags.has(f.code) : f.code === rule.flag) &&
          SEVERITY_RANK[f.severity] >= SEVERITY_RANK[rule.minSeverity],
      );
      if (matching.length > 0) {
        reasons.push({
          code: rule.code,
          message: `${rule.message}: ${matching[0].summary}${matching.length > 1 ? ` (and ${matching.length - 1} more)` : ""}`,
          value: matching.length,
          effect: rule.outcome,
        });
      }
    }
  }

  // 2. Scorecard.
  const card = policy.scorecard;
  let total = card.base;
  for (const factor of card.factors) {
    const value = metricValue(input.metrics, factor.metric, factor.window);
    let points = factor.missingPoints;
    let message = `${factor.label}: no data, ${points} points`;
    if (value !== null) {
      const band = factor.bands.find(
        (b) => (b.min === undefined || cmp(value, b.min) >= 0) && (b.max === undefined || cmp(value, b.max) < 0),
      );
      points = band ? band.points : 0;
      message = `${factor.label}: ${show(value)}${band ? ` in band ${bandText(band, typeof value === "bigint")}` : " in no band"}, ${points} points`;
    }
    total += points;
    reasons.push({ code: factor.code, message, metric: factor.metric, window: factor.window, value: jsonValue(value), points });
  }
  for (const penalty of card.flagPenalties) {
    const n = input.flags.filter((f) => f.code === penalty.flag && SEVERITY_RANK[f.severity] >= SEVERITY_RANK[penalty.minSeverity]).length;
    if (n === 0) continue;
    const points = penalty.perFlag ? penalty.points * n : penalty.points;
    total += points;
    reasons.push({ code: penalty.code, message: `${n} ${penalty.flag} flag(s), ${points} points`, value: n, points });
  }
  const score = Math.min(card.maxScore, Math.max(card.minScore, total));
  const { approveMin, declineBelow } = policy.thresholds;
  if (score >= approveMin) {
    reasons.push({ code: "score_approve", message: `score ${score} reaches the approval threshold ${approveMin}`, value: score });
  } else if (score < declineBelow) {
    reasons.push({
      code: "score_decline",
      message: `score ${score} is below the decline threshold ${declineBelow}`,
      value: score,
      effect: "decline",
    });
  } else {
    reasons.push({
      code: "score_refer",
      message: `score ${score} is between the decline threshold ${declineBelow} and the approval threshold ${approveMin}`,
      value: score,
      effect: "refer",
    });
  }

  // 3. Collateral and limit.
  const pledged = new Set(application.receivableIds);
  const lines = collateralLines(
    input.collateral.filter((c) => pledged.has(c.id)),
    policy,
    { asOf, debtors: input.debtors, debtorTiers: input.debtorTiers },
  );
  const present = new Set(lines.map((l) => l.id));
  const missing = application.receivableIds.filter((id) => !present.has(id));
  if (missing.length > 0) {
    reasons.push({
      code: "collateral_unavailable",
      message: `receivable(s) ${missing.join(", ")} are not confirmed, unpledged receivables of the borrower`,
      value: missing.join(","),
      effect: "decline",
    });
  }
  for (const line of lines) {
    reasons.push({
      code: line.eligible ? "collateral_advance" : "collateral_matured",
      message: line.eligible
        ? `receivable ${line.id} owed by ${line.debtor}: tier ${line.tier}, ${pct(line.advanceRateBps)} of outstanding ${formatMoney(line.outstanding)} = ${moneyWithRaw(line.advance)}`
        : `receivable ${line.id} is past its maturity and counts for nothing`,
      value: line.advance.toString(),
    });
  }
  const limit = lines.reduce((s, l) => s + l.advance, 0n);

  // 4. Amount and term.
  const minAmount = BigInt(policy.minAmount);
  if (application.amount < minAmount) {
    reasons.push({
      code: "amount_below_minimum",
      message: `amount ${moneyWithRaw(application.amount)} is below the minimum ${moneyWithRaw(minAmount)}`,
      value: minAmount.toString(),
      effect: "decline",
    });
  }
  if (application.amount > limit) {
    reasons.push({
      code: "amount_above_limit",
      message: `amount ${moneyWithRaw(application.amount)} is above what the pledged receivables allow: the maximum is ${moneyWithRaw(limit)}`,
      value: limit.toString(),
      effect: policy.aboveLimit,
    });
  }
  if (application.termDays < 1) {
    reasons.push({
      code: "term_invalid",
      message: `term of ${application.termDays} days is not a term`,
      value: application.termDays,
      effect: "decline",
    });
  } else if (application.termDays > policy.maxTermDays) {
    reasons.push({
      code: "term_above_maximum",
      message: `term of ${application.termDays} days is above the maximum of ${policy.maxTermDays} days`,
      value: policy.maxTermDays,
      effect: policy.aboveMaxTerm,
    });
  }

  const outcome = reasons.reduce<Outcome>(
    (worst, r) => (r.effect && OUTCOME_RANK[r.effect] > OUTCOME_RANK[worst] ? r.effect : worst),
    "approve",
  );
  const rateBps = (policy.pricing.bands.find((b) => score >= b.minScore) ?? policy.pricing.bands[policy.pricing.bands.length - 1]).rateBps;

  return {
    policyVersion: policy.version,
    inputHash: opts.hashInput === false ? "0x" : snapshotHash(input),
    score,
    outcome,
    reasons,
    limit,
    rateBps,
    maxTermDays: policy.maxTermDays,
    decidedAt: asOf,
    collateral: lines,
  };
}

/**
 * Each pledged receivable's advance: outstanding face value times the advance rate of its debtor's
 * tier. With `asOf`, a receivable past maturity counts for nothing; without `debtors`, every debtor
 * is in the default (lowest) tier, so the figure can only rise once debtor data is supplied.
 */
export function collateralLines(
  collateral: CollateralItem[],
  policy: Policy,
  opts: { asOf?: number; debtors?: Record<Address, MetricValues>; debtorTiers?: Record<Address, DebtorTier> } = {},
): CollateralLine[] {
  return collateral.map((c) => {
    const tier = opts.debtorTiers?.[c.debtor] ?? debtorTier(opts.debtors?.[c.debtor], policy);
    const eligible = opts.asOf === undefined || c.maturity > opts.asOf;
    const advance = eligible && c.outstanding > 0n ? (c.outstanding * BigInt(tier.advanceRateBps)) / 10_000n : 0n;
    return {
      id: c.id,
      debtor: c.debtor,
      tier: tier.tier,
      advanceRateBps: tier.advanceRateBps,
      outstanding: c.outstanding,
      advance,
      eligible,
    };
  });
}

/** The first of the policy's tiers whose conditions the debtor's metrics meet, else its default tier. */
export function debtorTier(metrics: MetricValues | undefined, policy: Policy): DebtorTier {
  const tier =
    (metrics && policy.advance.tiers.find((t) => t.conditions.every((cond) => conditionHolds(metrics, cond)))) ||
    policy.advance.defaultTier;
  return { tier: tier.tier, advanceRateBps: tier.advanceRateBps };
}

/** The most a set of receivables allows under the policy (what the application form says as maximum). */
export function collateralLimit(
  collateral: CollateralItem[],
  policy: Policy,
  opts: { asOf?: number; debtors?: Record<Address, MetricValues> } = {},
): bigint {
  return collateralLines(collateral, policy, opts).reduce((s, l) => s + l.advance, 0n);
}

// ---------------------------------------------------------------- comparisons

function metricValue(metrics: MetricValues, key: string, window: MetricWindow): bigint | number | null {
  const v = metrics[key]?.[window];
  return v === undefined ? null : v;
}

function conditionHolds(metrics: MetricValues, cond: MetricCondition): boolean {
  const v = metricValue(metrics, cond.metric, cond.window);
  return v !== null && holds(v, cond.op, cond.value);
}

function holds(value: bigint | number, op: MetricCondition["op"], bound: number | string): boolean {
  const c = cmp(value, bound);
  switch (op) {
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
    case "==":
      return c === 0;
    case "!=":
      return c !== 0;
  }
}

/** Exact for bigint against integers (amounts past 2^53 stay exact), numeric otherwise. */
function cmp(value: bigint | number, bound: number | string): number {
  const b = typeof bound === "string" ? BigInt(bound) : bound;
  if (typeof value === "bigint" || typeof b === "bigint") {
    if (typeof value === "bigint" && typeof b === "bigint") return value < b ? -1 : value > b ? 1 : 0;
    const n = typeof value === "bigint" ? (b as number) : value;
    if (Number.isInteger(n)) {
      const x = typeof value === "bigint" ? value : BigInt(value);
      const y = typeof b === "bigint" ? b : BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
  const x = Number(value);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function jsonValue(v: bigint | number | null): string | number | null {
  return typeof v === "bigint" ? v.toString() : v;
}

/** A metric value in words: bigint metrics are amounts (minor units), shown in CNY with the raw value. */
function show(v: bigint | number): string {
  return typeof v === "bigint" ? moneyWithRaw(v) : String(v);
}

/** A rule's bound: in CNY when the metric is an amount and the bound a whole number of minor units. */
function boundText(x: number | string, money: boolean): string {
  return money && /^-?\d+$/.test(String(x)) ? formatMoney(BigInt(x)) : String(x);
}

function bandText(b: { min?: number | string; max?: number | string }, money = false): string {
  const f = (x: number | string) => boundText(x, money);
  if (b.min !== undefined && b.max !== undefined) return `[${f(b.min)}, ${f(b.max)})`;
  if (b.min !== undefined) return `>= ${f(b.min)}`;
  if (b.max !== undefined) return `< ${f(b.max)}`;
  return "(any)";
}

function pct(bps: number): string {
  return `${(bps / 100).toFixed(2)}%`;
}

// ---------------------------------------------------------------- JSON form

const AddressJson = z.string().regex(/^0x[0-9a-fA-F]{40}$/) as unknown as z.ZodType<Address>;
const HexJson = z.string().regex(/^0x[0-9a-fA-F]*$/) as unknown as z.ZodType<Hex>;
const Amount = z.union([
  z.bigint(),
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/)
    .transform((s) => BigInt(s)),
]);
const Id = z.string().regex(/^(0|[1-9][0-9]*)$/);
const MetricValueJson = z.union([
  z.null(),
  z.number().finite(),
  z.bigint(),
  z
    .string()
    .regex(/^-?(0|[1-9][0-9]*)$/)
    .transform((s) => BigInt(s)),
]);
const MetricValuesJson = z.record(z.string(), z.partialRecord(z.enum(METRIC_WINDOWS), MetricValueJson));

const EventRefJson: z.ZodType<EventRef> = z.object({
  contract: z.string(),
  event: z.string(),
  blockNumber: z.number().int().nonnegative(),
  blockHash: HexJson,
  txHash: HexJson,
  logIndex: z.number().int().nonnegative(),
  at: z.number().int().nonnegative(),
});

const RiskFlagJson: z.ZodType<RiskFlag> = z.object({
  code: z.string(),
  severity: z.enum(["info", "warn", "block"]),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()),
  evidence: z.array(EventRefJson),
});

export const DecisionInputJsonSchema = z.object({
  application: z.object({
    borrower: AddressJson,
    lender: AddressJson,
    amount: Amount,
    termDays: z.number().int(),
    receivableIds: z.array(Id),
  }),
  metrics: MetricValuesJson,
  flags: z.array(RiskFlagJson),
  collateral: z.array(
    z.object({ id: Id, faceValue: Amount, outstanding: Amount, debtor: AddressJson, maturity: z.number().int().nonnegative() }),
  ),
  debtors: z.record(AddressJson, MetricValuesJson).optional(),
  debtorTiers: z.record(AddressJson, z.object({ tier: z.string(), advanceRateBps: z.number().int() })).optional(),
  asOf: z.number().int().nonnegative(),
});

/** The canonical JSON form of an input (what is hashed and stored): plain data, amounts as decimal strings. */
export function decisionInputToJson(input: DecisionInput): unknown {
  return JSON.parse(canonicalJson(input));
}

/** Reads an input back from its stored JSON form (an object, or its text); throws a ZodError naming the field. */
export function decisionInputFromJson(json: unknown): DecisionInput {
  const data = typeof json === "string" ? JSON.parse(json) : json;
  return DecisionInputJsonSchema.parse(data) as DecisionInput;
}

const DecisionJsonSchema = z.object({
  policyVersion: z.string(),
  inputHash: HexJson,
  score: z.number(),
  outcome: z.enum(["approve", "refer", "decline"]),
  reasons: z.array(
    z.object({
      code: z.string(),
      message: z.string(),
      metric: z.string().optional(),
      window: z.enum(METRIC_WINDOWS).optional(),
      value: z.union([z.string(), z.number(), z.null()]).optional(),
      points: z.number().optional(),
      effect: z.enum(["refer", "decline"]).optional(),
    }),
  ),
  limit: Amount,
  rateBps: z.number().int(),
  maxTermDays: z.number().int(),
  decidedAt: z.number().int(),
  collateral: z.array(
    z.object({
      id: Id,
      debtor: AddressJson,
      tier: z.string(),
      advanceRateBps: z.number().int(),
      outstanding: Amount,
      advance: Amount,
      eligible: z.boolean(),
    }),
  ),
});

export function decisionToJson(decision: Decision): unknown {
  return JSON.parse(canonicalJson(decision));
}

export function decisionFromJson(json: unknown): Decision {
  const data = typeof json === "string" ? JSON.parse(json) : json;
  return DecisionJsonSchema.parse(data) as Decision;
}
