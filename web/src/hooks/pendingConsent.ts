/**
 * Consent transactions sent but not yet seen by the service's index, per application: the card shows
 * "consent sent, waiting for the chain" with the transaction instead of offering "Grant consent" again.
 * Kept in sessionStorage, so a reload of the tab still knows the transaction; dropped when the index
 * has seen the consent (the application leaves "submitted") or when the chain says it reverted.
 */
import { useEffect, useSyncExternalStore } from "react";
import type { PublicConfig } from "../api";
import { publicClientOf } from "../wallet";

const KEY = "scf.consent.pending";

export interface PendingConsent {
  hash: `0x${string}`;
  /** Wall-clock ms when it was sent. */
  sentAt: number;
  /** Set once the chain's receipt says the transaction reverted. */
  reverted?: boolean;
}

type Pending = Record<string, PendingConsent>;
const listeners = new Set<() => void>();

function read(): Pending {
  try {
    return (JSON.parse(sessionStorage.getItem(KEY) ?? "{}") as Pending) ?? {};
  } catch {
    return {};
  }
}
let snapshot: Pending = typeof sessionStorage === "undefined" ? {} : read();

function write(next: Pending): void {
  snapshot = next;
  try {
    sessionStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // storage refused (private mode): known for this page only
  }
  for (const l of listeners) l();
}

export function rememberConsentTx(applicationId: string, hash: `0x${string}`): void {
  write({ ...snapshot, [applicationId]: { hash, sentAt: Date.now() } });
}

export function forgetConsentTx(applicationId: string): void {
  if (!(applicationId in snapshot)) return;
  const next = { ...snapshot };
  delete next[applicationId];
  write(next);
}

function markReverted(applicationId: string): void {
  const p = snapshot[applicationId];
  if (p && !p.reverted) write({ ...snapshot, [applicationId]: { ...p, reverted: true } });
}

/** Every consent transaction sent and not yet seen by the index, by application id (re-renders on change). */
export function usePendingConsents(): Readonly<Pending> {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => snapshot,
  );
}

/**
 * The consent transaction sent for an application still waiting for consent, if any. While it is
 * pending, its receipt is watched: a revert is reported (and "Grant consent" offered again).
 */
export function usePendingConsent(config: PublicConfig | undefined, applicationId: string, awaiting: boolean): PendingConsent | undefined {
  const pending = usePendingConsents()[applicationId];
  useEffect(() => {
    // The index has seen the consent (the application moved on): nothing pending any more.
    if (!awaiting && pending) forgetConsentTx(applicationId);
  }, [awaiting, pending, applicationId]);
  const hash = pending && !pending.reverted ? pending.hash : undefined;
  useEffect(() => {
    if (!config || !hash || !awaiting) return;
    let live = true;
    publicClientOf(config)
      .waitForTransactionReceipt({ hash })
      .then(
        (receipt) => {
          if (live && receipt.status === "reverted") markReverted(applicationId);
        },
        () => undefined, // not found yet, or the node is unreachable: keep showing it as sent
      );
    return () => {
      live = false;
    };
  }, [config, hash, awaiting, applicationId]);
  return awaiting ? pending : undefined;
}
