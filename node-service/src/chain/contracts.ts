/**
 * The project's contracts as the service sees them: names, ABIs and bytecode read from Hardhat's
 * compiled artifacts (never hand-written), and the deployment record that says where they live.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Abi, Address, Hex } from "viem";

/**
 * The project's root: the nearest folder above this file with a package.json. The same whether this
 * runs from source (node-service/src/chain/) or compiled (dist/node-service/src/chain/, `npm run build`).
 */
export const REPO_ROOT = projectRoot(__dirname);

function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}

export const CONTRACT_NAMES = [
  "ParticipantRegistry",
  "SettlementToken",
  "TradeOrders",
  "Receivables",
  "LoanAgreements",
  "ConsentRegistry",
  "EvidenceNotary",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface Artifact {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
}

const cache = new Map<string, Artifact>();

/** Reads `artifacts/contracts/<Name>.sol/<Name>.json` (or a mock under contracts/mocks). */
export function readArtifact(name: string, subdir = ""): Artifact {
  const key = `${subdir}/${name}`;
  let artifact = cache.get(key);
  if (!artifact) {
    const file = path.join(REPO_ROOT, "artifacts/contracts", subdir, `${name}.sol`, `${name}.json`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new Error(`artifact ${file} not found: run "npx hardhat compile" first`);
    }
    artifact = JSON.parse(text) as Artifact;
    cache.set(key, artifact);
  }
  return artifact;
}

export function abiOf(name: ContractName): Abi {
  return readArtifact(name).abi;
}

/** Where a deployment lives; written by scripts/deploy.ts, read by the service. */
export interface Deployment {
  chainId: number;
  /** Hash of block 0: a different genesis means a different chain, and the index starts over. */
  genesisHash: Hex;
  /** First block to index: the block of the first deployment transaction. */
  startBlock: number;
  deployer: Address;
  /** Seconds after maturity before a lender may declare default. */
  gracePeriod: number;
  contracts: Record<ContractName, Address>;
}
