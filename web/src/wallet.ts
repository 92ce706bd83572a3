/**
 * Wallets the pages sign with: an injected EIP-1193 wallet (MetaMask) when present, or, only when the
 * server runs the embedded dev chain, the well-known Hardhat test accounts (public keys, labelled so).
 */
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type Account,
  type Address,
  type Chain,
  type EIP1193Provider,
  type PublicClient,
  type WalletClient,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import { api, type Me, type PublicConfig } from "./api";
import { tNs } from "./i18n";

/** Hardhat's default test mnemonic: these keys are public; only ever used against the embedded dev chain. */
const HARDHAT_TEST_MNEMONIC = "test test test test test test test test test test test junk";

export interface Wallet {
  address: Address;
  kind: "injected" | "dev";
  client: WalletClient;
  account: Account | Address;
}

export function chainOf(config: PublicConfig): Chain {
  return defineChain({
    id: config.chainId,
    name: config.chainId === 31337 ? "Embedded dev chain" : `Chain ${config.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.publicRpcUrl] } },
  });
}

export function publicClientOf(config: PublicConfig): PublicClient {
  return createPublicClient({ chain: chainOf(config), transport: http(config.publicRpcUrl) }) as PublicClient;
}

export function devWallet(config: PublicConfig, index: number): Wallet {
  const account = mnemonicToAccount(HARDHAT_TEST_MNEMONIC, { addressIndex: index });
  const client = createWalletClient({ account, chain: chainOf(config), transport: http(config.publicRpcUrl) });
  return { address: account.address, kind: "dev", client, account };
}

export async function injectedWallet(config: PublicConfig): Promise<Wallet> {
  const eth = (window as unknown as { ethereum?: EIP1193Provider }).ethereum;
  if (!eth) throw new Error(tNs("common")("wallet.none"));
  const client = createWalletClient({ chain: chainOf(config), transport: custom(eth) });
  const [address] = await client.requestAddresses();
  return { address, kind: "injected", client, account: address };
}

export function hasInjectedWallet(): boolean {
  return !!(window as unknown as { ethereum?: unknown }).ethereum;
}

/** Sign-In with Ethereum (EIP-4361): the server checks the signature and reads roles from the chain. */
export async function signIn(wallet: Wallet, config: PublicConfig): Promise<Me> {
  const { nonce } = await api<{ nonce: string }>("/api/auth/nonce");
  const message = createSiweMessage({
    domain: window.location.host,
    address: wallet.address,
    statement: "Sign in to the supply-chain financing network.",
    uri: window.location.origin,
    version: "1",
    chainId: config.chainId,
    nonce,
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 8 * 3600 * 1000),
  });
  const signature = await wallet.client.signMessage({ account: wallet.account, message });
  return api<Me>("/api/auth/verify", { method: "POST", json: { message, signature } });
}

/** Which wallet this tab signed in with (a dev account's index or the injected wallet), to restore it after a reload. */
const REMEMBER_KEY = "scf.wallet";
export function rememberWallet(which: number | "injected"): void {
  sessionStorage.setItem(REMEMBER_KEY, String(which));
}
export function rememberedWallet(): number | "injected" | null {
  const v = sessionStorage.getItem(REMEMBER_KEY);
  if (v === null) return null;
  if (v === "injected") return v;
  return /^\d+$/.test(v) ? Number(v) : null;
}
export function forgetWallet(): void {
  sessionStorage.removeItem(REMEMBER_KEY);
}
