/**
 * Loan applications as the pages see them: the view types, the live list kept current by server-sent
 * events, and signing an offer with the wallet. Shared by the manufacturer's and the lender's rooms.
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../api";
import { tNs } from "../i18n";
import { useLoad } from "../components/ui";
import { ABI } from "../contracts";
import { publicClientOf } from "../wallet";
import { rememberConsentTx } from "./pendingConsent";
import { DAY } from "../../../node-service/src/domain/time";
import type { ExplainedReason, Explanation, ReasonText } from "../../../node-service/src/underwriting/explain";
import type { StepView, TimelineEntryView } from "../components/Timeline";
import type { Session } from "./session";

export interface ApplicationView {
  id: string;
  borrower: string;
  lender: string;
  amount: string;
  termDays: number;
  receivableIds: string[];
  scopes: number;
  purpose: `0x${string}`;
  status: string;
  createdAt: number;
  /** How many times the service stored the record: of two copies, the higher is the newer. */
  revision?: number;
  steps: StepView[];
  timeline: TimelineEntryView[];
  decision?: {
    policyVersion: string;
    inputHash: string;
    score: number;
    outcome: string;
    reasons: { code: string; message: string; metric?: string; value?: unknown; points?: number }[];
    limit: string;
    rateBps: number;
  };
  decisionInput?: { flags?: RiskFlagView[]; metrics?: Record<string, Record<string, unknown>> };
  review?: {
    reviewer: string;
    at: number;
    outcome: string;
    reason: string;
    amount?: string;
    rateBps?: number;
    termDays?: number;
    limitOverride?: { limit: string; amount: string; reason: string };
  };
  contest?: { at: number; reason: string };
  /** What the borrower asked for (the offer may lend less after a review); `receivableIds` only when it named them (otherwise the service preselected them). */
  requested?: { amount: string; termDays: number; receivableIds?: string[] };
  lenderDecline?: { at: number; reason: string };
  withdrawal?: { at: number; reason?: string };
  /** The decision in plain words: the reasons that made it and what would change it. */
  explanation?: Explanation;
  /** decision.reasons as message codes, same order (ServiceText.tsx). */
  decisionReasons?: ReasonText[];
  /** While in review: what the reviewer may approve. */
  reviewBounds?: { maxAmount: string; limit: string; minAmount: string; minRateBps: number; maxRateBps: number; maxTermDays: number };
  offer?: { terms: Record<string, string | string[]>; digest: string; documentSha256: string };
  signatures: { borrower?: string; lender?: string };
  loanId?: string;
}
/** An explained reason as the service writes it (underwriting/explain.ts). */
export type ExplainedReasonView = ExplainedReason;
/** Statuses after which nothing more happens to an application. */
export const ENDED = new Set(["closed", "declined", "withdrawn", "defaulted", "expired"]);
/** Whether the borrower may still withdraw it, or the lender decline it: it ended, or its agreement is on chain. */
export const isCancellable = (a: ApplicationView) => !a.loanId && !ENDED.has(a.status);
/** Waiting for the borrower's consent transaction (e.g. the page was reloaded before it was sent). */
export const awaitsConsent = (a: ApplicationView) => a.status === "submitted";

/**
 * The borrower's consent on chain for this application (its purpose ties the grant to it); resolves once
 * mined. The service then collects, screens, scores and decides.
 */
export async function grantConsent(session: Session, app: Pick<ApplicationView, "id" | "lender" | "scopes" | "purpose">): Promise<void> {
  const wallet = session.wallet;
  if (!wallet) throw new Error("sign in with your wallet again to grant consent");
  const expiry = BigInt(Math.floor(Date.now() / 1000) + 180 * DAY);
  const hash = await wallet.client.writeContract({
    account: wallet.account,
    chain: wallet.client.chain,
    address: session.config.contracts.ConsentRegistry,
    abi: ABI.ConsentRegistry,
    functionName: "grant",
    args: [app.lender as `0x${string}`, app.scopes, expiry, app.purpose],
  });
  // Known before it is mined: a reload meanwhile shows "sent, waiting for the chain", not "Grant" again.
  rememberConsentTx(app.id, hash);
  await publicClientOf(session.config).waitForTransactionReceipt({ hash });
}

export interface RiskFlagView {
  code: string;
  severity: string;
  summary: string;
  /** The summary as a message code with string parameters, for the reader's language (ServiceText.tsx). */
  text?: { textCode: string; params: Record<string, string>; itemCode?: string; items?: Record<string, string>[] };
  evidence: { contract: string; event: string; blockNumber: number; txHash: string; at: number }[];
}
/**
 * Live updates of the caller's applications (server-sent events), no reloading. The service ends a
 * stream when a consent it carried data under ends (and on errors); the browser opens a new one a few
 * seconds later, and what changed in between is not sent again: `onReconnect` runs then, to read anew.
 */
export function useApplicationEvents(onUpdate: (a: ApplicationView) => void, enabled: boolean, onReconnect?: () => void) {
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/api/events");
    let opened = false;
    source.addEventListener("open", () => {
      if (opened) onReconnect?.();
      opened = true;
    });
    source.addEventListener("application", (e) => onUpdate(JSON.parse((e as MessageEvent).data)));
    return () => source.close();
  }, [enabled]);
}

/**
 * The newer of two copies of one application (by revision; on a tie, or without revisions, `incoming`).
 * An answer can arrive after an event that already carries a later step (the countersignature's answer
 * and the agreement recorded on chain): the older copy must not replace the newer.
 */
export function newerOf(current: ApplicationView | undefined, incoming: ApplicationView): ApplicationView {
  return current && (current.revision ?? 0) > (incoming.revision ?? 0) ? current : incoming;
}

/**
 * The caller's applications as `role` (borrower or lender): loaded once, then kept current by the live
 * events and by `update` (an answer the caller just got), newest first.
 */
export function useLiveApplications(role: "borrower" | "lender", deps: unknown[]) {
  const apps = useLoad(() => api<{ applications: ApplicationView[] }>(`/api/applications?role=${role}`), deps);
  const [live, setLive] = useState<Record<string, ApplicationView>>({});
  const update = (a: ApplicationView) => setLive((l) => ({ ...l, [a.id]: newerOf(l[a.id], a) }));
  // A stream that ended and came back missed the updates in between: the list is read again.
  useApplicationEvents(update, true, apps.reload);
  const applications = useMemo(() => {
    const byId: Record<string, ApplicationView> = {};
    for (const a of apps.data?.applications ?? []) byId[a.id] = a;
    for (const a of Object.values(live)) byId[a.id] = newerOf(byId[a.id], a);
    return Object.values(byId).sort((a, b) => b.createdAt - a.createdAt);
  }, [apps.data, live]);
  return { apps, applications, update };
}

export async function signOffer(session: Session, app: ApplicationView): Promise<ApplicationView> {
  const wallet = session.wallet;
  if (!wallet) throw new Error(tNs("common")("wallet.signAgain"));
  const offer = await api<{
    typedData: { domain: Record<string, unknown>; types: Record<string, unknown>; primaryType: string; message: Record<string, unknown> };
  }>(`/api/applications/${app.id}/offer`);
  const { domain, types, primaryType, message } = offer.typedData;
  // The typed data comes from the service as JSON; viem re-hashes it exactly as the contract will.
  const signature = await wallet.client.signTypedData({
    account: wallet.account,
    domain: { ...domain, chainId: Number(domain.chainId) },
    types,
    primaryType,
    message,
  } as never);
  return api<ApplicationView>(`/api/applications/${app.id}/signatures`, { method: "POST", json: { signature } });
}
