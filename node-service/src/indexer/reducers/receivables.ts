/**
 * Receivables events (including the ERC-721 Transfer events that track the holder) -> receivables
 * (issue, acknowledgment, split lineage, pledges, payments through the waterfall) and the per-party
 * receivable lists (issuer, debtor and every holder, each listed once).
 */
import type { Address, ReceivableEntity } from "../../domain/entities";
import { appended, push, put, type Mutation } from "../../domain/mutations";
import { ZERO_ADDRESS, addr, big, documentPush, hex, id, must, num, type Reducer } from "./common";
import { ListsOfOne, NO_ITEMS } from "../../domain/intern";

/** The holders list of a receivable only its first holder has held, shared among all of that holder's. */
const soleHolders = new ListsOfOne();

export const reduceReceivables: Reducer = (state, ev) => {
  const a = ev.args;
  switch (ev.name) {
    case "ReceivableIssued": {
      const supplier = addr(a.supplier);
      const r: ReceivableEntity = {
        id: id(a.receivableId),
        orderId: id(a.orderId),
        issuer: supplier,
        debtor: addr(a.debtor),
        holder: supplier,
        faceValue: big(a.faceValue),
        paid: 0n,
        maturity: num(a.maturity),
        invoiceHash: hex(a.invoiceHash),
        invoiceNumberHash: hex(a.invoiceNumberHash),
        issuedAt: num(a.issuedAt),
        status: "Issued",
        payments: NO_ITEMS,
        holders: soleHolders.of(supplier),
        events: [ev.ref],
      };
      return [
        put("receivables", r.id, r),
        ...partyPushes(r.id, [], [r.issuer, r.debtor]),
        push("receivablesByOrder", r.orderId, r.id),
        ...documentPush("receivablesByInvoice", r.invoiceHash, r.id),
      ];
    }
    case "ReceivableChildCreated": {
      const parent = must(state.receivables[id(a.parentId)], `receivable ${id(a.parentId)}`, ev);
      const holder = addr(a.holder);
      const childId = id(a.receivableId);
      const child: ReceivableEntity = {
        // The string the parent's childIds holds (the split comes first; at most 16): one copy of each id in memory.
        id: parent.childIds?.find((c) => c === childId) ?? childId,
        orderId: parent.orderId,
        issuer: parent.issuer,
        debtor: parent.debtor,
        holder,
        faceValue: big(a.faceValue),
        paid: 0n,
        maturity: parent.maturity,
        invoiceHash: parent.invoiceHash,
        invoiceNumberHash: parent.invoiceNumberHash,
        issuedAt: ev.ref.at,
        status: "Confirmed",
        acknowledgedAt: parent.acknowledgedAt,
        acknowledgmentSignature: parent.acknowledgmentSignature,
        parentId: parent.id,
        payments: NO_ITEMS,
        holders: soleHolders.of(holder),
        events: [ev.ref],
      };
      return [
        put("receivables", child.id, child),
        ...partyPushes(child.id, [], [child.issuer, child.debtor, holder]),
        push("receivablesByOrder", child.orderId, child.id),
      ];
    }
    case "Transfer":
      return transfer(state.receivables[id(a.tokenId)], ev, addr(a.from), addr(a.to));
    case "LoanAgreementsSet":
    case "Approval":
    case "ApprovalForAll":
    case "RoleGranted":
    case "RoleRevoked":
    case "RoleAdminChanged":
      return [];
  }

  const r = must(state.receivables[id(a.receivableId ?? a.parentId)], `receivable ${id(a.receivableId ?? a.parentId)}`, ev);
  const next: ReceivableEntity = { ...r, events: appended(r.events, ev.ref) };
  /** The original invoice's record, when a payment on one of its split descendants changes it. */
  let invoice: ReceivableEntity | undefined;
  switch (ev.name) {
    case "ReceivableAcknowledged":
      Object.assign(next, { status: "Confirmed", acknowledgedAt: num(a.at), acknowledgmentSignature: hex(a.signature) });
      break;
    case "ReceivableCancelled":
      Object.assign(next, { status: "Cancelled", cancelledAt: num(a.at) });
      break;
    case "ReceivableSplit": {
      const first = big(a.firstChildId);
      const count = num(a.childCount);
      next.status = "Split";
      next.childIds = Array.from({ length: count }, (_, i) => (first + BigInt(i)).toString(10));
      break;
    }
    case "ReceivablePledged": {
      const loanId = id(a.loanId);
      next.pledgedLoanId = loanId;
      next.pledges = appended(r.pledges ?? [], { loanId, at: ev.ref.at });
      break;
    }
    case "ReceivablePaid": {
      const toLoan = big(a.toLoan);
      const payment: ReceivableEntity["payments"][number] = {
        at: num(a.at),
        amount: big(a.amount),
        toLoan,
        holder: addr(a.holder),
        ref: ev.ref,
      };
      if (toLoan !== 0n) payment.loanId = id(a.loanId);
      next.payments = appended(r.payments, payment);
      next.paid = big(a.paidTotal);
      if (a.fullyPaid === true) Object.assign(next, { status: "Paid", paidAt: num(a.at) });
      // A split child has its root's maturity: a payment by then counts on the original invoice.
      if (payment.at <= r.maturity) {
        const root = r.parentId === undefined ? next : { ...originalOf(state, r, ev) };
        root.paidByMaturity = (root.paidByMaturity ?? 0n) + payment.amount;
        if (root !== next) invoice = root;
      }
      break;
    }
    default:
      throw new Error(`no reducer for Receivables.${ev.name}`);
  }
  return invoice ? [put("receivables", next.id, next), put("receivables", invoice.id, invoice)] : [put("receivables", next.id, next)];
};

/** The original invoice a split child descends from (the split depth is bounded on chain; the cap guards a corrupt index). */
function originalOf(state: Parameters<Reducer>[0], child: ReceivableEntity, ev: Parameters<Reducer>[1]): ReceivableEntity {
  let r = child;
  for (let depth = 0; r.parentId !== undefined; depth++) {
    if (depth >= 64) throw new Error(`receivable ${child.id}: split lineage deeper than 64`);
    r = must(state.receivables[r.parentId], `receivable ${r.parentId}`, ev);
  }
  return r;
}

/** ERC-721 Transfer: a mint confirms the first holder, a burn keeps the last one, anything else moves it. */
function transfer(existing: ReceivableEntity | undefined, ev: Parameters<Reducer>[1], from: Address, to: Address): Mutation[] {
  const r = must(existing, `receivable ${id(ev.args.tokenId)}`, ev);
  const next: ReceivableEntity = { ...r, events: appended(r.events, ev.ref) };
  if (to === ZERO_ADDRESS || (from === ZERO_ADDRESS && to === r.holder)) return [put("receivables", r.id, next)];
  const known = knownParties(r);
  next.holder = to;
  next.holders = appended(r.holders ?? [r.holder], to);
  return [put("receivables", r.id, next), ...partyPushes(r.id, known, [to])];
}

function knownParties(r: ReceivableEntity): Address[] {
  return [r.issuer, r.debtor, ...(r.holders ?? [r.holder])];
}

/** Adds the receivable to each party's list once: skips parties already listed for it. */
function partyPushes(receivableId: string, known: Address[], parties: Address[]): Mutation[] {
  const seen = new Set(known);
  const out: Mutation[] = [];
  for (const p of parties) {
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(push("receivablesByParty", p, receivableId));
  }
  return out;
}
