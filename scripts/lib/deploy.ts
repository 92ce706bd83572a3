/**
 * Deploys the whole contract set to any EVM JSON-RPC node with viem, wires Receivables to
 * LoanAgreements, and returns the deployment record. Used by scripts/deploy.ts, `npm start`, the
 * seed, the benchmarks and the service tests.
 */
import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { readArtifact, type ContractName, type Deployment } from "../../node-service/src/chain/contracts";

export interface DeployOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** The consortium operator (admin of the registry, arbiter of disputes). Defaults to the deployer. */
  operator?: Address;
  gracePeriod?: number;
}

export const DEFAULT_GRACE_PERIOD = 15 * 24 * 3600;

export async function deployAll(opts: DeployOptions): Promise<Deployment> {
  const { publicClient, walletClient } = opts;
  const deployer = walletClient.account.address;
  const operator = opts.operator ?? deployer;
  const gracePeriod = opts.gracePeriod ?? DEFAULT_GRACE_PERIOD;
  let startBlock: number | undefined;

  async function deploy(name: ContractName, args: unknown[]): Promise<Address> {
    const { abi, bytecode } = readArtifact(name);
    const hash = await walletClient.deployContract({ abi, bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deploying ${name} failed in ${hash}`);
    startBlock ??= Number(receipt.blockNumber);
    return receipt.contractAddress;
  }

  async function send(address: Address, name: ContractName, functionName: string, args: unknown[]): Promise<Hex> {
    const hash = await walletClient.writeContract({ address, abi: readArtifact(name).abi, functionName, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${name}.${functionName} failed in ${hash}`);
    return hash;
  }

  const ParticipantRegistry = await deploy("ParticipantRegistry", [operator]);
  const SettlementToken = await deploy("SettlementToken", [operator]);
  const TradeOrders = await deploy("TradeOrders", [ParticipantRegistry, operator]);
  const Receivables = await deploy("Receivables", [ParticipantRegistry, TradeOrders, SettlementToken, deployer]);
  const LoanAgreements = await deploy("LoanAgreements", [ParticipantRegistry, Receivables, SettlementToken, BigInt(gracePeriod)]);
  await send(Receivables, "Receivables", "setLoanAgreements", [LoanAgreements]);
  const ConsentRegistry = await deploy("ConsentRegistry", [ParticipantRegistry]);
  const EvidenceNotary = await deploy("EvidenceNotary", [ParticipantRegistry]);

  const genesis = await publicClient.getBlock({ blockNumber: 0n });
  return {
    chainId: await publicClient.getChainId(),
    genesisHash: genesis.hash,
    startBlock: startBlock ?? 0,
    deployer,
    gracePeriod,
    contracts: {
      ParticipantRegistry,
      SettlementToken,
      TradeOrders,
      Receivables,
      LoanAgreements,
      ConsentRegistry,
      EvidenceNotary,
    },
  };
}
