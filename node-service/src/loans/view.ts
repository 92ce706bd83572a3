/**
 * A loan as its borrower follows it after signing: the balance (principal, interest, total due, repaid,
 * outstanding), the due date, the repayment schedule, and the history of money movements (disbursement,
 * the borrower's own repayments, and collections: debtors paying pledged receivables, whose waterfall
 * repays the loan first). A pure function of the indexed chain state and a clock (block time).
 */
import type { Hex } from "viem";
import { compareIds, type Address, type IndexState, type LoanEntity, type LoanStatus } from "../domain/entities";
import { DAY } from "../domain/time";

const YEAR = 365 * DAY;

/**
 * Principal plus simple interest from `start` to `maturity`, rounded down: the same formula as
 * LoanAgreements.totalDueOf (checked against the contract in the tests), so a quote matches the chain.
 */
export function totalDueOf(principal: bigint, rateBps: bigint | number, start: number, maturity: number): bigint {
  if (maturity < start) throw new RangeError(`maturity ${maturity} is before start ${start}`);
  return principal + (principal * BigInt(rateBps) * BigInt(maturity - start)) / (BigInt(YEAR) * 10_000n);
}

/** Where a loan stands for its borrower: the chain's status, and "overdue" for a live loan past maturity. */
export type LoanStanding = LoanStatus | "Overdue";

/**
 * What a loan owes at `asOf`, the one computation the borrower's view (loanView) and the lender's
 * portfolio (lending/portfolio.ts) both use, so they cannot disagree about the same loan.
 */
export interface LoanBalance {
  standing: LoanStanding;
  /** totalDue - repaid while the loan takes repayment (Active or Defaulted); 0 otherwise. */
  outstanding: bigint;
  /** Live, with an outstanding balance, and past maturity. */
  pastDue: boolean;
  /** Whole days since maturity while past due; 0 before maturity; null for a loan that is not live. */
  daysPastDue: number | null;
}

export function loanBalance(loan: Pick<LoanEntity, "status" | "totalDue" | "repaid" | "maturity">, asOf: number): LoanBalance {
  const live = takesRepayment(loan);
  const outstanding = live ? loan.totalDue - loan.repaid : 0n;
  const pastDue = outstanding > 0n && asOf > loan.maturity;
  return {
    standing: loan.status === "Active" && pastDue ? "Overdue" : loan.status,
    outstanding,
    pastDue,
    daysPastDue: !live ? null : pastDue ? Math.floor((asOf - loan.maturity) / DAY) : 0,
  };
}

export interface LoanHistoryEntry {
  kind: "disbursement" | "repayment" | "collection";
  at: number;
  amount: bigint;
  /** The collection's receivable and its debtor (who paid). */
  receivableId?: string;
  debtor?: Address;
  txHash: Hex;
  blockNumber: number;
}

export interface LoanScheduleEntry {
  /** The one instalment: the whole total due at maturity (the terms are bullet loans). */
  due: number;
  amount: bigint;
  paid: bigint;
  outstanding: bigint;
  status: "paid" | "due" | "overdue" | "not_due";
}

export interface LoanCollateralView {
  receivableId: string;
  debtor?: Address;
  faceValue?: bigint;
  paid?: bigint;
  maturity?: number;
  status?: string;
}

export interface LoanView {
  id: string;
  borrower: Address;
  lender: Address;
  currency: Address;
  status: LoanStatus;
  standing: LoanStanding;
  principal: bigint;
  interest: bigint;
  totalDue: bigint;
  repaid: bigint;
  outstanding: bigint;
  rateBps: number;
  start: number;
  maturity: number;
  disburseBy: number;
  recordedAt: number;
  disbursedAt?: number;
  closedAt?: number;
  defaultedAt?: number;
  cancelledAt?: number;
  /** Whole days from `asOf` to maturity (negative once past). */
  daysToMaturity: number;
  /** Whole days since maturity while past due; 0 before; null when not live (loanBalance, as the lender's portfolio). */
  daysPastDue: number | null;
  schedule: LoanScheduleEntry[];
  collateral: LoanCollateralView[];
  history: LoanHistoryEntry[];
  documentHash: Hex;
  asOf: number;
}

const LIVE: ReadonlySet<LoanStatus> = new Set(["Active", "Defaulted"]);

export function loanView(state: IndexState, loan: LoanEntity, asOf: number): LoanView {
  const { standing, outstanding, pastDue, daysPastDue } = loanBalance(loan, asOf);
  const history: LoanHistoryEntry[] = [];
  const disbursed = loan.events.find((e) => e.event === "LoanDisbursed");
  if (disbursed && loan.disbursedAt !== undefined) {
    history.push({
      kind: "disbursement",
      at: disbursed.at,
      amount: loan.principal,
      txHash: disbursed.txHash,
      blockNumber: disbursed.blockNumber,
    });
  }
  for (const r of loan.repayments) {
    const entry: LoanHistoryEntry = {
      kind: r.receivableId ? "collection" : "repayment",
      at: r.at,
      amount: r.amount,
      txHash: r.ref.txHash,
      blockNumber: r.ref.blockNumber,
    };
    if (r.receivableId) {
      entry.receivableId = r.receivableId;
      const debtor = state.receivables[r.receivableId]?.debtor;
      if (debtor) entry.debtor = debtor;
    }
    history.push(entry);
  }
  history.sort((a, b) => a.blockNumber - b.blockNumber || a.at - b.at);
  const scheduleStatus: LoanScheduleEntry["status"] =
    outstanding === 0n ? "paid" : pastDue ? "overdue" : loan.maturity - asOf <= DAY ? "due" : "not_due";
  const view: LoanView = {
    id: loan.id,
    borrower: loan.borrower,
    lender: loan.lender,
    currency: loan.currency,
    status: loan.status,
    standing,
    principal: loan.principal,
    interest: loan.totalDue - loan.principal,
    totalDue: loan.totalDue,
    repaid: loan.repaid,
    outstanding,
    rateBps: loan.rateBps,
    start: loan.start,
    maturity: loan.maturity,
    disburseBy: loan.disburseBy,
    recordedAt: loan.recordedAt,
    daysToMaturity: Math.floor((loan.maturity - asOf) / DAY),
    daysPastDue,
    schedule:
      loan.status === "Signed" || loan.status === "Cancelled"
        ? []
        : [{ due: loan.maturity, amount: loan.totalDue, paid: loan.repaid, outstanding, status: scheduleStatus }],
    collateral: loan.collateral.map((id) => {
      const r = state.receivables[id];
      return r
        ? { receivableId: id, debtor: r.debtor, faceValue: r.faceValue, paid: r.paid, maturity: r.maturity, status: r.status }
        : { receivableId: id };
    }),
    history,
    documentHash: loan.documentHash,
    asOf,
  };
  for (const k of ["disbursedAt", "closedAt", "defaultedAt", "cancelledAt"] as const) if (loan[k] !== undefined) view[k] = loan[k];
  return view;
}

/** Whether repayments are still taken on chain (LoanAgreements.repay: Active or Defaulted). */
export function takesRepayment(loan: Pick<LoanEntity, "status">): boolean {
  return LIVE.has(loan.status);
}

/** The loans of `party` (as borrower or lender), newest first. */
export function loansOf(state: IndexState, party: Address): LoanEntity[] {
  return (state.loansByParty[party] ?? [])
    .map((id) => state.loans[id])
    .filter((l): l is LoanEntity => !!l)
    .sort((a, b) => compareIds(b.id, a.id));
}
