/**
 * The thresholds of fraud screening, in one place with their defaults. Callers (the applications
 * service, tests, the lender's what-if) override single keys; the zod schema checks an override that
 * arrives from outside the process.
 */
import { z } from "zod";

export const RiskParamsSchema = z
  .object({
    /** Orders created this many days before `asOf` (and not cancelled) form the trade graph for cycles. */
    cycleWindowDays: z.number().int().positive(),
    /** Shortest cycle reported: 3 keeps ordinary two-way trade (A buys from B, B buys from A) clean. */
    minCycleLength: z.number().int().min(2),
    /** Longest cycle searched through the borrower (the search is depth-first and bounded by it). */
    maxCycleLength: z.number().int().min(2).max(6),
    /** Stop after this many cycles: the flag says "at least", the evidence stays readable. */
    maxCycles: z.number().int().positive(),
    /** Node expansions allowed per screening: bounds the cycle search on a dense graph. */
    cycleSearchBudget: z.number().int().positive(),
    /** Farmed history: the burst window before `asOf`. */
    farmWindowDays: z.number().int().positive(),
    /** Farmed history: at least this many small orders from thin counterparties inside the window. */
    farmMinOrders: z.number().int().positive(),
    /** Farmed history: those orders are at least this share of all the borrower's orders in the window. */
    farmMinShare: z.number().min(0).max(1),
    /** A counterparty is "thin" with at most this many orders with anyone but the borrower before `asOf`. */
    farmThinMaxOtherOrders: z.number().int().min(0),
    /** "Small" means at most this fraction of the borrower's median order before the window... */
    farmSmallFraction: z.number().positive(),
    /** ...which needs at least this many orders before the window; otherwise the absolute cap below. */
    farmMinPriorOrders: z.number().int().positive(),
    /** Absolute cap of a "small" order for a borrower without prior history (minor units). */
    farmSmallOrderMax: z.bigint().positive(),
    /** Buyer concentration: orders (as supplier, not cancelled) created in this window. */
    concentrationWindowDays: z.number().int().positive(),
    /** Buyer concentration: flag when one buyer's share of order value exceeds this. */
    concentrationShare: z.number().min(0).max(1),
    /** Buyer concentration: not judged below this many orders. */
    concentrationMinOrders: z.number().int().positive(),
    /** Selective leniency: orders shipped in this window. */
    leniencyWindowDays: z.number().int().positive(),
    /** Selective leniency: the buyer disputed none of at least this many shipments from the borrower... */
    leniencyMinOrders: z.number().int().positive(),
    /** ...while disputing at least this share of at least leniencyMinOrders shipments from other suppliers. */
    leniencyDisputeRate: z.number().min(0).max(1),
    /** Evidence references kept per flag (the details still count all of them). */
    maxEvidence: z.number().int().positive(),
  })
  .refine((p) => p.minCycleLength <= p.maxCycleLength, { message: "minCycleLength must not exceed maxCycleLength", path: ["minCycleLength"] });

export type RiskParams = z.infer<typeof RiskParamsSchema>;

export const DEFAULT_RISK_PARAMS: RiskParams = {
  cycleWindowDays: 180,
  minCycleLength: 3,
  maxCycleLength: 4,
  maxCycles: 10,
  cycleSearchBudget: 50_000,
  farmWindowDays: 30,
  farmMinOrders: 5,
  farmMinShare: 0.5,
  farmThinMaxOtherOrders: 1,
  farmSmallFraction: 0.25,
  farmMinPriorOrders: 3,
  farmSmallOrderMax: 1_000_000n, // 10,000.00 in a 2-decimal currency
  concentrationWindowDays: 365,
  concentrationShare: 0.6,
  concentrationMinOrders: 3,
  leniencyWindowDays: 365,
  leniencyMinOrders: 5,
  leniencyDisputeRate: 0.3,
  maxEvidence: 50,
};

/** Defaults with the caller's overrides applied, validated as a whole. */
export function resolveRiskParams(overrides?: Partial<RiskParams>): RiskParams {
  if (!overrides) return DEFAULT_RISK_PARAMS;
  return RiskParamsSchema.parse({ ...DEFAULT_RISK_PARAMS, ...overrides });
}
