/**
 * The signed-in state every room reads: server config, wallet and participant (provided by App.tsx),
 * and the participants' display names.
 */
import { createContext, useContext } from "react";
import type { Me, PublicConfig } from "../api";
import { shortHex } from "../format";
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

/** A participant's display name: the demo network's names on the dev chain, else a short address. */
export function usePartyName(): (address: string) => string {
  const { config } = useSession();
  return (address: string) =>
    config.demoAccounts?.find((a) => a.address.toLowerCase() === address.toLowerCase())?.name ?? shortHex(address, 4);
}
