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
    /** Longest cycle searched through the borrower; the default is the bound bench:fraud measured within budget. */
    maxCycleLength: z.number().int().min(2).max(12),
    /** Stop after this many cycles: the flag says "at least", the evidence stays readable. */
    maxCycles: z.number().int().positive(),
    /** Edge expansions allowed per screening (backward and forward pass): bounds the cycle search on a dense graph. */
    cycleSearchBudget: z.number().int().positive(),
    /** A cycle counts only if each of its edges carries at least this share of the borrower's own trade (bought + sold) in the window. */
    cycleMinEdgeShare: z.number().min(0).max(1),
    /** ...and its smallest edge is at least this share of its largest (a scrap leg of 4% does not make a ring). */
    cycleMinBalance: z.number().min(0).max(1),
    /** Related parties: a shared attribute value held by more participants than this is common (a registered agent's address), not a link. */
    relatedMaxFanout: z.number().int().positive(),
    /** Related parties: strength (0..1, product along the path of 1 - prod(1 - weight) per link) from which two participants are related. */
    relatedMinStrength: z.number().min(0).max(1),
    /** Related parties: longest chain of participants walked (1 = shared attributes only). */
    relatedMaxHops: z.number().int().min(1).max(6),
    /** Farmed history: orders created this many days before `asOf` are judged. */
    farmLookbackDays: z.number().int().positive(),
    /** A counterparty is captive when at least this share of all its orders by `asOf` are with the borrower... */
    farmCaptiveShare: z.number().min(0).max(1),
    /** ...and it placed at least this many of them (one trial order is not a relationship)... */
    farmCaptiveMinOrders: z.number().int().positive(),
    /** ...and it was admitted at least this many days after the borrower (made for it)... */
    farmCaptiveLagDays: z.number().int().min(0),
    /** ...or its median order with the borrower is below this absolute amount (minor units): cheap history. */
    farmSmallOrderMax: z.bigint().positive(),
    /** Farmed history: at least this many captive counterparties... */
    farmMinCounterparties: z.number().int().positive(),
    /** ...with at least this many orders in all... */
    farmMinOrders: z.number().int().positive(),
    /** ...making at least this share of the borrower's orders in the lookback. */
    farmMinShare: z.number().min(0).max(1),
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
    /** Round-tripping: the borrower's outgoing transfers in this many days before `asOf` are followed. */
    roundTripLookbackDays: z.number().int().positive(),
    /** Round-tripping: an intermediary's onward transfers count when made within this many days of receiving. */
    roundTripHoldDays: z.number().int().positive(),
    /** Round-tripping: longest chain of transfers followed (borrower -> ... -> back). */
    roundTripMaxHops: z.number().int().min(2).max(8),
    /** Round-tripping: flag when the traced value that came back is at least this share of what left. */
    roundTripMinShare: z.number().min(0).max(1),
    /** Round-tripping: ...and at least this amount (minor units). */
    roundTripMinAmount: z.bigint().nonnegative(),
    /** Round-tripping: transfers read per screening. */
    roundTripBudget: z.number().int().positive(),
    /** Reused purchase-order documents: orders created this many days before `asOf` are checked. */
    documentLookbackDays: z.number().int().positive(),
    /** Evidence references kept per flag (the details still count all of them). */
    maxEvidence: z.number().int().positive(),
  })
  .refine((p) => p.minCycleLength <= p.maxCycleLength, {
    message: "minCycleLength must not exceed maxCycleLength",
    path: ["minCycleLength"],
  });

export type RiskParams = z.infer<typeof RiskParamsSchema>;

export const DEFAULT_RISK_PARAMS: RiskParams = {
  cycleWindowDays: 180,
  minCycleLength: 3,
  maxCycleLength: 8,
  maxCycles: 10,
  cycleSearchBudget: 50_000,
  cycleMinEdgeShare: 0.1,
  cycleMinBalance: 0.25,
  relatedMaxFanout: 20,
  relatedMinStrength: 0.7,
  relatedMaxHops: 3,
  farmLookbackDays: 365,
  farmCaptiveShare: 0.8,
  farmCaptiveMinOrders: 2,
  farmCaptiveLagDays: 7,
  farmSmallOrderMax: 1_000_000n, // 10,000.00 in a 2-decimal currency
  farmMinCounterparties: 2,
  farmMinOrders: 5,
  farmMinShare: 0.5,
  concentrationWindowDays: 365,
  concentrationShare: 0.6,
  concentrationMinOrders: 3,
  leniencyWindowDays: 365,
  leniencyMinOrders: 5,
  leniencyDisputeRate: 0.3,
  roundTripLookbackDays: 365,
  roundTripHoldDays: 30,
  roundTripMaxHops: 4,
  roundTripMinShare: 0.5,
  roundTripMinAmount: 100_000n, // 1,000.00 in a 2-decimal currency
  roundTripBudget: 20_000,
  documentLookbackDays: 365,
  maxEvidence: 50,
};

/** Defaults with the caller's overrides applied, validated as a whole. */
export function resolveRiskParams(overrides?: Partial<RiskParams>): RiskParams {
  if (!overrides) return DEFAULT_RISK_PARAMS;
  return RiskParamsSchema.parse({ ...DEFAULT_RISK_PARAMS, ...overrides });
}
