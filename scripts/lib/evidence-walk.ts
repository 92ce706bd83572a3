/**
 * How the evidence lookups found a document hash's records and an order's receivables before issue
 * 17: a walk over every order, receivable and loan of the index. Kept as the reference the keyed
 * lookups (the index's document and order lists) are checked against (test/service/evidence-index.test.ts)
 * and as bench:index's baseline for their cost.
 */
import { zeroHash, type Hex } from "viem";
import type { IndexState } from "../../node-service/src/domain/entities";
import { hashUse, type HashUse } from "../../node-service/src/evidence/lookup";

/** The walk the lookups did before: every record of the index, in the index's key order. */
export function walkedUses(state: IndexState, sha256: Hex): HashUse[] {
  const key = sha256.toLowerCase();
  const is = (h: Hex | undefined) => !!h && h !== zeroHash && h.toLowerCase() === key;
  const out: HashUse[] = [];
  for (const o of Object.values(state.orders)) {
    if (is(o.documentHash)) out.push(hashUse("purchaseOrder", o.id, o.events));
    if (is(o.shippingDocumentHash)) out.push(hashUse("shippingDocument", o.id, o.events));
  }
  for (const r of Object.values(state.receivables)) if (!r.parentId && is(r.invoiceHash)) out.push(hashUse("invoice", r.id, r.events));
  for (const l of Object.values(state.loans)) if (is(l.documentHash)) out.push(hashUse("loanAgreement", l.id, l.events));
  return out;
}

/** Every receivable of the order (split children included), in the index's key order. */
export function walkedOrderReceivables(state: IndexState, orderId: string): string[] {
  return Object.values(state.receivables)
    .filter((r) => r.orderId === orderId)
    .map((r) => r.id);
}
