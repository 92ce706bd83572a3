/**
 * Participants by registered name (GET /api/participants): each name comes with the opening of the
 * registry's on-chain commitment, and `verified` is true only when the service found that the opening
 * matched on chain; anything else is a claim. One request per signed-in account, shared by every caller.
 *
 *   const { name, verified } = useParticipantName(address);
 */
import { useEffect, useSyncExternalStore } from "react";
import { api } from "../api";
import { useSession } from "./session";

export interface ParticipantEntryView {
  address: string;
  roles: number;
  suspended: boolean;
  name: string | null;
  salt: string | null;
  status: "verified" | "claim" | null;
  displayNameHash: string | null;
  detail: string;
}

export interface ParticipantName {
  /** The registered name (verified) or the name claimed for it; null when none is known. */
  name: string | null;
  /** True only when the name's opening matched the on-chain commitment. */
  verified: boolean;
  address: string;
  entry?: ParticipantEntryView;
}

type Directory = Map<string, ParticipantEntryView>;

let loadedFor: string | null = null;
let directory: Directory = new Map();
let pending: Promise<void> | null = null;
const listeners = new Set<() => void>();

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Loads the directory for the signed-in account (again when the account changes or `force`). */
export function loadParticipants(account: string | undefined, force = false): Promise<void> {
  const key = account?.toLowerCase() ?? null;
  if (!key) {
    if (loadedFor !== null || directory.size) {
      loadedFor = null;
      directory = new Map();
      listeners.forEach((l) => l());
    }
    return Promise.resolve();
  }
  if (!force && loadedFor === key && pending) return pending;
  loadedFor = key;
  pending = api<{ participants: ParticipantEntryView[] }>("/api/participants")
    .then((r) => {
      if (loadedFor !== key) return;
      directory = new Map(r.participants.map((p) => [p.address.toLowerCase(), p]));
      listeners.forEach((l) => l());
    })
    .catch(() => {
      // Not a member, or offline: names stay unknown (addresses are shown); try again on the next mount.
      if (loadedFor === key) pending = null;
    });
  return pending;
}

/** The participants directory as loaded for the signed-in account (empty until loaded). */
export function useParticipants(): Directory {
  const { me } = useSession();
  // Names are shown to members and the operator only (the service answers 403 to anyone else): ask only then.
  const account = me && (me.roles !== 0 || me.operator) ? me.address : undefined;
  useEffect(() => {
    void loadParticipants(account);
  }, [account]);
  return useSyncExternalStore(subscribe, () => directory);
}

/** Resolves an address to { name, verified } as the directory proves it. */
export function participantNameOf(dir: Directory, address: string): ParticipantName {
  const entry = dir.get(address.toLowerCase());
  if (!entry || entry.name === null) return { name: null, verified: false, address, ...(entry ? { entry } : {}) };
  return { name: entry.name, verified: entry.status === "verified", address, entry };
}

/** A participant's registered name and whether it is verified on chain. */
export function useParticipantName(address: string): ParticipantName {
  return participantNameOf(useParticipants(), address);
}

/** For lists: a function from address to { name, verified }. */
export function useParticipantNames(): (address: string) => ParticipantName {
  const dir = useParticipants();
  return (address: string) => participantNameOf(dir, address);
}
