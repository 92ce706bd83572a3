/**
 * The invoice number as Receivables keys it: `issue()` takes the sha256 of the normalized number, and the
 * contract refuses a second live receivable with the same (debtor, number hash). The contract sees only the
 * hash, so the normalization happens here, once, for every caller (seed, service, tests): Unicode NFKC,
 * surrounding whitespace dropped, inner whitespace collapsed to one space, upper case.
 */
import type { Hex } from "viem";
import { sha256Hex } from "./hash";

export function normalizeInvoiceNumber(invoiceNumber: string): string {
  return invoiceNumber.normalize("NFKC").trim().replace(/\s+/g, " ").toUpperCase();
}

export function invoiceNumberHash(invoiceNumber: string): Hex {
  return sha256Hex(normalizeInvoiceNumber(invoiceNumber));
}
