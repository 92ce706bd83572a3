/**
 * Two index histories built by hand, shared by the metrics tests (test/service/metrics.test.ts: every
 * figure hand-checked) and the committed index's counts (test/service/debtor-tier.test.ts).
 */
import {
  emptyIndexState,
  type Address,
  type IndexState,
  type OrderEntity,
  type ReceivableEntity,
} from "../../node-service/src/domain/entities";
import { addLoan, addOrder, addReceivable, party, pay as payment, ref, repayment } from "../../scripts/lib/index-builders";
import { DAY } from "../../node-service/src/domain/time";

export const T0 = Date.UTC(2030, 0, 1) / 1000; // 2030-01-01 00:00 UTC
/** Day n after T0 at 10:00 UTC. */
export const d = (n: number) => T0 + n * DAY + 10 * 3600;

export const E = "0x00000000000000000000000000000000000000e1" as Address; // the enterprise (supplier and buyer)
export const A = "0x00000000000000000000000000000000000000a1" as Address; // buyer
export const B = "0x00000000000000000000000000000000000000b1" as Address; // buyer
export const C = "0x00000000000000000000000000000000000000c1" as Address; // E's own supplier
export const L = "0x00000000000000000000000000000000000000d1" as Address; // lender

export const pay = (at: number, amount: bigint, holder: Address = E) => payment(at, amount, holder);

/**
 * E sells to A and B, buys from C, borrows from L:
 * o1 A 1000 created d0, delivered d8 (due d10), completed d9; r1 on it: issued d9, matures d20, paid d18.
 * o2 A 3000 created d20, shipped d22, delivered d30 (due d25, late), disputed d31;
 *    r2 on it: issued d31, ack d32, matures d45, split at d33 into r3 (1000, kept by E) and r4 (2000, to C);
 *    r4 paid in full d50, r3 paid 500 at d46.
 * o3 B 2000 created d40, cancelled d41. o4 B 4000 created d50.
 * p1 E buys 700 from C created d10; q1 on it (C issues, E owes): issued d12, ack d12, matures d30, unpaid.
 * l0: 100 due d40, disbursed d5, repaid d39. l1: 410 due d70 on r3, disbursed d35, repaid 100 at d46.
 */
export function scenario(): IndexState {
  const s = emptyIndexState();
  addOrder(s, {
    id: "1",
    buyer: A,
    supplier: E,
    amount: 1000n,
    createdAt: d(0),
    deliveryDue: d(10),
    deliveredAt: d(8),
    completedAt: d(9),
    status: "Completed",
  });
  addOrder(s, {
    id: "2",
    buyer: A,
    supplier: E,
    amount: 3000n,
    createdAt: d(20),
    deliveryDue: d(25),
    shippedAt: d(22),
    deliveredAt: d(30),
    status: "Disputed",
    disputes: [{ at: d(31), reasonCode: 1 }],
  });
  addOrder(s, {
    id: "3",
    buyer: B,
    supplier: E,
    amount: 2000n,
    createdAt: d(40),
    deliveryDue: d(60),
    cancelledAt: d(41),
    status: "Cancelled",
  });
  addOrder(s, { id: "4", buyer: B, supplier: E, amount: 4000n, createdAt: d(50), deliveryDue: d(70) });
  addOrder(s, {
    id: "5",
    buyer: E,
    supplier: C,
    amount: 700n,
    createdAt: d(10),
    deliveryDue: d(11),
    deliveredAt: d(11),
    status: "Delivered",
  });
  addReceivable(s, {
    id: "1",
    orderId: "1",
    issuer: E,
    debtor: A,
    faceValue: 1000n,
    maturity: d(20),
    issuedAt: d(9),
    acknowledgedAt: d(9) + 60,
    status: "Paid",
    payments: [pay(d(18), 1000n)],
    paidAt: d(18),
  });
  addReceivable(s, {
    id: "2",
    orderId: "2",
    issuer: E,
    debtor: A,
    faceValue: 3000n,
    maturity: d(45),
    issuedAt: d(31),
    acknowledgedAt: d(32),
    status: "Split",
    childIds: ["3", "4"],
    events: [
      ref("Receivables", "ReceivableIssued", d(31)),
      ref("Receivables", "Transfer", d(31)),
      ref("Receivables", "ReceivableAcknowledged", d(32)),
      ref("Receivables", "ReceivableSplit", d(33)),
      ref("Receivables", "Transfer", d(33)),
    ],
  });
  addReceivable(s, {
    id: "3",
    orderId: "2",
    issuer: E,
    debtor: A,
    faceValue: 1000n,
    maturity: d(45),
    issuedAt: d(33),
    acknowledgedAt: d(32),
    parentId: "2",
    status: "Confirmed",
    payments: [pay(d(46), 500n)],
    pledgedLoanId: "2",
  });
  addReceivable(s, {
    id: "4",
    orderId: "2",
    issuer: E,
    debtor: A,
    holder: C,
    faceValue: 2000n,
    maturity: d(45),
    issuedAt: d(33),
    acknowledgedAt: d(32),
    parentId: "2",
    status: "Paid",
    payments: [pay(d(50), 2000n, C)],
    paidAt: d(50),
  });
  addReceivable(s, {
    id: "5",
    orderId: "5",
    issuer: C,
    debtor: E,
    faceValue: 700n,
    maturity: d(30),
    issuedAt: d(12),
    acknowledgedAt: d(12) + 60,
    status: "Confirmed",
  });
  addLoan(s, {
    id: "1",
    borrower: E,
    lender: L,
    totalDue: 100n,
    maturity: d(40),
    recordedAt: d(4),
    disbursedAt: d(5),
    repayments: [repayment(d(39), 100n)],
    status: "Repaid",
    closedAt: d(39),
  });
  addLoan(s, {
    id: "2",
    borrower: E,
    lender: L,
    totalDue: 410n,
    maturity: d(70),
    recordedAt: d(34),
    disbursedAt: d(35),
    repayments: [repayment(d(46), 100n)],
    status: "Active",
    collateral: ["3"],
  });
  return s;
}

/**
 * E sells to A (a related party: shares KYC attribute X with E, admitted d0) and B; E admitted d-10.
 * Invoices (all acknowledged on issue but i7), each on its own order of the same amount created a day before:
 *   i1 A 1000 issued d0,   matures d10,  CANCELLED d5 (a credit note)
 *   i2 A 2000 issued d1,   matures d20,  500 paid d25, then nothing (short payment by d150)
 *   i3 B 4000 issued d100, matures d130, unpaid; its order disputed d102
 *   i4 B 3000 issued d60,  matures d100, unpaid
 *   i5 A 1000 issued d50,  matures d80,  unpaid
 *   i6 B 5000 issued d140, matures d170, unpaid (current)
 *   i7 A  600 issued d145, never acknowledged
 * Loans: la from L 2000 due, disbursed d30, matures d60, 500 repaid d50; lb from L2 3000 due, disbursed d125, matures d200.
 * asOf d150: end = the end of day 150; maturities at 10:00 are k days and 13:59:59 (50,399 s) past due.
 */
export const L2 = "0x00000000000000000000000000000000000000d2" as Address;
const X = `0x${"ab".repeat(32)}` as const;
export function book(): IndexState {
  const s = emptyIndexState();
  party(s, E, d(-10), [X]);
  party(s, A, d(0), [X]);
  party(s, B, d(0), []);
  const inv = (
    id: string,
    debtor: Address,
    face: bigint,
    issued: number,
    maturity: number,
    extra: Partial<ReceivableEntity> = {},
    order: Partial<OrderEntity> = {},
  ) => {
    addOrder(s, { id, buyer: debtor, supplier: E, amount: face, createdAt: d(issued - 1), deliveryDue: d(issued), ...order });
    addReceivable(s, {
      id,
      orderId: id,
      issuer: E,
      debtor,
      faceValue: face,
      issuedAt: d(issued),
      maturity: d(maturity),
      acknowledgedAt: d(issued),
      status: "Confirmed",
      ...extra,
    });
  };
  inv("1", A, 1000n, 0, 10, { status: "Cancelled", cancelledAt: d(5), events: [ref("Receivables", "ReceivableCancelled", d(5))] });
  inv("2", A, 2000n, 1, 20, { payments: [pay(d(25), 500n)] });
  inv("3", B, 4000n, 100, 130, {}, { disputes: [{ at: d(102), reasonCode: 1 }] });
  inv("4", B, 3000n, 60, 100);
  inv("5", A, 1000n, 50, 80);
  inv("6", B, 5000n, 140, 170);
  inv("7", A, 600n, 145, 175, { acknowledgedAt: undefined, status: "Issued" });
  addLoan(s, {
    id: "1",
    borrower: E,
    lender: L,
    totalDue: 2000n,
    maturity: d(60),
    recordedAt: d(29),
    disbursedAt: d(30),
    repayments: [repayment(d(50), 500n)],
    status: "Active",
  });
  addLoan(s, {
    id: "2",
    borrower: E,
    lender: L2,
    totalDue: 3000n,
    maturity: d(200),
    recordedAt: d(124),
    disbursedAt: d(125),
    status: "Active",
  });
  return s;
}
