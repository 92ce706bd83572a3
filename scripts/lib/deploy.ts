/**
 * Deploys the whole contract set to any EVM JSON-RPC node with viem, wires Receivables to
 * LoanAgreements, and returns the deployment record. Used by scripts/deploy.ts, `npm start`, the
 * seed, the benchmarks and the service tests. It first checks that the chain runs the EVM the
 * contracts are compiled for (Cancun), and judges every transaction by its receipt.
 */
import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import { readArtifact, type ContractName, type Deployment } from "../../node-service/src/chain/contracts";
import type { FeeFields } from "../../node-service/src/chain/fees";
import { describeChainError } from "../../node-service/src/chain/revert";

export interface DeployOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** The consortium operator (admin of the registry, arbiter of disputes). Defaults to the deployer. */
  operator?: Address;
  gracePeriod?: number;
  /** Fee fields for every transaction (GAS_PRICE or the EIP-1559 caps); none: the node's suggestion. */
  fees?: FeeFields;
}

/**
 * Creation code that stores 42, copies it with MCOPY (Cancun, EIP-5656) using PUSH0 (Shanghai) and
 * returns the copy: `eth_call`ed without a recipient, it answers 42 only on a chain that has both.
 *   PUSH1 2a PUSH0 MSTORE  PUSH1 20 PUSH0 PUSH1 20 MCOPY  PUSH1 20 PUSH1 20 RETURN
 */
export const CANCUN_PROBE: Hex = "0x602a5f5260205f60205e60206020f3";

/**
 * Refuses, with a sentence, a chain that lacks the EVM features the contracts use (they are compiled
 * for Cancun): without this check a Shanghai chain takes the deployment and fails at first use.
 */
export async function checkEvmFeatures(publicClient: PublicClient): Promise<void> {
  let answer: Hex | undefined;
  let failure = "";
  try {
    answer = (await publicClient.call({ data: CANCUN_PROBE })).data;
  } catch (err) {
    failure = `: ${describeChainError(err)}`;
  }
  if (answer === undefined || BigInt(answer) !== 42n) {
    throw new Error(
      `this chain does not run the Cancun EVM (a probe using MCOPY ${answer === undefined ? "failed" : `answered ${answer}`}${failure}); ` +
        "the contracts are compiled for Cancun (evmVersion cancun) and would fail at their first use: enable the Cancun hardfork on the node",
    );
  }
}

export const DEFAULT_GRACE_PERIOD = 15 * 24 * 3600;

export async function deployAll(opts: DeployOptions): Promise<Deployment> {
  const { publicClient, walletClient } = opts;
  const deployer = walletClient.account.address;
  const operator = opts.operator ?? deployer;
  const gracePeriod = opts.gracePeriod ?? DEFAULT_GRACE_PERIOD;
  const fees = opts.fees ?? {};
  let startBlock: number | undefined;
  await checkEvmFeatures(publicClient);

  async function deploy(name: ContractName, args: unknown[]): Promise<Address> {
    const { abi, bytecode } = readArtifact(name);
    const hash = await walletClient.deployContract({ abi, bytecode, args, ...fees } as Parameters<typeof walletClient.deployContract>[0]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deploying ${name} failed in ${hash}`);
    startBlock ??= Number(receipt.blockNumber);
    return receipt.contractAddress;
  }

  async function send(address: Address, name: ContractName, functionName: string, args: unknown[]): Promise<Hex> {
    const hash = await walletClient.writeContract({ address, abi: readArtifact(name).abi, functionName, args, ...fees } as Parameters<
      typeof walletClient.writeContract
    >[0]);
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
