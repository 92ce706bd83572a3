/**
 * A lender's portfolio at a point in (block) time, from the index: every loan it signed, the exposure
 * by borrower and by debtor of the pledged receivables, the maturities ahead, the loans past due (with
 * loan days past due) and the collections (direct repayments and receivable payments through the
 * waterfall, before and after a default). Pure: state + lender + time in, figures out; amounts stay
 * bigint minor units (decimal strings only at the API edge).
 *
 * Definitions (stated once here, repeated in the API answer's `definitions`):
 * - live loan: disbursed and not closed (Active or Defaulted); outstanding = totalDue - repaid.
 * - exposure by borrower: the outstanding of the borrower's live loans.
 * - exposure by debtor: each live loan's outstanding split over its collateral in proportion to what is
 *   still unpaid on each receivable (face value - paid; integer division, the remainder to the last),
 *   summed per debtor; with the unpaid face value of that collateral beside it. A loan whose collateral
 *   is fully paid keeps its outstanding under "no unpaid collateral" (debtor null).
 * - days past due (loan): whole days since maturity while a live loan has an outstanding balance; 0
 *   before maturity; null for a loan that is not live.
 * - collections: every LoanRepaid on the lender's loans, `via` the borrower (direct) or a receivable
 *   (the debtor's payment through the waterfall), flagged when it came after the loan's default.
 */
import { compareIds, type Address, type IndexState, type LoanEntity, type LoanStatus, type ReceivableStatus } from "../domain/entities";
import { DAY } from "../domain/time";
import { loanBalance } from "../loans/view";

/** A participant as people read it: the registered name where the service knows it, and the address. */
export interface Party {
  address: Address;
  /** The name the operator published for this address (absent when none is known). */
  name?: string;
  /** "verified": the name's opening matched the registry's commitment; "claim": it did not (participants/directory.ts). */
  nameStatus?: "verified" | "claim";
}

export interface PortfolioCollateral {
  id: string;
  debtor: Party;
  faceValue: bigint;
  paid: bigint;
  maturity: number;
  status: ReceivableStatus;
  /** Pledged to this loan now (false once paid, or when the loan no longer holds it). */
  pledged: boolean;
}

export interface PortfolioLoan {
  id: string;
  /** EIP-712 digest of the signed terms. */
  digest: string;
  /** sha256 of the agreement document. */
  documentHash: string;
  borrower: Party;
  status: LoanStatus;
  principal: bigint;
  rateBps: number;
  totalDue: bigint;
  repaid: bigint;
  outstanding: bigint;
  start: number;
  maturity: number;
  disbursedAt?: number;
  closedAt?: number;
  defaultedAt?: number;
  /** Whole days since maturity for a live loan with an outstanding balance; 0 before maturity; null when not live. */
  daysPastDue: number | null;
  /** When the lender may declare a default (maturity + the contract's grace period). */
  defaultableAt: number;
  collateral: PortfolioCollateral[];
}

export interface Exposure {
  party: Party | null;
  loans: number;
  outstanding: bigint;
  /** Unpaid face value of the collateral behind it (debtor rows only). */
  collateralUnpaid?: bigint;
  /** outstanding / total outstanding of live loans, 4 decimals (null when nothing is outstanding). */
  share: number | null;
}

export interface Collection {
  loanId: string;
  borrower: Party;
  at: number;
  amount: bigint;
  via: "borrower" | "receivable";
  receivableId?: string;
  debtor?: Party;
  afterDefault: boolean;
  txHash: string;
  blockNumber: number;
}

export interface MonthFigure {
  /** "YYYY-MM" (UTC). */
  month: string;
  amount: bigint;
  /** The month of `asOf`, still running. */
  partial: boolean;
}

export interface Portfolio {
  lender: Party;
  asOf: number;
  totals: {
    loans: number;
    live: number;
    disbursed: bigint;
    outstanding: bigint;
    overdueLoans: number;
    overdueOutstanding: bigint;
    defaulted: number;
    collected: bigint;
    collectedAfterDefault: bigint;
  };
  loans: PortfolioLoan[];
  exposureByBorrower: Exposure[];
  exposureByDebtor: Exposure[];
  /** Live loans not yet matured, soonest first, with whole days to maturity. */
  upcomingMaturities: { loanId: string; borrower: Party; maturity: number; inDays: number; outstanding: bigint }[];
  /** Live loans past maturity with an outstanding balance, most days past due first. */
  overdue: {
    loanId: string;
    borrower: Party;
    maturity: number;
    daysPastDue: number;
    outstanding: bigint;
    status: LoanStatus;
    defaultableAt: number;
  }[];
  /** Newest first. */
  collections: Collection[];
  /** Collections per calendar month (UTC) of the last 12 months up to asOf's month. */
  collectionsByMonth: MonthFigure[];
  /** Outstanding of live loans by the month they mature, from asOf's month, 6 months ahead (overdue ones in asOf's month). */
  maturitiesByMonth: MonthFigure[];
}

export const PORTFOLIO_DEFINITIONS = {
  outstanding: "totalDue - repaid of a disbursed loan not yet closed (Active or Defaulted)",
  exposureByBorrower: "outstanding of the borrower's live loans; share of the lender's total outstanding to 4 decimals",
  exposureByDebtor:
    "each live loan's outstanding split over its collateral in proportion to the unpaid face value of each receivable (integer division, remainder to the last), summed per debtor; collateralUnpaid is that unpaid face value",
  daysPastDue: "whole days (86,400 s of block time) since maturity while a live loan has an outstanding balance; 0 before maturity",
  collections:
    "every repayment recorded on the lender's loans: via the borrower (direct) or a receivable (the debtor's payment through the waterfall); afterDefault when recorded after the loan's default",
  collectionsByMonth: "sum of collections per UTC calendar month, the last 12 months up to the as-of month, which is marked partial",
} as const;

const LIVE: ReadonlySet<LoanStatus> = new Set(["Active", "Defaulted"]);

function month(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 7);
}

/** `n` consecutive "YYYY-MM" months starting `offset` months from the month of `t` (UTC). */
function months(t: number, offset: number, n: number): string[] {
  const d = new Date(t * 1000);
  return Array.from({ length: n }, (_, i) => {
    const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset + i, 1));
    return m.toISOString().slice(0, 7);
  });
}

function share(part: bigint, total: bigint): number | null {
  if (total === 0n) return null;
  // 4 decimals, half away from zero, from integers.
  return Number((part * 20_000n + total) / (2n * total)) / 10_000;
}

export function lenderLoans(state: IndexState, lender: Address): LoanEntity[] {
  return (state.loansByParty[lender] ?? [])
    .map((id) => state.loans[id])
    .filter((l): l is LoanEntity => l !== undefined && l.lender === lender)
    .sort((a, b) => compareIds(a.id, b.id));
}

export function computePortfolio(
  state: IndexState,
  lender: Address,
  opts: { asOf: number; gracePeriod: number; party?: (address: Address) => Party },
): Portfolio {
  const { asOf } = opts;
  const party = opts.party ?? ((address: Address): Party => ({ address }));

  const pastDueIds = new Set<string>();
  const loans: PortfolioLoan[] = lenderLoans(state, lender).map((l) => {
    const live = LIVE.has(l.status);
    // The borrower's loan view computes the same balance (loans/view.ts): one rule for both sides.
    const { outstanding, pastDue, daysPastDue } = loanBalance(l, asOf);
    if (pastDue) pastDueIds.add(l.id);
    return {
      id: l.id,
      digest: l.digest,
      documentHash: l.documentHash,
      borrower: party(l.borrower),
      status: l.status,
      principal: l.principal,
      rateBps: l.rateBps,
      totalDue: l.totalDue,
      repaid: l.repaid,
      outstanding,
      start: l.start,
      maturity: l.maturity,
      disbursedAt: l.disbursedAt,
      closedAt: l.closedAt,
      defaultedAt: l.defaultedAt,
      daysPastDue,
      defaultableAt: l.maturity + opts.gracePeriod,
      collateral: l.collateral.map((id) => {
        const r = state.receivables[id];
        return {
          id,
          debtor: party(r?.debtor ?? ("0x" as Address)),
          faceValue: r?.faceValue ?? 0n,
          paid: r?.paid ?? 0n,
          maturity: r?.maturity ?? 0,
          status: r?.status ?? "Cancelled",
          pledged: r !== undefined && r.pledgedLoanId === l.id && live && r.status !== "Paid" && r.status !== "Cancelled",
        };
      }),
    };
  });

  const live = loans.filter((l) => LIVE.has(l.status));
  const totalOutstanding = live.reduce((s, l) => s + l.outstanding, 0n);

  // Exposure by borrower.
  const byBorrower = new Map<Address, { party: Party; loans: number; outstanding: bigint }>();
  for (const l of live) {
    const e = byBorrower.get(l.borrower.address) ?? { party: l.borrower, loans: 0, outstanding: 0n };
    e.loans++;
    e.outstanding += l.outstanding;
    byBorrower.set(l.borrower.address, e);
  }
  const exposureByBorrower: Exposure[] = [...byBorrower.values()]
    .map((e) => ({ ...e, share: share(e.outstanding, totalOutstanding) }))
    .sort((a, b) =>
      b.outstanding > a.outstanding ? 1 : b.outstanding < a.outstanding ? -1 : a.party.address.localeCompare(b.party.address),
    );

  // Exposure by debtor: each live loan's outstanding split pro rata over its unpaid collateral.
  const byDebtor = new Map<string, { party: Party | null; loans: Set<string>; outstanding: bigint; collateralUnpaid: bigint }>();
  const addDebtor = (key: string, p: Party | null, loanId: string, outstanding: bigint, unpaid: bigint) => {
    const e = byDebtor.get(key) ?? { party: p, loans: new Set<string>(), outstanding: 0n, collateralUnpaid: 0n };
    e.loans.add(loanId);
    e.outstanding += outstanding;
    e.collateralUnpaid += unpaid;
    byDebtor.set(key, e);
  };
  for (const l of live) {
    const open = l.collateral
      .map((c) => ({ c, unpaid: c.status === "Paid" || c.status === "Cancelled" || c.paid >= c.faceValue ? 0n : c.faceValue - c.paid }))
      .filter((x) => x.unpaid > 0n);
    const unpaidTotal = open.reduce((s, x) => s + x.unpaid, 0n);
    if (unpaidTotal === 0n) {
      addDebtor("none", null, l.id, l.outstanding, 0n);
      continue;
    }
    let allocated = 0n;
    open.forEach((x, i) => {
      const part = i === open.length - 1 ? l.outstanding - allocated : (l.outstanding * x.unpaid) / unpaidTotal;
      allocated += part;
      addDebtor(x.c.debtor.address, x.c.debtor, l.id, part, x.unpaid);
    });
  }
  const exposureByDebtor: Exposure[] = [...byDebtor.values()]
    .map((e) => ({
      party: e.party,
      loans: e.loans.size,
      outstanding: e.outstanding,
      collateralUnpaid: e.collateralUnpaid,
      share: share(e.outstanding, totalOutstanding),
    }))
    .sort((a, b) => (b.outstanding > a.outstanding ? 1 : b.outstanding < a.outstanding ? -1 : 0));

  const upcomingMaturities = live
    .filter((l) => l.maturity >= asOf && l.outstanding > 0n)
    .sort((a, b) => a.maturity - b.maturity)
    .map((l) => ({
      loanId: l.id,
      borrower: l.borrower,
      maturity: l.maturity,
      inDays: Math.floor((l.maturity - asOf) / DAY),
      outstanding: l.outstanding,
    }));

  const overdue = live
    .filter((l) => pastDueIds.has(l.id))
    .sort((a, b) => (b.daysPastDue ?? 0) - (a.daysPastDue ?? 0) || a.maturity - b.maturity)
    .map((l) => ({
      loanId: l.id,
      borrower: l.borrower,
      maturity: l.maturity,
      daysPastDue: l.daysPastDue ?? 0,
      outstanding: l.outstanding,
      status: l.status,
      defaultableAt: l.defaultableAt,
    }));

  const collections: Collection[] = [];
  for (const l of lenderLoans(state, lender)) {
    for (const r of l.repayments) {
      if (r.at > asOf) continue;
      const rec = r.receivableId !== undefined ? state.receivables[r.receivableId] : undefined;
      collections.push({
        loanId: l.id,
        borrower: party(l.borrower),
        at: r.at,
        amount: r.amount,
        via: r.receivableId !== undefined ? "receivable" : "borrower",
        ...(r.receivableId !== undefined ? { receivableId: r.receivableId } : {}),
        ...(rec ? { debtor: party(rec.debtor) } : {}),
        afterDefault: l.defaultedAt !== undefined && r.at >= l.defaultedAt,
        txHash: r.ref.txHash,
        blockNumber: r.ref.blockNumber,
      });
    }
  }
  collections.sort((a, b) => b.blockNumber - a.blockNumber || b.at - a.at);

  const lastMonths = months(asOf, -11, 12);
  const current = month(asOf);
  const collectionsByMonth: MonthFigure[] = lastMonths.map((m) => ({
    month: m,
    amount: collections.filter((c) => month(c.at) === m).reduce((s, c) => s + c.amount, 0n),
    partial: m === current,
  }));
  const ahead = months(asOf, 0, 6);
  const maturitiesByMonth: MonthFigure[] = ahead.map((m) => ({
    month: m,
    amount: live.filter((l) => (l.maturity < asOf ? current : month(l.maturity)) === m).reduce((s, l) => s + l.outstanding, 0n),
    partial: m === current,
  }));

  return {
    lender: party(lender),
    asOf,
    totals: {
      loans: loans.length,
      live: live.length,
      disbursed: loans.filter((l) => l.disbursedAt !== undefined).reduce((s, l) => s + l.principal, 0n),
      outstanding: totalOutstanding,
      overdueLoans: overdue.length,
      overdueOutstanding: overdue.reduce((s, o) => s + o.outstanding, 0n),
      defaulted: loans.filter((l) => l.defaultedAt !== undefined).length,
      collected: collections.reduce((s, c) => s + c.amount, 0n),
      collectedAfterDefault: collections.filter((c) => c.afterDefault).reduce((s, c) => s + c.amount, 0n),
    },
    loans,
    exposureByBorrower,
    exposureByDebtor,
    upcomingMaturities,
    overdue,
    collections,
    collectionsByMonth,
    maturitiesByMonth,
  };
}
