/**
 * The roles file of the demo network (DATA_DIR/demo-accounts.json): which well-known Hardhat test
 * account plays which participant. Display names are demo names; their sha256 is the on-chain
 * displayNameHash. Only meaningful on the embedded development chain.
 */
import path from "node:path";
import type { Address, Hex } from "viem";
import type { RoleName } from "../../node-service/src/chain/eip712";
import { readJsonFile, writeJsonFile } from "./json-file";

export type DemoPersona =
  "operator" | "buyer" | "lender" | "auditor" | "supplier-excellent" | "supplier-mediocre" | "supplier" | "supplier-ring";

export interface DemoAccount {
  /** Index of the Hardhat test account (mnemonic "test test ... junk", path m/44'/60'/0'/0/<index>). */
  index: number;
  address: Address;
  name: string;
  displayNameHash: Hex;
  /** Role names as admitted in the ParticipantRegistry (none for the operator). */
  roles: RoleName[];
  roleBits: number;
  persona: DemoPersona;
  /** What a visitor should try with this account. */
  note: string;
}

export interface DemoAccountsFile {
  seed: number;
  chainId: number;
  /** Block time of the first and last block of the seeded history (seconds). */
  historyFrom: number;
  historyTo: number;
  accounts: DemoAccount[];
}

export function demoAccountsFileOf(dataDir: string): string {
  return path.join(dataDir, "demo-accounts.json");
}

export function readDemoAccounts(file: string): Promise<DemoAccountsFile | null> {
  return readJsonFile<DemoAccountsFile>(file);
}

export function writeDemoAccounts(file: string, data: DemoAccountsFile): Promise<void> {
  return writeJsonFile(file, data);
}
