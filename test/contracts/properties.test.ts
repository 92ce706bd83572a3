/**
 * Model-based property tests: fast-check draws random sequences of operations, a small model predicts
 * which succeed, and after every step the chain must agree with the model and with the invariants.
 */
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  GRACE_PERIOD,
  ORDER_AMOUNT,
  as,
  confirmedReceivable,
  deployFixture,
  h,
  makeOrder,
  makeTerms,
  now,
  signTerms,
  signedLoan,
} from "./fixture";
import { invoiceNumberHash } from "../../node-service/src/domain/invoice-number";

/** True when the transaction was mined, false when it reverted (any other failure is rethrown). */
async function succeeds(send: () => Promise<{ wait(): Promise<unknown> }>): Promise<boolean> {
  try {
    await (await send()).wait();
    return true;
  } catch (e) {
    if (e instanceof Error && /revert/i.test(e.message)) return false;
    throw e;
  }
}

const RUNS = { numRuns: 30 };

// ---------------------------------------------------------------------------------------------
// A receivable is never pledged to two live loans.

async function pledgeFixture() {
  const f = await deployFixture();
  const ids: bigint[] = [];
  for (let i = 0; i < 5; i++) ids.push(await confirmedReceivable(f, { invoice: `P-${i}` }));
  return { f, ids };
}

type PledgeOp =
  | { kind: "submit"; collateral: number[]; lender: number }
  | { kind: "cancel" | "disburse" | "repayAll"; loan: number }
  | { kind: "transfer"; receivable: number };

const pledgeOp: fc.Arbitrary<PledgeOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("submit" as const),
      collateral: fc.subarray([0, 1, 2, 3, 4], { minLength: 1, maxLength: 3 }),
      lender: fc.nat({ max: 1 }),
    }),
  },
  fc.record({ kind: fc.constantFrom("cancel" as const, "disburse" as const, "repayAll" as const), loan: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant("transfer" as const), receivable: fc.nat({ max: 4 }) }),
);

describe("properties", () => {
  it("never pledges a receivable to two live loans, whatever the sequence of agreements, cancellations, disbursements and repayments", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pledgeOp, { minLength: 3, maxLength: 9 }), async (ops) => {
        const { f, ids } = await loadFixture(pledgeFixture);
        // Model: each loan's collateral and status; each receivable's holder.
        const loans: { collateral: bigint[]; status: "Signed" | "Active" | "Closed" }[] = [];
        const holder = new Map<bigint, HardhatEthersSigner>(ids.map((id) => [id, f.supplier]));
        const liveLoanOf = (id: bigint) => loans.findIndex((l) => l.status !== "Closed" && l.collateral.includes(id));

        for (const op of ops) {
          if (op.kind === "submit") {
            const collateral = op.collateral.map((i) => ids[i]);
            const expected = collateral.every((id) => holder.get(id) === f.supplier && liveLoanOf(id) === -1);
            const lender = op.lender === 0 ? f.lender : f.lender2;
            const terms = await makeTerms(f, { collateral, lender: lender.address as `0x${string}` });
            const bs = await signTerms(f, f.supplier, terms);
            const ls = await signTerms(f, lender, terms);
            const ok = await succeeds(() => as(f.loans, f.other).submitAgreement(terms, bs, ls));
            expect(ok, `submit ${collateral}`).to.equal(expected);
            if (ok) loans.push({ collateral, status: "Signed" });
          } else if (op.kind === "transfer") {
            const id = ids[op.receivable];
            const from = holder.get(id)!;
            const to = from === f.supplier ? f.supplier2 : f.supplier;
            const ok = await succeeds(() => as(f.receivables, from).transferFrom(from.address, to.address, id));
            expect(ok, `transfer ${id}`).to.equal(liveLoanOf(id) === -1);
            if (ok) holder.set(id, to);
          } else {
            if (op.loan >= loans.length) continue;
            const loanId = BigInt(op.loan + 1);
            const loan = loans[op.loan];
            const l = await f.loans.getLoan(loanId);
            if (op.kind === "cancel") {
              const ok = await succeeds(() => as(f.loans, f.supplier).cancelAgreement(loanId));
              expect(ok).to.equal(loan.status === "Signed");
              if (ok) loan.status = "Closed";
            } else if (op.kind === "disburse") {
              const lender = l.lender === f.lender.address ? f.lender : f.lender2;
              const ok = await succeeds(() => as(f.loans, lender).disburse(loanId));
              expect(ok).to.equal(loan.status === "Signed");
              if (ok) loan.status = "Active";
            } else {
              const ok = await succeeds(() => as(f.loans, f.supplier).repay(loanId, l.totalDue - l.repaid));
              expect(ok).to.equal(loan.status === "Active");
              if (ok) loan.status = "Closed";
            }
          }

          // Invariant, read from the chain: at most one live loan holds each receivable, and the
          // receivable's pledge says which.
          const count = Number(await f.loans.loanCount());
          expect(count).to.equal(loans.length);
          const live: boolean[] = [];
          for (let i = 1; i <= count; i++) live.push(await f.loans.isLive(BigInt(i)));
          expect(live).to.deep.equal(loans.map((l) => l.status !== "Closed"));
          for (const id of ids) {
            const holders = loans.map((l, i) => (live[i] && l.collateral.includes(id) ? i + 1 : 0)).filter((x) => x !== 0);
            expect(holders.length, `receivable ${id} in live loans ${holders}`).to.be.at.most(1);
            expect(await f.receivables.isPledged(id)).to.equal(holders.length === 1);
            if (holders.length === 1) expect((await f.receivables.getReceivable(id)).pledgedLoanId).to.equal(BigInt(holders[0]));
          }
        }
      }),
      RUNS,
    );
  });

  // -------------------------------------------------------------------------------------------
  // Money goes only where the agreement says: the lender never receives more than is owed, the
  // surplus goes to the holder (the borrower while pledged), and token balances are conserved.

  it("caps every lender's take at what is owed, pays the surplus to the borrower and conserves balances, whatever the payments, repayments, defaults and transfers", async () => {
    async function moneyFixture() {
      const f = await deployFixture();
      const r = [await confirmedReceivable(f), await confirmedReceivable(f), await confirmedReceivable(f)];
      // Two loans of different lenders, each pledging one receivable; the third is unpledged.
      await signedLoan(f, { collateral: [r[0]], principal: 400_000n });
      await signedLoan(f, { collateral: [r[1]], principal: 700_000n }, { lender: f.lender2 });
      return { f, r };
    }
    type MoneyOp =
      | { kind: "disburse"; loan: number }
      | { kind: "default"; loan: number }
      | { kind: "repay"; loan: number; amount: bigint }
      | { kind: "pay"; receivable: number; amount: bigint }
      | { kind: "transfer"; receivable: number };
    const op: fc.Arbitrary<MoneyOp> = fc.oneof(
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("disburse" as const), loan: fc.nat({ max: 1 }) }) },
      fc.record({ kind: fc.constant("default" as const), loan: fc.nat({ max: 1 }) }),
      fc.record({ kind: fc.constant("repay" as const), loan: fc.nat({ max: 1 }), amount: fc.bigInt({ min: 1n, max: 800_000n }) }),
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("pay" as const),
          receivable: fc.nat({ max: 2 }),
          amount: fc.bigInt({ min: 1n, max: 1_100_000n }),
        }),
      },
      fc.record({ kind: fc.constant("transfer" as const), receivable: fc.nat({ max: 2 }) }),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 12 }), async (ops) => {
        const { f, r } = await loadFixture(moneyFixture);
        const accounts = [...f.traders.map((t) => t.address), await f.loans.getAddress(), await f.receivables.getAddress()];
        const supply = (await f.token.totalSupply()) as bigint;
        const balances = async () => Promise.all(accounts.map(async (a) => (await f.token.balanceOf(a)) as bigint));
        const lenders = [f.lender, f.lender2];
        const onChain = await Promise.all([1n, 2n].map((id) => f.loans.getLoan(id)));
        const latestMaturity = onChain.reduce((m, l) => (l.maturity > m ? (l.maturity as bigint) : m), 0n);
        // Model: each loan's status, what is still owed and what its lender took back; each receivable's
        // outstanding amount and holder; whether time is past every maturity plus the grace period.
        const model = {
          late: false,
          loans: onChain.map((l) => ({
            status: "Signed" as "Signed" | "Active" | "Defaulted" | "Closed",
            paidDown: false,
            principal: l.principal as bigint,
            totalDue: l.totalDue as bigint,
            outstanding: l.totalDue as bigint,
            take: 0n,
          })),
          recv: r.map(() => ({ outstanding: ORDER_AMOUNT, holder: f.supplier })),
        };
        const live = (i: number) => model.loans[i] !== undefined && model.loans[i].status !== "Closed";
        for (const o of ops) {
          const before = await balances();
          const delta = new Map<string, bigint>();
          const move = (from: string, to: string, amount: bigint) => {
            delta.set(from, (delta.get(from) ?? 0n) - amount);
            delta.set(to, (delta.get(to) ?? 0n) + amount);
          };
          const toLender = (i: number, from: string, amount: bigint) => {
            const m = model.loans[i];
            m.outstanding -= amount;
            m.take += amount;
            if (m.outstanding === 0n) m.status = "Closed";
            move(from, lenders[i].address, amount);
          };
          if (o.kind === "disburse") {
            const m = model.loans[o.loan];
            const ok = await succeeds(() => as(f.loans, lenders[o.loan]).disburse(BigInt(o.loan + 1)));
            expect(ok, "disburse").to.equal(m.status === "Signed" && !m.paidDown && !model.late);
            if (ok) {
              m.status = "Active";
              move(lenders[o.loan].address, f.supplier.address, m.principal);
            }
          } else if (o.kind === "default") {
            if (!model.late) {
              await time.increaseTo(latestMaturity + BigInt(GRACE_PERIOD) + 1n);
              model.late = true;
            }
            const m = model.loans[o.loan];
            const ok = await succeeds(() => as(f.loans, lenders[o.loan]).declareDefault(BigInt(o.loan + 1)));
            expect(ok, "default").to.equal(m.status === "Active");
            if (ok) m.status = "Defaulted";
          } else if (o.kind === "repay") {
            const m = model.loans[o.loan];
            const ok = await succeeds(() => as(f.loans, f.supplier).repay(BigInt(o.loan + 1), o.amount));
            expect(ok, "repay").to.equal((m.status === "Active" || m.status === "Defaulted") && o.amount <= m.outstanding);
            if (ok) toLender(o.loan, f.supplier.address, o.amount);
          } else if (o.kind === "pay") {
            const rec = model.recv[o.receivable];
            const ok = await succeeds(() => as(f.receivables, f.buyer).pay(r[o.receivable], o.amount));
            expect(ok, "pay").to.equal(o.amount <= rec.outstanding);
            if (ok) {
              rec.outstanding -= o.amount;
              const m = model.loans[o.receivable]; // receivable i is pledged to loan i (none for the third)
              if (m && m.status === "Signed") m.paidDown = true;
              const owed = m && (m.status === "Active" || m.status === "Defaulted") ? m.outstanding : 0n;
              const toLoan = o.amount < owed ? o.amount : owed;
              if (toLoan > 0n) toLender(o.receivable, f.buyer.address, toLoan);
              if (o.amount > toLoan) move(f.buyer.address, rec.holder.address, o.amount - toLoan);
            }
          } else {
            const rec = model.recv[o.receivable];
            const to = rec.holder === f.supplier ? f.supplier2 : f.supplier;
            const ok = await succeeds(() => as(f.receivables, rec.holder).transferFrom(rec.holder.address, to.address, r[o.receivable]));
            expect(ok, "transfer").to.equal(!live(o.receivable) && rec.outstanding > 0n);
            if (ok) rec.holder = to;
          }
          const after = await balances();
          accounts.forEach((a, i) => expect(after[i] - before[i], `balance change of ${a} after ${o.kind}`).to.equal(delta.get(a) ?? 0n));
          expect(after.reduce((x, y) => x + y, 0n)).to.equal(supply);
          expect(await f.token.totalSupply()).to.equal(supply);
          expect(after[after.length - 1] + after[after.length - 2], "tokens left in the contracts").to.equal(0n);
          for (const [i, m] of model.loans.entries()) {
            // The cap: what the lender took back never exceeds what the signed terms make owed.
            expect(m.take, `lender ${i} take`).to.be.at.most(m.totalDue);
            const l = await f.loans.getLoan(BigInt(i + 1));
            expect(l.repaid, `loan ${i + 1} repaid`).to.equal(m.take);
            // While the loan is live its collateral stays with the borrower, pledged.
            if (live(i)) expect(await f.receivables.ownerOf(r[i])).to.equal(f.supplier.address);
          }
        }
      }),
      RUNS,
    );
  });

  // -------------------------------------------------------------------------------------------
  // An order's receivables never exceed its amount.

  it("never lets the receivables of an order exceed its amount nor two live ones share an invoice number, whatever is issued, acknowledged and cancelled", async () => {
    async function orderFixture() {
      const f = await deployFixture();
      const orderId = await makeOrder(f);
      return { f, orderId };
    }
    type IssueOp =
      { kind: "issue"; faceValue: bigint; invoice: number; spelling: number } | { kind: "cancel" | "acknowledge"; index: number };
    const op: fc.Arbitrary<IssueOp> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("issue" as const),
          faceValue: fc.bigInt({ min: 1n, max: 600_000n }),
          invoice: fc.nat({ max: 5 }),
          spelling: fc.nat({ max: 3 }),
        }),
      },
      fc.record({ kind: fc.constantFrom("cancel" as const, "acknowledge" as const), index: fc.nat({ max: 6 }) }),
    );

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 12 }), async (ops) => {
        const { f, orderId } = await loadFixture(orderFixture);
        const issued: { id: bigint; faceValue: bigint; invoice: number; status: "Issued" | "Confirmed" | "Cancelled" }[] = [];
        // The same invoice number as a supplier might type it: padded, lower case, doubled inner space.
        const spell = (n: number, how: number) => [`INV-${n} A`, ` INV-${n} A `, `inv-${n} a`, `INV-${n}  A`][how];
        const maturity = (await now()) + 90 * 24 * 3600;
        for (const o of ops) {
          const live = issued.filter((x) => x.status !== "Cancelled").reduce((s, x) => s + x.faceValue, 0n);
          if (o.kind === "issue") {
            // One live receivable per invoice number (whatever the amount or spelling); a cancelled one frees it.
            const taken = issued.some((x) => x.invoice === o.invoice && x.status !== "Cancelled");
            const expected = live + o.faceValue <= ORDER_AMOUNT && !taken;
            const number = invoiceNumberHash(spell(o.invoice, o.spelling));
            const ok = await succeeds(() =>
              as(f.receivables, f.supplier).issue(orderId, h(`file ${o.invoice}`), number, o.faceValue, maturity),
            );
            expect(ok, `issue ${o.faceValue} with ${live} invoiced`).to.equal(expected);
            if (ok)
              issued.push({
                id: (await f.receivables.receivableCount()) as bigint,
                faceValue: o.faceValue,
                invoice: o.invoice,
                status: "Issued",
              });
          } else if (o.index < issued.length) {
            const rec = issued[o.index];
            if (o.kind === "cancel") {
              const ok = await succeeds(() => as(f.receivables, f.supplier).cancel(rec.id, 1));
              expect(ok).to.equal(rec.status === "Issued");
              if (ok) rec.status = "Cancelled";
            } else {
              const ok = await succeeds(() => as(f.receivables, f.buyer).acknowledge(rec.id));
              expect(ok).to.equal(rec.status === "Issued");
              if (ok) rec.status = "Confirmed";
            }
          }
          const invoiced = (await f.receivables.invoicedAmount(orderId)) as bigint;
          expect(invoiced).to.be.at.most(ORDER_AMOUNT);
          expect(invoiced).to.equal(issued.filter((x) => x.status !== "Cancelled").reduce((s, x) => s + x.faceValue, 0n));
        }
      }),
      RUNS,
    );
  });
});
