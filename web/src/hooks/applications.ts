/**
 * Loan applications as the pages see them: the view types, the live list kept current by server-sent
 * events, and signing an offer with the wallet. Shared by the manufacturer's and the lender's rooms.
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../api";
import { tNs } from "../i18n";
import { useLoad } from "../components/ui";
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
  review?: { reviewer: string; at: number; outcome: string; reason: string; rateBps?: number };
  contest?: { at: number; reason: string };
  offer?: { terms: Record<string, string | string[]>; digest: string; documentSha256: string };
  signatures: { borrower?: string; lender?: string };
  loanId?: string;
}
export interface RiskFlagView {
  code: string;
  severity: string;
  summary: string;
  evidence: { contract: string; event: string; blockNumber: number; txHash: string; at: number }[];
}
/** Live updates of the caller's applications (server-sent events), no reloading. */
export function useApplicationEvents(onUpdate: (a: ApplicationView) => void, enabled: boolean) {
  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/api/events");
    source.addEventListener("application", (e) => onUpdate(JSON.parse((e as MessageEvent).data)));
    return () => source.close();
  }, [enabled]);
}

/**
 * The caller's applications as `role` (borrower or lender): loaded once, then kept current by the live
 * events and by `update` (an answer the caller just got), newest first.
 */
export function useLiveApplications(role: "borrower" | "lender", deps: unknown[]) {
  const apps = useLoad(() => api<{ applications: ApplicationView[] }>(`/api/applications?role=${role}`), deps);
  const [live, setLive] = useState<Record<string, ApplicationView>>({});
  const update = (a: ApplicationView) => setLive((l) => ({ ...l, [a.id]: a }));
  useApplicationEvents(update, true);
  const applications = useMemo(() => {
    const byId: Record<string, ApplicationView> = {};
    for (const a of apps.data?.applications ?? []) byId[a.id] = a;
    Object.assign(byId, live);
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
