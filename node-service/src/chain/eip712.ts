/**
 * The EIP-712 types the contracts verify, defined once. Tests, the service, the scripts and the web UI
 * import these; a contract test checks each type string against the contract's typehash.
 */
import type { Address, Hex, TypedDataDomain } from "viem";

export const LOAN_TERMS_TYPES = {
  LoanTerms: [
    { name: "borrower", type: "address" },
    { name: "lender", type: "address" },
    { name: "currency", type: "address" },
    { name: "principal", type: "uint256" },
    { name: "rateBps", type: "uint256" },
    { name: "start", type: "uint256" },
    { name: "disburseBy", type: "uint256" },
    { name: "maturity", type: "uint256" },
    { name: "collateral", type: "uint256[]" },
    { name: "documentHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export const RECEIVABLE_ACKNOWLEDGMENT_TYPES = {
  ReceivableAcknowledgment: [
    { name: "receivableId", type: "uint256" },
    { name: "orderId", type: "uint256" },
    { name: "invoiceHash", type: "bytes32" },
    { name: "faceValue", type: "uint256" },
    { name: "maturity", type: "uint256" },
  ],
} as const;

/**
 * The signed loan terms. Amounts in minor units of `currency` (the settlement token's address), times in
 * block seconds; `disburseBy` is the latest disbursement time (past it the lender cannot disburse).
 */
export interface LoanTerms {
  borrower: Address;
  lender: Address;
  currency: Address;
  principal: bigint;
  rateBps: bigint;
  start: bigint;
  disburseBy: bigint;
  maturity: bigint;
  collateral: bigint[];
  documentHash: Hex;
  nonce: bigint;
  deadline: bigint;
}

/** LoanTerms from their JSON form (decimal strings, as stored, sent over the API or decoded from an event). */
export function loanTermsFromJson(t: Record<string, unknown>): LoanTerms {
  const big = (v: unknown) => BigInt(v as string | number | bigint);
  return {
    borrower: t.borrower as Address,
    lender: t.lender as Address,
    currency: t.currency as Address,
    principal: big(t.principal),
    rateBps: big(t.rateBps),
    start: big(t.start),
    disburseBy: big(t.disburseBy),
    maturity: big(t.maturity),
    collateral: (t.collateral as unknown[]).map(big),
    documentHash: t.documentHash as Hex,
    nonce: big(t.nonce),
    deadline: big(t.deadline),
  };
}

export interface ReceivableAcknowledgment {
  receivableId: bigint;
  orderId: bigint;
  invoiceHash: Hex;
  faceValue: bigint;
  maturity: bigint;
}

export function loanAgreementsDomain(chainId: number | bigint, verifyingContract: Address): TypedDataDomain {
  return { name: "LoanAgreements", version: "1", chainId: Number(chainId), verifyingContract };
}

export function receivablesDomain(chainId: number | bigint, verifyingContract: Address): TypedDataDomain {
  return { name: "Receivables", version: "1", chainId: Number(chainId), verifyingContract };
}

/** The complete viem `signTypedData` / `hashTypedData` argument for loan terms. */
export function loanTermsTypedData(chainId: number | bigint, loanAgreements: Address, terms: LoanTerms) {
  return {
    domain: loanAgreementsDomain(chainId, loanAgreements),
    types: LOAN_TERMS_TYPES,
    primaryType: "LoanTerms" as const,
    message: terms,
  };
}

export function acknowledgmentTypedData(chainId: number | bigint, receivables: Address, ack: ReceivableAcknowledgment) {
  return {
    domain: receivablesDomain(chainId, receivables),
    types: RECEIVABLE_ACKNOWLEDGMENT_TYPES,
    primaryType: "ReceivableAcknowledgment" as const,
    message: ack,
  };
}

/** Role bits of ParticipantRegistry (contracts/libraries/Roles.sol). */
export const ROLE = { SUPPLIER: 1, BUYER: 2, LENDER: 4, AUDITOR: 8 } as const;
export type RoleName = keyof typeof ROLE;

/** The names of the role bits set in `roles`, in ROLE's order: 5 -> ["SUPPLIER", "LENDER"]. */
export function roleNames(roles: number): RoleName[] {
  return (Object.keys(ROLE) as RoleName[]).filter((name) => (roles & ROLE[name]) !== 0);
}

/** Consent scope bits of ConsentRegistry: the eleven data uses. */
export const SCOPE = {
  identity: 1 << 0,
  orderHistory: 1 << 1,
  receivables: 1 << 2,
  paymentHistory: 1 << 3,
  loans: 1 << 4,
  counterparties: 1 << 5,
  documents: 1 << 6,
  metrics: 1 << 7,
  riskFlags: 1 << 8,
  taxRecords: 1 << 9,
  bankFlows: 1 << 10,
} as const;
export const ALL_SCOPES = 0x7ff;
