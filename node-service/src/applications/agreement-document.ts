/**
 * The loan agreement document both parties sign the hash of. Plain UTF-8 text, rendered
 * deterministically from the offer so anyone can re-render it and compare its sha256; the file is
 * what a court drops into the evidence page.
 */

export interface AgreementDocumentInput {
  applicationId: string;
  chainId: number;
  loanAgreements: string;
  borrower: string;
  lender: string;
  currency: string;
  principal: bigint;
  rateBps: number;
  start: number;
  disburseBy: number;
  maturity: number;
  collateral: string[];
  decisionInputHash: string;
  policyVersion: string;
}

export function renderAgreementDocument(a: AgreementDocumentInput): string {
  const iso = (s: number) => new Date(s * 1000).toISOString();
  return [
    "SUPPLY-CHAIN FINANCING LOAN AGREEMENT",
    "",
    `Application: ${a.applicationId}`,
    `Chain id: ${a.chainId}; LoanAgreements contract: ${a.loanAgreements}`,
    `Borrower: ${a.borrower}`,
    `Lender: ${a.lender}`,
    `Currency (settlement token contract): ${a.currency}`,
    `Principal (minor units of the settlement token): ${a.principal.toString()}`,
    `Interest: ${a.rateBps} basis points per year, simple, from start to maturity`,
    `Start: ${iso(a.start)} (${a.start})`,
    `Latest disbursement: ${iso(a.disburseBy)} (${a.disburseBy})`,
    `Maturity: ${iso(a.maturity)} (${a.maturity})`,
    `Collateral receivables (pledged on chain when this agreement is recorded): ${a.collateral.join(", ")}`,
    "",
    "1. The lender disburses the principal through the LoanAgreements contract, no later than the latest",
    "   disbursement time and only while no collateral has been paid since the agreement was recorded;",
    "   otherwise either party may cancel and the collateral is released.",
    "2. Payments by the debtor of any pledged receivable repay this loan first; the rest goes to its holder.",
    "3. The borrower may repay in parts at any time before maturity.",
    "4. After maturity plus the contract's grace period the lender may declare a default. The pledged",
    "   receivables stay pledged with the borrower: payments on them still repay this loan first, the",
    "   lender never receives more than principal plus interest, and the rest and the receivables",
    "   themselves go back to the borrower once the debt is paid.",
    "5. Both parties sign the EIP-712 LoanTerms message that carries the sha256 of this document.",
    "",
    `Underwriting decision input hash: ${a.decisionInputHash} (policy ${a.policyVersion})`,
    "",
  ].join("\n");
}
