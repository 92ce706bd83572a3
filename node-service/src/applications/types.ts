/**
 * A loan application and its 12-step timeline. The application lives in the service's store; the
 * steps that happen on chain (consent, agreement, disbursement, repayment) are advanced only when the
 * indexer has seen their events.
 */
import type { Hex } from "viem";
import type { Address } from "../domain/entities";

/** The 12 steps, in order, then the terminal branches. */
export const STEPS = [
  "draft",
  "submitted",
  "consent_granted",
  "data_collected",
  "screened",
  "scored",
  "decided",
  "offer_issued",
  "signed_by_borrower",
  "countersigned_notarized",
  "disbursed",
  "closed",
] as const;
export type Step = (typeof STEPS)[number];
export type TerminalBranch = "declined" | "withdrawn" | "defaulted" | "expired";

export const STEP_LABELS: Record<Step | TerminalBranch | "in_review" | "contested" | "overridden", string> = {
  draft: "Draft",
  submitted: "Submitted",
  consent_granted: "Consent granted on chain",
  data_collected: "Data collected from the chain",
  screened: "Screened for fraud",
  scored: "Scored",
  decided: "Decided",
  offer_issued: "Offer issued",
  signed_by_borrower: "Signed by borrower",
  countersigned_notarized: "Countersigned and notarized",
  disbursed: "Disbursed",
  closed: "Repaid and closed",
  declined: "Declined",
  withdrawn: "Withdrawn",
  defaulted: "Defaulted",
  expired: "Offer expired",
  in_review: "Referred to a human reviewer",
  contested: "Decline contested by the borrower",
  overridden: "Reviewer decision",
};

/** Statuses that end an application (its collateral is free again; no step follows). */
/** Receivables one loan pledges at most: LoanAgreements.MAX_COLLATERAL on chain. */
export const MAX_COLLATERAL = 10;

/**
 * Receivables the application form offers at most: a loan pledges 10, and a supplier that splits its
 * invoices may hold tens of thousands (the form would carry megabytes). The form states how many there are.
 */
export const FORM_RECEIVABLES = 100;

export const ENDED_STATUSES: ReadonlySet<string> = new Set(["closed", "declined", "withdrawn", "defaulted", "expired"]);

/** Where the application stands now; `in_review` waits for the lender's reviewer. */
export type ApplicationStatus = Step | TerminalBranch | "in_review";

export interface TimelineEntry {
  step: Step | TerminalBranch | "in_review" | "contested" | "overridden";
  /**
   * Seconds: when the step happened. Block time for chain steps, the service clock for the others; as
   * the two clocks differ, a step is never dated before the step recorded ahead of it (steps are kept
   * in the order they happened), and a chain step keeps its own block time in `blockTime`.
   */
  at: number;
  /** A chain step's block time (equal to `at` unless the chain's clock ran behind the service's). */
  blockTime?: number;
  /** Who did it: an address, "service" (automatic) or "chain". */
  actor: Address | "service";
  detail?: string;
  txHash?: Hex;
}

export interface Review {
  reviewer: Address;
  at: number;
  outcome: "approve" | "decline" | "change_terms";
  reason: string;
  /** The automatic decision's input hash it overrode. */
  overrides: Hex;
  amount?: string;
  rateBps?: number;
  termDays?: number;
  /**
   * Set when the reviewer approved an amount above the decision's limit: the limit it went past and the
   * reviewer's reason for it, shown as an override to both parties.
   */
  limitOverride?: { limit: string; amount: string; reason: string };
}

export interface Offer {
  /** LoanTerms with bigint fields as decimal strings (see offerTerms()). */
  terms: {
    borrower: Address;
    lender: Address;
    currency: Address;
    principal: string;
    rateBps: string;
    start: string;
    disburseBy: string;
    maturity: string;
    collateral: string[];
    documentHash: Hex;
    nonce: string;
    deadline: string;
  };
  digest: Hex;
  /** sha256 of the agreement document (also terms.documentHash). */
  documentSha256: Hex;
  issuedAt: number;
  /** Version of the agreement document's template (absent: 1, offers issued before parties were named). */
  documentVersion?: number;
  /** The parties' registered names, verified against the registry when the offer was issued: they are in the signed document. */
  names?: { borrower?: string; lender?: string };
}

/** One decision's reads: enough to write its access-log entries again, with the same ids (applications/service.ts readEntries). */
export interface DecisionReads {
  /** ISO 8601 wall-clock time of the reads (the entries' `at`). */
  at: string;
  /** The decision's instant (block seconds): the consent was checked at it. */
  asOf: number;
  /** The consent in force at the decision, read under it. */
  consent: { scopes: number; grantedAt: number; expiresAt: number };
  /** The application's scopes at the decision. */
  scopes: number;
  /** Each collateral debtor whose tier the policy read (sorted). */
  debtors: Address[];
  policyVersion: string;
}

export interface ApplicationRecord {
  id: string;
  borrower: Address;
  lender: Address;
  /** Minor units, decimal string: what the offer lends (the request, or the reviewer's changed amount). */
  amount: string;
  termDays: number;
  /**
   * What the borrower asked for; a reviewer's changed terms never go above it. Absent on records older
   * than it. `receivableIds` only when the borrower named them (otherwise the service preselected them).
   */
  requested?: { amount: string; termDays: number; receivableIds?: string[] };
  /** The lender declined the application outside a review (any time before the agreement is recorded). */
  lenderDecline?: { at: number; reason: string };
  /** The borrower withdrew it, with its reason when given. */
  withdrawal?: { at: number; reason?: string };
  receivableIds: string[];
  /** Consent scope bits the borrower grants the lender for this application. */
  scopes: number;
  /** keccak256 of the id: the `purpose` of the on-chain consent grant for this application. */
  purpose: Hex;
  status: ApplicationStatus;
  createdAt: number;
  /** Latest block time when submitted: consents are dated on the chain's clock. */
  createdAtBlockTime?: number;
  updatedAt: number;
  /**
   * How many times this record was stored (each save adds one). A client that gets the record both as an
   * answer and from the live events keeps the higher: the lender's countersignature is answered with the
   * record as it was before the chain recorded the agreement, which the event stream may already have
   * overtaken. Absent on records stored before it.
   */
  revision?: number;
  timeline: TimelineEntry[];
  /** The automatic decision and the exact input it was computed from (canonical JSON). */
  decision?: Record<string, unknown>;
  decisionInput?: unknown;
  decisionAnchorTx?: Hex;
  /**
   * What each automatic decision read on the lender's and the borrower's behalf (oldest first), stored
   * with the decision in the same write so that the reads are durable before it is answered; the access
   * log gets its entries from here (right after the write, and at start for any it lacks). Kept when a
   * reorg undoes the decision: the reads happened. Only with a file access log (see ApplicationsDeps.accessRecorded).
   */
  decisionReads?: DecisionReads[];
  review?: Review;
  contest?: { at: number; reason: string };
  offer?: Offer;
  signatures: { borrower?: Hex; lender?: Hex };
  loanId?: string;
  submitError?: string;
  /** Steps undone because a reorg removed the chain transaction they rested on (newest last). */
  rolledBack?: { at: number; reason: string; steps: TimelineEntry[] }[];
  /** The borrower's Idempotency-Key of the creating request: a retry with it returns this record. */
  idempotencyKey?: string;
}
