/**
 * Random changes to an index history (metric-scenarios.ts), as mutations the indexer's reducers could
 * make: new orders, invoices (split or not), payments, pledges, loan repayments and admissions. For the
 * property tests of what is kept across changes: a reader's kept slices (pg-index-changes.test.ts) and
 * the metrics memo over a journaled index (metrics.test.ts).
 */
import fc from "fast-check";
import type { Address, IndexState, OrderEntity, ReceivableEntity } from "../../node-service/src/domain/entities";
import { push, put, type Mutation } from "../../node-service/src/domain/mutations";
import { DAY } from "../../node-service/src/domain/time";
import { repayment } from "../../scripts/lib/index-builders";
import * as S from "./metric-scenarios";

/** The scenario's parties, and one it never admitted. */
export const CHANGED_PARTIES: readonly Address[] = [S.E, S.A, S.B, S.C, S.L, "0x00000000000000000000000000000000000000f1"];

const day = fc.integer({ min: 0, max: 120 });
/** Which of the existing records a change picks (modulo their number). */
const pick = fc.nat({ max: 1_000 });
const party = fc.nat({ max: CHANGED_PARTIES.length - 1 });

export const INDEX_CHANGE = fc.oneof(
  fc.record({ kind: fc.constant("order" as const), supplier: party, buyer: party, day }),
  fc.record({ kind: fc.constant("invoice" as const), order: pick, term: fc.integer({ min: 1, max: 60 }), split: fc.nat({ max: 3 }), day }),
  fc.record({ kind: fc.constant("payment" as const), receivable: pick, amount: fc.integer({ min: 1, max: 3_000 }), day }),
  fc.record({ kind: fc.constant("pledge" as const), receivable: pick, loan: pick, day }),
  fc.record({ kind: fc.constant("repayment" as const), loan: pick, amount: fc.integer({ min: 1, max: 500 }), day }),
  fc.record({ kind: fc.constant("admission" as const), party, day }),
);
export type IndexChange = typeof INDEX_CHANGE extends fc.Arbitrary<infer C> ? C : never;

/** The `n`th record of `items` in key order (modulo their number). */
function nth<T>(items: Record<string, T>, n: number): T | undefined {
  const keys = Object.keys(items).sort();
  return keys.length === 0 ? undefined : items[keys[n % keys.length]];
}

/** The mutations of each change, over `state` as it is when the change is made (new records get fresh ids). */
export function indexChanges(state: IndexState): (change: IndexChange) => Mutation[] {
  let next = 1_000;
  return (c) => {
    const at = S.d(c.day);
    switch (c.kind) {
      case "order": {
        // No order of a party to itself (the contract refuses it).
        if (c.supplier === c.buyer) return [];
        const [supplier, buyer] = [CHANGED_PARTIES[c.supplier], CHANGED_PARTIES[c.buyer]];
        const o: OrderEntity = {
          id: String(next++),
          buyer,
          supplier,
          amount: 1_000n,
          createdAt: at,
          deliveryDue: at + DAY,
          deliveredAt: at + 3_600,
          status: "Delivered",
          documentHash: "0x00",
          disputes: [],
          events: [],
        };
        return [put("orders", o.id, o), push("ordersByParty", supplier, o.id), push("ordersByParty", buyer, o.id)];
      }
      case "invoice": {
        const o = nth(state.orders, c.order);
        if (!o) return [];
        const id = String(next++);
        const base = { orderId: o.id, issuer: o.supplier, debtor: o.buyer, holder: o.supplier, paid: 0n, invoiceHash: "0x00" as const };
        const childIds = Array.from({ length: c.split }, () => String(next++));
        const terms = {
          issuedAt: at,
          acknowledgedAt: at,
          maturity: at + c.term * DAY,
          status: "Issued" as const,
          payments: [],
          events: [],
        };
        const root = { id, ...base, ...terms, faceValue: 3_000n, ...(c.split > 0 ? { childIds, status: "Split" as const } : {}) };
        const children = childIds.map((cid) => ({ id: cid, ...base, ...terms, parentId: id, faceValue: 3_000n / BigInt(c.split) }));
        return [root, ...children].flatMap((r) => [
          put("receivables", r.id, r as ReceivableEntity),
          ...[...new Set([r.issuer, r.debtor])].map((p) => push("receivablesByParty", p, r.id)),
        ]);
      }
      case "payment": {
        const r = nth(state.receivables, c.receivable);
        if (!r) return [];
        const amount = BigInt(c.amount);
        return [put("receivables", r.id, { ...r, paid: r.paid + amount, payments: [...r.payments, S.pay(at, amount, r.holder)] })];
      }
      case "pledge": {
        const [r, l] = [nth(state.receivables, c.receivable), nth(state.loans, c.loan)];
        if (!r || !l) return [];
        return [put("receivables", r.id, { ...r, pledgedLoanId: l.id, pledges: [...(r.pledges ?? []), { loanId: l.id, at }] })];
      }
      case "repayment": {
        const l = nth(state.loans, c.loan);
        if (!l) return [];
        const amount = BigInt(c.amount);
        return [put("loans", l.id, { ...l, repaid: l.repaid + amount, repayments: [...l.repayments, repayment(at, amount)] })];
      }
      case "admission": {
        const address = CHANGED_PARTIES[c.party];
        const admitted = state.participants[address] ?? state.participants[S.E];
        return [put("participants", address, { ...admitted, address, admittedAt: at, kycAttributes: [] })];
      }
    }
  };
}
