/**
 * Collects a decision's input snapshot from the index: the borrower's metrics, its risk flags, the
 * pledged receivables as collateral and each debtor's own metrics (for its buyer-quality tier).
 * Everything is read as of the instant `asOf` (the decision's moment, not the end of its day), so the
 * snapshot, and the decision made from it, can be stored and re-run later without the index.
 */
import { compareIds, type Address, type IndexState, type ReceivableEntity } from "../domain/entities";
import { computeMetricsAt, computeSelectedMetricsAt, metricSelection, type MetricSelection } from "../metrics/compute";
import type { RiskParams } from "../risk/params";
import { screenBorrower, type RiskFlag } from "../risk/screen";
import { debtorTier, type CollateralItem, type DebtorTier, type DecisionInput, type MetricValues } from "./decide";
import type { Policy } from "./policy";

export interface ApplicationTerms {
  borrower: Address;
  lender: Address;
  amount: bigint;
  termDays: number;
  receivableIds: string[];
}

/** A receivable the borrower may pledge now: confirmed, held by it, not pledged to a live loan, not matured. */
export function isPledgeable(state: IndexState, r: ReceivableEntity, borrower: Address, asOf: number): boolean {
  if (r.status !== "Confirmed" || r.holder !== borrower || r.paid >= r.faceValue || r.maturity <= asOf) return false;
  const loan = r.pledgedLoanId === undefined ? undefined : state.loans[r.pledgedLoanId];
  return !(loan && (loan.status === "Signed" || loan.status === "Active" || loan.status === "Defaulted"));
}

export function collateralItem(r: ReceivableEntity): CollateralItem {
  return { id: r.id, faceValue: r.faceValue, outstanding: r.faceValue - r.paid, debtor: r.debtor, maturity: r.maturity };
}

/** The borrower's pledgeable receivables, in id order (what the application form preselects). */
export function pledgeableReceivables(state: IndexState, borrower: Address, asOf: number): ReceivableEntity[] {
  const who = borrower.toLowerCase() as Address;
  return [...new Set(state.receivablesByParty[who] ?? [])]
    .map((id) => state.receivables[id])
    .filter((r): r is ReceivableEntity => !!r && isPledgeable(state, r, who, asOf))
    .sort((a, b) => compareIds(a.id, b.id));
}

/**
 * Each named receivable if the borrower may pledge it now, else undefined, in the order named: read by
 * id, not by listing everything the borrower holds (a supplier that splits its invoices holds many).
 */
export function pledgeableByIds(
  state: IndexState,
  borrower: Address,
  ids: readonly string[],
  asOf: number,
): (ReceivableEntity | undefined)[] {
  const who = borrower.toLowerCase() as Address;
  return ids.map((id) => {
    const r = state.receivables[id];
    return r && isPledgeable(state, r, who, asOf) ? r : undefined;
  });
}

const tierSelections = new WeakMap<Policy, MetricSelection>();

/** The debtor metrics the policy's tiers read (their conditions' metric and window): all debtorTier needs. */
export function tierMetrics(policy: Policy): MetricSelection {
  let selection = tierSelections.get(policy);
  if (!selection) {
    selection = metricSelection(policy.advance.tiers.flatMap((t) => t.conditions.map((c) => ({ metric: c.metric, window: c.window }))));
    tierSelections.set(policy, selection);
  }
  return selection;
}

/**
 * The snapshot `decide()` reads. A requested receivable that is not pledgeable is left out of the
 * collateral, which the decision reports as `collateral_unavailable`.
 */
export function collectDecisionInput(
  state: IndexState,
  application: ApplicationTerms,
  opts: {
    asOf: number;
    riskParams?: Partial<RiskParams>;
    policy?: Policy;
    /** With the policy: the debtors' tier metrics at asOf when the caller has read them (a reader counts them in the database). */
    debtorMetrics?: Record<Address, MetricValues>;
    /** The borrower's fraud screen at asOf with `riskParams` when the caller has run it (screenBorrower). */
    flags?: RiskFlag[];
    /** The borrower's metrics at asOf when the caller has computed them (ApplicationIndex.metricsAt). */
    metrics?: MetricValues;
  },
): DecisionInput {
  const { asOf } = opts;
  const borrower = application.borrower.toLowerCase() as Address;
  const collateral = application.receivableIds
    .map((id) => state.receivables[id])
    .filter((r): r is ReceivableEntity => !!r && isPledgeable(state, r, borrower, asOf))
    .map(collateralItem);
  // With the policy, a debtor's data enters the snapshot only as its tier and advance rate: the debtor
  // has not consented to share its metrics with the borrower's lender.
  const debtors: Record<Address, MetricValues> = {};
  const debtorTiers: Record<Address, DebtorTier> = {};
  for (const debtor of [...new Set(collateral.map((c) => c.debtor))].sort()) {
    // A tier reads a few of the debtor's metrics: only those are computed (the same values as in full).
    if (opts.policy)
      debtorTiers[debtor] = debtorTier(
        opts.debtorMetrics?.[debtor] ?? computeSelectedMetricsAt(state, debtor, asOf, tierMetrics(opts.policy)).values,
        opts.policy,
      );
    else debtors[debtor] = computeMetricsAt(state, debtor, asOf).values;
  }
  return {
    application: {
      borrower,
      lender: application.lender.toLowerCase() as Address,
      amount: application.amount,
      termDays: application.termDays,
      receivableIds: [...application.receivableIds],
    },
    metrics: opts.metrics ?? computeMetricsAt(state, borrower, asOf).values,
    flags: opts.flags ?? screenBorrower(state, borrower, { asOf, params: opts.riskParams }),
    collateral,
    ...(opts.policy ? { debtorTiers } : { debtors }),
    asOf,
  };
}
