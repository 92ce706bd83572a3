/**
 * In-app notifications: every step that waits on a participant (or that it must know of), derived from
 * the applications' timelines and the indexed loans, never stored as such. Each has a stable id
 * (`<kind>:<application or loan id>`), so "read" marks and webhook deliveries refer to it across
 * restarts. Structured fields only: the web UI words them in the reader's language.
 */
import type { Address, IndexState } from "../domain/entities";
import { DAY } from "../domain/time";
import type { ApplicationRecord } from "../applications/types";

export const NOTIFICATION_KINDS = [
  /** To the borrower: an offer waits for its signature. */
  "offer_issued",
  /** To the lender: the borrower signed; the offer waits for the countersignature. */
  "signed_by_borrower",
  /** To both: the agreement is recorded on chain; the lender is to disburse. */
  "countersigned",
  /** To the lender: the application waits for its reviewer. */
  "in_review",
  /** To the borrower. */
  "declined",
  /** To the borrower: the money arrived. */
  "disbursed",
  /** To the borrower: the loan matures within the configured days. */
  "due_soon",
  /** To the borrower and the lender: past maturity with money outstanding. */
  "overdue",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface Notification {
  id: string;
  kind: NotificationKind;
  recipient: Address;
  /** Block time of the step (due_soon: when the window opened; overdue: maturity). */
  at: number;
  applicationId?: string;
  loanId?: string;
  /** The other party. */
  counterparty: Address;
  /** Minor units: the application's amount, or what is outstanding on the loan. */
  amount: bigint;
  /** The loan's maturity, when there is one. */
  due?: number;
}

/** Application timeline steps that notify, and whom. */
const STEP_NOTICES: Partial<Record<string, { kind: NotificationKind; to: ("borrower" | "lender")[] }>> = {
  offer_issued: { kind: "offer_issued", to: ["borrower"] },
  signed_by_borrower: { kind: "signed_by_borrower", to: ["lender"] },
  countersigned_notarized: { kind: "countersigned", to: ["borrower", "lender"] },
  in_review: { kind: "in_review", to: ["lender"] },
  declined: { kind: "declined", to: ["borrower"] },
  disbursed: { kind: "disbursed", to: ["borrower"] },
};

export interface DeriveOptions {
  asOf: number;
  /** A loan is "due soon" this many days before maturity. */
  dueSoonDays: number;
}

/** What the notifications read of the index: the party's loans (an index holding at least those). */
export type PartyLoans = Pick<IndexState, "loansByParty" | "loans">;

/** The notifications of `party`, newest first. */
export function notificationsFor(
  party: Address,
  apps: readonly ApplicationRecord[],
  state: PartyLoans,
  opts: DeriveOptions,
): Notification[] {
  const out: Notification[] = [];
  for (const app of apps) {
    if (app.borrower !== party && app.lender !== party) continue;
    const role = app.borrower === party ? "borrower" : "lender";
    const seen = new Set<string>();
    for (const entry of app.timeline) {
      const notice = STEP_NOTICES[entry.step];
      if (!notice || !notice.to.includes(role) || seen.has(notice.kind)) continue;
      seen.add(notice.kind);
      const n: Notification = {
        id: `${notice.kind}:${app.id}`,
        kind: notice.kind,
        recipient: party,
        at: entry.at,
        applicationId: app.id,
        counterparty: role === "borrower" ? app.lender : app.borrower,
        amount: BigInt(app.amount),
      };
      if (app.loanId) n.loanId = app.loanId;
      if (app.offer) n.due = Number(app.offer.terms.maturity);
      out.push(n);
    }
  }
  for (const id of state.loansByParty[party] ?? []) {
    const loan = state.loans[id];
    if (!loan || (loan.status !== "Active" && loan.status !== "Defaulted")) continue;
    const outstanding = loan.totalDue - loan.repaid;
    if (outstanding <= 0n) continue;
    const role = loan.borrower === party ? "borrower" : "lender";
    const base = {
      recipient: party,
      loanId: loan.id,
      counterparty: role === "borrower" ? loan.lender : loan.borrower,
      amount: outstanding,
      due: loan.maturity,
    };
    if (opts.asOf > loan.maturity) {
      out.push({ id: `overdue:${loan.id}`, kind: "overdue", at: loan.maturity, ...base });
    } else if (role === "borrower" && loan.maturity - opts.asOf <= opts.dueSoonDays * DAY) {
      out.push({ id: `due_soon:${loan.id}`, kind: "due_soon", at: loan.maturity - opts.dueSoonDays * DAY, ...base });
    }
  }
  return out.sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : 1));
}
