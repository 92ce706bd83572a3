/**
 * One enterprise's records as they stood at an instant, read only through the per-party id lists of
 * the index (never a scan of all orders). Point-in-time: everything is judged by the event times the
 * entities carry (holders, splits and pledges by their events' times), so a record, payment, transfer
 * or pledge after the evaluation instant does not count, whatever the index holds by now.
 */
import { zeroHash, type Hex } from "viem";
import type { Address, IndexState, LoanEntity, OrderEntity, ParticipantEntity, ReceivableEntity } from "../domain/entities";
import { CollectionKeys, type RecordCollection } from "../domain/mutations";
import { WINDOW_DAYS, type MetricWindow } from "./definitions";
import { DAY } from "../domain/time";

/** The last second of asOf's UTC day: the instant every metric is evaluated at. */
export function asOfDayEnd(asOf: number): number {
  return Math.floor(asOf / DAY) * DAY + DAY - 1;
}

/** True when t happened at or before `end`. */
export function by(t: number | undefined, end: number): t is number {
  return t !== undefined && t <= end;
}

/** True when t is in window w ending at `end`: end - N days < t <= end ("all": t <= end). */
export function inWindow(t: number | undefined, end: number, w: MetricWindow): t is number {
  if (!by(t, end)) return false;
  return w === "all" || t > end - WINDOW_DAYS[w] * DAY;
}

/** An original receivable with the payments on it and on all its split descendants, up to `end`. */
export interface Invoice {
  receivable: ReceivableEntity;
  /** Acknowledged by the debtor at or before `end` (and not cancelled). */
  confirmed: boolean;
  /** Payments at or before `end`, in time order. */
  payments: { at: number; amount: bigint }[];
  paid: bigint;
  /** Time of the payment that completed the face value, when that happened by `end`. */
  paidAt?: number;
}

/** Sum of an invoice's payments made at or before t. */
export function paidBy(inv: Invoice, t: number): bigint {
  let sum = 0n;
  for (const p of inv.payments) if (p.at <= t) sum += p.amount;
  return sum;
}

export function repaidBy(loan: LoanEntity, t: number): bigint {
  let sum = 0n;
  for (const r of loan.repayments) if (r.at <= t) sum += r.amount;
  return sum;
}

/**
 * The receivable's holder at time t. The index keeps the holders in order (`holders`) and every
 * event with its time: the first ERC-721 Transfer is the mint, a Transfer after the split or
 * cancellation is the burn, and every other Transfer moved the token to the next holder.
 */
export function holderAt(r: ReceivableEntity, t: number): Address {
  const holders = r.holders ?? [r.holder];
  // Never moved (most pieces of a split invoice): whatever happened by t, it is the one holder.
  if (holders.length === 1) return holders[0];
  let moves = 0;
  let minted = false;
  let burned = false;
  for (const e of r.events) {
    if (e.at > t) break;
    if (e.event === "ReceivableSplit" || e.event === "ReceivableCancelled") burned = true;
    if (e.event !== "Transfer") continue;
    if (!minted) minted = true;
    else if (!burned) moves++;
  }
  return holders[Math.min(moves, holders.length - 1)];
}

/** Time the receivable was split into children, if it was. */
export function splitAt(r: ReceivableEntity): number | undefined {
  return r.events.find((e) => e.event === "ReceivableSplit")?.at;
}

/** The loan of the receivable's latest pledge made at or before t (whether that loan is still live or not). */
export function pledgedLoanAt(r: ReceivableEntity, t: number): string | undefined {
  // A record without its pledges' times (an older index) names only its last loan.
  if (r.pledges === undefined) return r.pledgedLoanId;
  let loanId: string | undefined;
  for (const p of r.pledges) if (p.at <= t) loanId = p.loanId;
  return loanId;
}

/** Signed, disbursed or in default, and not yet cancelled or repaid in full, at `end`. */
export function loanLiveAt(loan: LoanEntity, end: number): boolean {
  // A defaulted loan keeps its collateral pledged until it is recovered (LoanAgreements' default rule).
  return by(loan.recordedAt, end) && !by(loan.cancelledAt, end) && repaidBy(loan, end) < loan.totalDue;
}

export function orderCancelledBy(o: OrderEntity, end: number): boolean {
  return by(o.cancelledAt, end);
}

export interface EnterpriseRecords {
  readonly enterprise: Address;
  readonly end: number;
  /** Orders where the enterprise is the supplier, created by `end`. */
  readonly sales: OrderEntity[];
  /** Orders where the enterprise is the buyer, created by `end`. */
  readonly purchases: OrderEntity[];
  /** Original receivables the enterprise issued, issued by `end`. */
  readonly issued: Invoice[];
  /** Original receivables the enterprise owes as debtor, issued by `end`. */
  readonly owed: Invoice[];
  /** Receivables (originals or children) that existed, unsplit and not cancelled, at `end` and that the enterprise held then. */
  readonly held: { receivable: ReceivableEntity; unpaid: bigint; confirmed: boolean }[];
  /** Loans where the enterprise is the borrower, recorded by `end`. */
  readonly loans: LoanEntity[];
  /** Loans by id, for pledges (read from the index by id). */
  loanById: (id: string) => LoanEntity | undefined;
  /** Participants by address (admission time, KYC attribute hashes). */
  participant: (address: Address) => ParticipantEntity | undefined;
}

/**
 * The enterprise's records at `end`. Each list is gathered the first time it is read (a caller reading
 * a few metrics, such as a debtor's tier, does not pay for the others), and once.
 */
export function enterpriseRecords(state: IndexState, enterprise: Address, end: number): EnterpriseRecords {
  let orders: { sales: OrderEntity[]; purchases: OrderEntity[] } | undefined;
  const ordersOf = () => {
    if (orders) return orders;
    orders = { sales: [], purchases: [] };
    for (const id of state.ordersByParty[enterprise] ?? []) {
      const o = state.orders[id];
      if (!o || o.createdAt > end) continue;
      if (o.supplier === enterprise) orders.sales.push(o);
      if (o.buyer === enterprise) orders.purchases.push(o);
    }
    return orders;
  };

  // The enterprise's receivables issued by `end`, looked up once for both lists below (on a reader each
  // lookup is a read of the committed index's slice).
  let receivables: ReceivableEntity[] | undefined;
  const receivablesOf = () => {
    if (receivables) return receivables;
    receivables = [];
    for (const id of state.receivablesByParty[enterprise] ?? []) {
      const r = state.receivables[id];
      if (r && r.issuedAt <= end) receivables.push(r);
    }
    return receivables;
  };

  let invoices: { issued: Invoice[]; owed: Invoice[] } | undefined;
  const invoicesOf = () => {
    if (invoices) return invoices;
    invoices = { issued: [], owed: [] };
    for (const r of receivablesOf()) {
      if (r.parentId === undefined && (r.issuer === enterprise || r.debtor === enterprise)) {
        const inv = invoiceOf(state, r, end);
        if (r.issuer === enterprise) invoices.issued.push(inv);
        if (r.debtor === enterprise) invoices.owed.push(inv);
      }
    }
    return invoices;
  };

  let held: EnterpriseRecords["held"] | undefined;
  const heldOf = () => {
    if (held) return held;
    held = [];
    for (const r of receivablesOf()) {
      if (!by(splitAt(r), end) && !by(r.cancelledAt, end) && holderAt(r, end) === enterprise) {
        let paid = 0n;
        for (const p of r.payments) if (p.at <= end) paid += p.amount;
        held.push({ receivable: r, unpaid: r.faceValue - paid, confirmed: by(r.acknowledgedAt, end) });
      }
    }
    return held;
  };

  let loans: LoanEntity[] | undefined;
  const loansOf = () => {
    if (loans) return loans;
    loans = [];
    for (const id of state.loansByParty[enterprise] ?? []) {
      const l = state.loans[id];
      if (l && l.borrower === enterprise && l.recordedAt <= end) loans.push(l);
    }
    return loans;
  };

  return {
    enterprise,
    end,
    get sales() {
      return ordersOf().sales;
    },
    get purchases() {
      return ordersOf().purchases;
    },
    get issued() {
      return invoicesOf().issued;
    },
    get owed() {
      return invoicesOf().owed;
    },
    get held() {
      return heldOf();
    },
    get loans() {
      return loansOf();
    },
    loanById: (id) => state.loans[id],
    participant: (address) => state.participants[address],
  };
}

/**
 * Visits every record object the metrics of `enterprise` read, with its collection and key (undefined
 * where there is none), in a fixed order: its orders, receivables (with split descendants and every
 * loan they were pledged to), loans, and the participant entries of the enterprise and its buyers;
 * stops when `visit` returns false. The indexer replaces a record by a new object whenever it changes
 * (and restores the old object on a reorg), so the same sequence of objects means the same inputs:
 * that is what the memo cache checks.
 */
export function walkRecords(
  state: IndexState,
  enterprise: Address,
  visit: (record: unknown, coll: RecordCollection, key: string) => boolean,
): boolean {
  const buyers = new Set<Address>();
  for (const id of state.ordersByParty[enterprise] ?? []) {
    const o = state.orders[id];
    if (!visit(o, "orders", id)) return false;
    if (o && o.supplier === enterprise) buyers.add(o.buyer);
  }
  const receivable = (id: string, depth: number): boolean => {
    const r = state.receivables[id];
    if (!visit(r, "receivables", id)) return false;
    if (!r) return true;
    for (const p of r.pledges ?? []) if (!visit(state.loans[p.loanId], "loans", p.loanId)) return false;
    if (r.pledgedLoanId !== undefined && !visit(state.loans[r.pledgedLoanId], "loans", r.pledgedLoanId)) return false;
    // Split depth is bounded on chain (each split consumes ids); the cap only guards a corrupt index.
    if (r.childIds && depth < 64) for (const c of r.childIds) if (!receivable(c, depth + 1)) return false;
    return true;
  };
  for (const id of state.receivablesByParty[enterprise] ?? []) if (!receivable(id, 0)) return false;
  for (const id of state.loansByParty[enterprise] ?? []) if (!visit(state.loans[id], "loans", id)) return false;
  if (!visit(state.participants[enterprise], "participants", enterprise)) return false;
  for (const b of buyers) if (!visit(state.participants[b], "participants", b)) return false;
  return true;
}

/** The keys of every record walkRecords visits for `enterprise` (found or not), and of the enterprise's lists it reads them from. */
export function recordKeysOf(state: IndexState, enterprise: Address): CollectionKeys {
  const keys = new CollectionKeys();
  for (const list of ["ordersByParty", "receivablesByParty", "loansByParty"] as const) keys.add(list, enterprise);
  walkRecords(state, enterprise, (_record, coll, key) => {
    keys.add(coll, key);
    return true;
  });
  return keys;
}

function invoiceOf(state: IndexState, root: ReceivableEntity, end: number): Invoice {
  const payments: Invoice["payments"] = [];
  // Walk the split tree (a missing child is skipped; split depth is bounded on chain, as each split
  // consumes ids, and the cap only guards a corrupt index, as in walkRecords).
  const walk = (r: ReceivableEntity, depth: number) => {
    for (const p of r.payments) if (p.at <= end) payments.push({ at: p.at, amount: p.amount });
    if (r.childIds && depth < 64)
      for (const childId of r.childIds) {
        const child = state.receivables[childId];
        if (child) walk(child, depth + 1);
      }
  };
  walk(root, 0);
  payments.sort((a, b) => a.at - b.at);
  const paid = payments.reduce((s, p) => s + p.amount, 0n);
  const inv: Invoice = {
    receivable: root,
    confirmed: by(root.acknowledgedAt, end) && !by(root.cancelledAt, end),
    payments,
    paid,
  };
  if (paid >= root.faceValue && payments.length > 0) inv.paidAt = payments[payments.length - 1].at;
  return inv;
}

/**
 * The KYC attribute hashes two participants share (sorted, lowercase; the zero hash is no attribute):
 * the one related-party test, used by relatedPartySalesShare and by the risk screen.
 */
export function sharedKycAttributes(a: ParticipantEntity, b: ParticipantEntity): Hex[] {
  const mine = new Set(a.kycAttributes.map((x) => x.toLowerCase()).filter((x) => x !== zeroHash));
  return [...new Set(b.kycAttributes.map((x) => x.toLowerCase() as Hex))].filter((x) => mine.has(x)).sort();
}
