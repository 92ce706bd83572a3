/** The project's contract names, in a module with no Node.js imports so the browser can use it too. */
export const CONTRACT_NAMES = [
  "ParticipantRegistry",
  "SettlementToken",
  "TradeOrders",
  "Receivables",
  "LoanAgreements",
  "ConsentRegistry",
  "EvidenceNotary",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];
