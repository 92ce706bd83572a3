/**
 * viem clients for the scripts, over an HTTP URL or an in-process EIP-1193 provider, and the
 * operator's signing key: PRIVATE_KEY, or a keystore file whose password comes from the environment.
 * Keys never come from the repository; only a development chain may use its unlocked test accounts.
 */
import { readFile } from "node:fs/promises";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type Account,
  type Address,
  type Chain,
  type EIP1193RequestFn,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** Chain ids of local development networks (Hardhat, Anvil): the only ones where test accounts are used. */
export const DEV_CHAIN_IDS = new Set([31337, 1337]);

/**
 * Refuses any chain but a development chain (Hardhat's or Anvil's default chain id), with a sentence:
 * for what only belongs on a throwaway chain (the seed's made-up history, its unlocked test accounts).
 */
export function assertDevelopmentChain(chainId: number, what: string): void {
  if (!DEV_CHAIN_IDS.has(chainId)) {
    throw new Error(
      `${what} runs only on a development chain (chain id ${[...DEV_CHAIN_IDS].join(" or ")}); this node is chain ${chainId}`,
    );
  }
}

/** An HTTP URL, or an in-process EIP-1193 provider (method syntax: any provider's request fits). */
export type RpcSource = string | { request(args: { method: string; params?: unknown[] | object }): Promise<unknown> };

export function transportOf(source: RpcSource): Transport {
  return typeof source === "string" ? http(source, { retryCount: 0 }) : custom(source as { request: EIP1193RequestFn });
}

export function chainOf(chainId: number, url = "http://127.0.0.1:8545"): Chain {
  return defineChain({
    id: chainId,
    name: DEV_CHAIN_IDS.has(chainId) ? "Embedded Hardhat network" : `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
}

export async function publicClientFor(source: RpcSource): Promise<PublicClient> {
  const probe = createPublicClient({ transport: transportOf(source) });
  const chainId = await probe.getChainId();
  return createPublicClient({
    chain: chainOf(chainId, typeof source === "string" ? source : undefined),
    transport: transportOf(source),
    // viem polls for receipts; an in-process chain answers at once, so poll quickly there.
    pollingInterval: typeof source === "string" ? 200 : 20,
  }) as PublicClient;
}

export function walletClientFor(
  publicClient: PublicClient,
  source: RpcSource,
  account: Account | Address,
): WalletClient<Transport, Chain, Account> {
  return createWalletClient({
    account,
    chain: publicClient.chain,
    transport: transportOf(source),
    pollingInterval: publicClient.pollingInterval,
  }) as WalletClient<Transport, Chain, Account>;
}

export interface KeySource {
  privateKey?: string;
  keystoreFile?: string;
  keystorePassword?: string;
}

/**
 * The operator's account: PRIVATE_KEY, else a keystore (password in KEYSTORE_PASSWORD), else, on a
 * development chain only, the node's first unlocked account.
 */
export async function resolveAccount(publicClient: PublicClient, keys: KeySource): Promise<Account | Address> {
  if (keys.privateKey) {
    const hex = (keys.privateKey.startsWith("0x") ? keys.privateKey : `0x${keys.privateKey}`) as Hex;
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new Error("PRIVATE_KEY is not a 32-byte hex key");
    return privateKeyToAccount(hex);
  }
  if (keys.keystoreFile) {
    if (!keys.keystorePassword) throw new Error(`--keystore ${keys.keystoreFile} needs its password in KEYSTORE_PASSWORD`);
    const { Wallet } = await import("ethers");
    const wallet = await Wallet.fromEncryptedJson(await readFile(keys.keystoreFile, "utf8"), keys.keystorePassword);
    return privateKeyToAccount(wallet.privateKey as Hex);
  }
  const chainId = await publicClient.getChainId();
  if (!DEV_CHAIN_IDS.has(chainId)) {
    throw new Error(
      `chain ${chainId} is not a development chain: give the operator key in PRIVATE_KEY or with --keystore FILE (password in KEYSTORE_PASSWORD)`,
    );
  }
  const accounts = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
  if (accounts.length === 0) throw new Error("the development node has no unlocked account: set PRIVATE_KEY");
  return accounts[0];
}
