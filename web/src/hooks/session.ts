/**
 * The signed-in state every room reads: server config, wallet and participant (provided by App.tsx),
 * and the participants' display names.
 */
import { createContext, useContext } from "react";
import type { Me, PublicConfig } from "../api";
import { shortHex } from "../format";
import { useParticipantNames } from "./participants";
import type { Wallet } from "../wallet";

export interface Session {
  config: PublicConfig;
  wallet?: Wallet;
  me?: Me;
}
export const SessionContext = createContext<Session | null>(null);
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("no session context");
  return s;
}

/**
 * A participant's display name: its registered name when verified on chain (the participants directory,
 * for members), else the demo network's name on the dev chain, else a short address. For a name with its
 * verified/claim label and the address on demand, use <ParticipantName> or useParticipantName.
 */
export function usePartyName(): (address: string) => string {
  const { config } = useSession();
  const nameOf = useParticipantNames();
  return (address: string) => {
    const registered = nameOf(address);
    if (registered.verified && registered.name) return registered.name;
    return config.demoAccounts?.find((a) => a.address.toLowerCase() === address.toLowerCase())?.name ?? shortHex(address, 4);
  };
}
