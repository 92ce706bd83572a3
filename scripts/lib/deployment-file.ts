/**
 * The deployment file (addresses, chain and start block) and the idempotent "deploy unless already
 * deployed" step shared by scripts/deploy.ts and `npm start`.
 */
import { rename } from "node:fs/promises";
import type { Account, Chain, PublicClient, Transport, WalletClient, Address } from "viem";
import { CONTRACT_NAMES, type Deployment } from "../../node-service/src/chain/contracts";
import { readJsonFile, writeJsonFile } from "./json-file";
import { deployAll } from "./deploy";
import type { FeeFields } from "../../node-service/src/chain/fees";

export function readDeploymentFile(file: string): Promise<Deployment | null> {
  return readJsonFile<Deployment>(file);
}

export function writeDeploymentFile(file: string, deployment: Deployment): Promise<void> {
  return writeJsonFile(file, deployment);
}

/**
 * Why `deployment` is not usable on the chain behind `publicClient` (other chain id, other genesis, a
 * contract without code), or null when it is.
 */
export async function deploymentMismatch(publicClient: PublicClient, deployment: Deployment): Promise<string | null> {
  const chainId = await publicClient.getChainId();
  if (deployment.chainId !== chainId) return `it is for chain id ${deployment.chainId}, the node is chain id ${chainId}`;
  const genesis = await publicClient.getBlock({ blockNumber: 0n });
  if (genesis.hash !== deployment.genesisHash) return `it is for genesis ${deployment.genesisHash}, the node's genesis is ${genesis.hash}`;
  for (const name of CONTRACT_NAMES) {
    const address = deployment.contracts?.[name];
    if (!address) return `it has no ${name} address`;
    const code = await publicClient.getCode({ address });
    if (!code || code === "0x") return `${name} has no code at ${address}`;
  }
  return null;
}

export interface EnsureDeploymentOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  file: string;
  operator?: Address;
  fees?: FeeFields;
  log?: (message: string) => void;
}

/** Reuses the deployment in `file` when it is live on this chain; otherwise deploys and writes it. */
export async function ensureDeployment(opts: EnsureDeploymentOptions): Promise<{ deployment: Deployment; reused: boolean }> {
  const log = opts.log ?? (() => undefined);
  const existing = await readDeploymentFile(opts.file);
  if (existing) {
    const mismatch = await deploymentMismatch(opts.publicClient, existing);
    if (mismatch === null) {
      log(
        `reusing the deployment in ${opts.file} (chain ${existing.chainId}, start block ${existing.startBlock}): contracts have code at its addresses`,
      );
      return { deployment: existing, reused: true };
    }
    const backup = `${opts.file}.${Date.now()}.bak`;
    await rename(opts.file, backup);
    log(`not reusing ${opts.file}: ${mismatch}; moved it to ${backup}`);
  }
  const deployment = await deployAll({
    publicClient: opts.publicClient,
    walletClient: opts.walletClient,
    operator: opts.operator,
    fees: opts.fees,
  });
  await writeDeploymentFile(opts.file, deployment);
  log(`deployed ${CONTRACT_NAMES.length} contracts on chain ${deployment.chainId} from block ${deployment.startBlock}; wrote ${opts.file}`);
  return { deployment, reused: false };
}
