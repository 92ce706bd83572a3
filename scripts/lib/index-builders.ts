/**
 * Hand-built index states for unit tests of metrics and underwriting: records shaped as the reducers
 * shape them, listed in the per-party id lists, with the event references the point-in-time readers use.
 */
import type { Address, IndexState, LoanEntity, OrderEntity, ReceivableEntity } from "../../node-service/src/domain/entities";

/**
 * A log index of its own for each event built here: an event is identified by its block hash and log
 * index (domain/intern.ts shares references by them, as a reader does with a slice it keeps).
 */
let builtEvents = 0;
const nextLogIndex = () => builtEvents++;

export function push(list: Record<Address, string[]>, party: Address, id: string) {
  (list[party] ??= []).includes(id) || list[party].push(id);
}

export function addOrder(
  s: IndexState,
  o: Partial<OrderEntity> & Pick<OrderEntity, "id" | "buyer" | "supplier" | "amount" | "createdAt" | "deliveryDue">,
) {
  const order: OrderEntity = { documentHash: "0x00", status: "Created", disputes: [], events: [], ...o };
  s.orders[order.id] = order;
  push(s.ordersByParty, order.buyer, order.id);
  push(s.ordersByParty, order.supplier, order.id);
  s.eventCount++;
}

export function addReceivable(
  s: IndexState,
  r: Partial<ReceivableEntity> & Pick<ReceivableEntity, "id" | "orderId" | "issuer" | "debtor" | "faceValue" | "maturity" | "issuedAt">,
) {
  const rec: ReceivableEntity = { holder: r.issuer, paid: 0n, invoiceHash: "0x00", status: "Issued", payments: [], events: [], ...r };
  rec.paid = rec.payments.reduce((x, p) => x + p.amount, 0n);
  s.receivables[rec.id] = rec;
  // As the reducer keeps it: the payments made by the original invoice's maturity count on that invoice.
  let root: ReceivableEntity | undefined = rec;
  for (let depth = 0; root?.parentId !== undefined && depth < 64; depth++) root = s.receivables[root.parentId];
  const byMaturity = root && rec.payments.filter((p) => p.at <= root.maturity);
  if (root && byMaturity && byMaturity.length > 0)
    s.receivables[root.id] = { ...root, paidByMaturity: byMaturity.reduce((x, p) => x + p.amount, root.paidByMaturity ?? 0n) };
  for (const p of [rec.issuer, rec.debtor, rec.holder]) push(s.receivablesByParty, p, rec.id);
  s.eventCount++;
}

export const pay = (at: number, amount: bigint, holder: Address): ReceivableEntity["payments"][number] => ({
  at,
  amount,
  toLoan: 0n,
  holder,
  ref: {
    contract: "Receivables",
    event: "ReceivablePaid",
    blockNumber: 0,
    blockHash: "0x00",
    txHash: "0x00",
    logIndex: nextLogIndex(),
    at,
  },
});

export function addLoan(
  s: IndexState,
  l: Partial<LoanEntity> & Pick<LoanEntity, "id" | "borrower" | "lender" | "totalDue" | "maturity" | "recordedAt">,
) {
  const loan: LoanEntity = {
    digest: "0x00",
    currency: "0x0000000000000000000000000000000000000001",
    principal: l.totalDue,
    rateBps: 0,
    start: l.recordedAt,
    disburseBy: l.maturity - 1,
    repaid: 0n,
    collateral: [],
    documentHash: "0x00",
    nonce: 0n,
    deadline: 0,
    borrowerSignature: "0x00",
    lenderSignature: "0x00",
    submitter: l.borrower,
    status: "Signed",
    repayments: [],
    events: [],
    ...l,
  };
  loan.repaid = loan.repayments.reduce((x, r) => x + r.amount, 0n);
  s.loans[loan.id] = loan;
  push(s.loansByParty, loan.borrower, loan.id);
  push(s.loansByParty, loan.lender, loan.id);
  s.eventCount++;
}

/** An event reference at time `at` (the records' event lists carry their times). */
export const ref = (contract: string, event: string, at: number) => ({
  contract,
  event,
  blockNumber: 0,
  blockHash: "0x00" as const,
  txHash: "0x00" as const,
  logIndex: nextLogIndex(),
  at,
});

export const repayment = (at: number, amount: bigint): LoanEntity["repayments"][number] => ({
  at,
  amount,
  ref: { contract: "LoanAgreements", event: "LoanRepaid", blockNumber: 0, blockHash: "0x00", txHash: "0x00", logIndex: nextLogIndex(), at },
});

/** A participant admitted at `admittedAt` with the given KYC attribute hashes. */
export function party(s: IndexState, address: Address, admittedAt: number, kycAttributes: `0x${string}`[] = []) {
  s.participants[address] = {
    address,
    roles: 3,
    suspended: false,
    admittedAt,
    kycDossierHash: "0x00",
    displayNameHash: "0x00",
    kycAttributes,
    admitted: ref("ParticipantRegistry", "ParticipantAdmitted", admittedAt),
  };
}
