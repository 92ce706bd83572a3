/**
 * The underwriting policy as data: hard rules, a scorecard of bands over the metrics, thresholds,
 * advance rates by buyer quality, pricing and term. A policy is a versioned JSON file under
 * policies/; this schema is what makes a file a policy. Changing a number means a new version, so a
 * stored decision always names the exact rules it was made under.
 */
import { z } from "zod";
import { METRIC_WINDOWS, metricDefinition, type MetricWindow } from "../metrics/definitions";
import v1 from "./policies/v1.json";

export { METRIC_WINDOWS, type MetricWindow };

const Window = z.enum(METRIC_WINDOWS);
const Severity = z.enum(["info", "warn", "block"]);
const Code = z.string().regex(/^[a-z][a-z0-9_]*$/, "a snake_case reason code");
const Bps = z.number().int().min(0).max(10_000);
/** A bound compared with a metric value: a number, or an integer string for bigint metrics (minor units). */
const Bound = z.union([z.number().finite(), z.string().regex(/^-?(0|[1-9][0-9]*)$/, "an integer string")]);
const Op = z.enum(["<", "<=", ">", ">=", "==", "!="]);

export const MetricConditionSchema = z.object({
  metric: z.string().min(1),
  window: Window,
  op: Op,
  value: Bound,
});

const HardRuleSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("metric"),
    code: Code,
    ...MetricConditionSchema.shape,
    outcome: z.enum(["refer", "decline"]),
    message: z.string().min(1),
    /** What a missing metric does: "skip" the rule, or "trigger" it (e.g. no history at all). */
    whenMissing: z.enum(["skip", "trigger"]),
  }),
  z.object({
    kind: z.literal("flag"),
    code: Code,
    /** A risk flag code, or "*" for any flag at or above minSeverity. */
    flag: z.string().min(1),
    minSeverity: Severity,
    outcome: z.enum(["refer", "decline"]),
    message: z.string().min(1),
  }),
]);

/** A band matches when min <= value < max (either side open when absent); the first match scores. */
const BandSchema = z.object({ min: Bound.optional(), max: Bound.optional(), points: z.number().int() });

const FactorSchema = z.object({
  code: Code,
  label: z.string().min(1),
  metric: z.string().min(1),
  window: Window,
  bands: z.array(BandSchema).min(1),
  /** Points when the metric is missing or null (no history to judge). */
  missingPoints: z.number().int(),
});

const FlagPenaltySchema = z.object({
  code: Code,
  flag: z.string().min(1),
  minSeverity: Severity,
  /** Usually negative. */
  points: z.number().int(),
  /** Apply once per matching flag, or once if any matches. */
  perFlag: z.boolean(),
});

const TierSchema = z.object({
  tier: z.string().min(1),
  advanceRateBps: Bps,
  /** Over the debtor's own metrics; all must hold. */
  conditions: z.array(MetricConditionSchema),
});

export const PolicySchema = z
  .object({
    version: z.string().min(1),
    name: z.string().min(1),
    description: z.string(),
    hardRules: z.array(HardRuleSchema),
    scorecard: z.object({
      base: z.number().int(),
      minScore: z.number().int(),
      maxScore: z.number().int(),
      factors: z.array(FactorSchema),
      flagPenalties: z.array(FlagPenaltySchema),
    }),
    thresholds: z.object({ approveMin: z.number().int(), declineBelow: z.number().int() }),
    advance: z.object({
      /** Buyer quality tiers, best first; the first whose conditions the debtor meets applies. */
      tiers: z.array(TierSchema),
      /** A debtor that meets no tier, or whose metrics are not in the input. */
      defaultTier: z.object({ tier: z.string().min(1), advanceRateBps: Bps }),
    }),
    /** Rate by score, highest minScore first; the first band the score reaches applies. */
    pricing: z.object({ bands: z.array(z.object({ minScore: z.number().int(), rateBps: z.number().int().min(0).max(100_000) })).min(1) }),
    maxTermDays: z.number().int().positive(),
    /** Smallest amount lent, minor units as a decimal string. */
    minAmount: z.string().regex(/^(0|[1-9][0-9]*)$/),
    aboveLimit: z.enum(["refer", "decline"]),
    aboveMaxTerm: z.enum(["refer", "decline"]),
  })
  .refine((p) => p.thresholds.approveMin >= p.thresholds.declineBelow, {
    message: "approveMin must be at least declineBelow",
    path: ["thresholds"],
  })
  .refine((p) => p.pricing.bands.some((b) => b.minScore <= p.scorecard.minScore), {
    message: "a pricing band must cover the lowest score",
    path: ["pricing", "bands"],
  })
  .refine((p) => p.pricing.bands.every((b, i, all) => i === 0 || all[i - 1].minScore > b.minScore), {
    message: "pricing bands must be ordered by minScore, highest first",
    path: ["pricing", "bands"],
  })
  // Missing debtor data must never raise a limit: the default tier is the most conservative.
  .refine((p) => p.advance.tiers.every((t) => t.advanceRateBps >= p.advance.defaultTier.advanceRateBps), {
    message: "no tier may advance less than the default tier",
    path: ["advance", "defaultTier"],
  })

  // A rule over a metric the service does not compute would silently never fire: refuse it.
  .superRefine((p, ctx) => {
    const refs: { metric: string; window: MetricWindow; path: (string | number)[] }[] = [
      ...p.hardRules.flatMap((r, i) => (r.kind === "metric" ? [{ metric: r.metric, window: r.window, path: ["hardRules", i] }] : [])),
      ...p.scorecard.factors.map((f, i) => ({ metric: f.metric, window: f.window, path: ["scorecard", "factors", i] })),
      ...p.advance.tiers.flatMap((t, i) =>
        t.conditions.map((c, j) => ({ metric: c.metric, window: c.window, path: ["advance", "tiers", i, "conditions", j] })),
      ),
    ];
    for (const ref of refs) {
      const def = metricDefinition(ref.metric);
      if (!def) ctx.addIssue({ code: "custom", message: `unknown metric ${ref.metric}`, path: [...ref.path, "metric"] });
      else if (!def.windows.includes(ref.window)) {
        ctx.addIssue({ code: "custom", message: `metric ${ref.metric} has no window ${ref.window}`, path: [...ref.path, "window"] });
      }
    }
  });

export type Policy = z.infer<typeof PolicySchema>;
export type HardRule = z.infer<typeof HardRuleSchema>;
export type MetricCondition = z.infer<typeof MetricConditionSchema>;

/** Throws a ZodError naming the offending path when `data` is not a valid policy. */
export function parsePolicy(data: unknown): Policy {
  return PolicySchema.parse(data);
}

const POLICIES: Record<string, Policy> = { v1: parsePolicy(v1) };

/** The policy new applications are decided under. */
export const CURRENT_POLICY: Policy = POLICIES.v1;

/** A stored decision's policy by its version (to re-run it). */
export function policyByVersion(version: string): Policy {
  const policy = POLICIES[version];
  if (!policy) throw new Error(`unknown underwriting policy version ${JSON.stringify(version)}`);
  return policy;
}
