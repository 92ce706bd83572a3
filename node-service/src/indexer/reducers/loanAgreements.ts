/** LoanAgreements events -> loans (signed terms, disbursement, repayments incl. the waterfall, closing, default). */
import { LOAN_STATUSES, type LoanEntity } from "../../domain/entities";
import { appended, push, put } from "../../domain/mutations";
import { addr, big, documentPush, enumName, hex, id, must, num, type Reducer } from "./common";
import { NO_ITEMS } from "../../domain/intern";

export const reduceLoanAgreements: Reducer = (state, ev) => {
  const a = ev.args;
  if (ev.name === "AgreementRecorded") {
    const t = a.terms as Record<string, unknown>;
    const loan: LoanEntity = {
      id: id(a.loanId),
      digest: hex(a.digest),
      borrower: addr(a.borrower),
      lender: addr(a.lender),
      currency: addr(t.currency),
      principal: big(t.principal),
      rateBps: num(t.rateBps),
      start: num(t.start),
      disburseBy: num(t.disburseBy),
      maturity: num(t.maturity),
      totalDue: big(a.totalDue),
      repaid: 0n,
      collateral: (t.collateral as unknown[]).map(id),
      documentHash: hex(t.documentHash),
      nonce: big(t.nonce),
      deadline: num(t.deadline),
      borrowerSignature: hex(a.borrowerSignature),
      lenderSignature: hex(a.lenderSignature),
      submitter: addr(a.submitter),
      recordedAt: num(a.at),
      status: "Signed",
      repayments: NO_ITEMS,
      events: [ev.ref],
    };
    return [
      put("loans", loan.id, loan),
      put("loanByDigest", loan.digest, loan.id),
      push("loansByParty", loan.borrower, loan.id),
      push("loansByParty", loan.lender, loan.id),
      ...documentPush("loansByDocument", loan.documentHash, loan.id),
    ];
  }
  if (ev.name === "NonceCancelled") return []; // no record: kept in eventsByTx

  const l = must(state.loans[id(a.loanId)], `loan ${id(a.loanId)}`, ev);
  const at = num(a.at);
  const next: LoanEntity = { ...l, events: appended(l.events, ev.ref) };
  switch (ev.name) {
    case "LoanDisbursed":
      Object.assign(next, { status: "Active", disbursedAt: at });
      break;
    case "LoanRepaid": {
      const receivableId = big(a.receivableId);
      const repayment: LoanEntity["repayments"][number] = { at, amount: big(a.amount), ref: ev.ref };
      if (receivableId !== 0n) repayment.receivableId = id(receivableId);
      next.repayments = appended(l.repayments, repayment);
      next.repaid = big(a.repaidTotal);
      break;
    }
    case "LoanClosed":
      Object.assign(next, { status: enumName(LOAN_STATUSES, a.status, "loan status"), closedAt: at });
      break;
    case "LoanDefaulted":
      Object.assign(next, { status: "Defaulted", defaultedAt: at });
      break;
    case "LoanCancelled":
      Object.assign(next, { status: "Cancelled", cancelledAt: at });
      break;
    default:
      throw new Error(`no reducer for LoanAgreements.${ev.name}`);
  }
  return [put("loans", next.id, next)];
};
