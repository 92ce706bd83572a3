/**
 * Shared by the API tests: a deployment on the in-process Hardhat network with admitted participants,
 * the real service started over it on port 0, HTTP helpers, and Sign-In with Ethereum by test accounts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { custom, getAddress, keccak256, toHex, type Abi, type Address, type EIP1193RequestFn, type Hex, type PublicClient } from "viem";
import { createSiweMessage, type SiweMessage } from "viem/siwe";
import { deployAll } from "../../scripts/lib/deploy";
import { abiOf, type ContractName, type Deployment } from "../../node-service/src/chain/contracts";
import { ROLE, loanTermsTypedData } from "../../node-service/src/chain/eip712";
import { loadConfig, type Config } from "../../node-service/src/config";
import { startService, type RunningService } from "../../node-service/src/server";
import { DAY } from "../../node-service/src/domain/time";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";

/** One DAY for every test (defined in node-service/src/domain/time.ts). */
export { DAY };

export type Wallet = Awaited<ReturnType<typeof hre.viem.getWalletClients>>[number];

export async function deployNetwork() {
  const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
  const wallets = await hre.viem.getWalletClients();
  const [operator, supplier, buyer, lender, lender2, auditor, outsider, supplier2] = wallets.slice(0, 8).concat([]) as Wallet[];
  const deployment = await deployAll({ publicClient, walletClient: operator as never });

  async function send(wallet: Wallet, contract: ContractName, functionName: string, args: unknown[]): Promise<Hex> {
    const hash = await wallet.writeContract({
      address: deployment.contracts[contract],
      abi: abiOf(contract) as Abi,
      functionName,
      args,
    } as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${contract}.${functionName} reverted`);
    return hash;
  }
  async function read<T>(contract: ContractName, functionName: string, args: unknown[]): Promise<T> {
    return (await publicClient.readContract({ address: deployment.contracts[contract], abi: abiOf(contract), functionName, args })) as T;
  }

  const h = (text: string) => keccak256(toHex(text));
  const members: [Wallet, number][] = [
    [supplier, ROLE.SUPPLIER],
    [supplier2, ROLE.SUPPLIER],
    [buyer, ROLE.BUYER],
    [lender, ROLE.LENDER],
    [lender2, ROLE.LENDER],
    [auditor, ROLE.AUDITOR],
  ];
  for (const [w, roles] of members) {
    const a = w.account.address;
    await send(operator, "ParticipantRegistry", "admit", [a, roles, h(`kyc:${a}`), h(`name:${a}`), [h(`addr:${a}`)]]);
  }

  async function latestTime(): Promise<number> {
    return Number((await publicClient.getBlock({ blockTag: "latest" })).timestamp);
  }

  /** An order from buyer to supplier walked to delivery, with a receivable issued and acknowledged. */
  async function tradeOnce(amount: bigint, sup: Wallet = supplier): Promise<{ orderId: bigint; receivableId: bigint }> {
    await send(buyer, "TradeOrders", "createOrder", [sup.account.address, amount, h(`po:${amount}`), (await latestTime()) + 30 * DAY]);
    const orderId = await read<bigint>("TradeOrders", "orderCount", []);
    await send(sup, "TradeOrders", "accept", [orderId]);
    await send(sup, "TradeOrders", "ship", [orderId, h(`bol:${orderId}`)]);
    await send(buyer, "TradeOrders", "confirmDelivery", [orderId]);
    const maturity = (await latestTime()) + 60 * DAY;
    const { result: receivableId } = await publicClient.simulateContract({
      account: sup.account,
      address: deployment.contracts.Receivables,
      abi: abiOf("Receivables"),
      functionName: "issue",
      args: [orderId, h(`invoice:${orderId}`), h(`inv-no:${orderId}`), amount, maturity],
    });
    await send(sup, "Receivables", "issue", [orderId, h(`invoice:${orderId}`), h(`inv-no:${orderId}`), amount, maturity]);
    await send(buyer, "Receivables", "acknowledge", [receivableId]);
    return { orderId, receivableId: receivableId as bigint };
  }

  /**
   * A loan from `lender` to `sup` on one receivable, signed by both (EIP-712), disbursed, partly repaid
   * by the borrower and partly by the debtor paying the pledged receivable (the waterfall).
   */
  async function loanOnce(receivableId: bigint, opts: { principal: bigint; repay: bigint; receivablePayment: bigint; sup?: Wallet }) {
    const sup = opts.sup ?? supplier;
    const chainId = await publicClient.getChainId();
    const t = BigInt(await latestTime());
    const terms = {
      borrower: sup.account.address,
      lender: lender.account.address,
      currency: deployment.contracts.SettlementToken,
      principal: opts.principal,
      rateBps: 800n,
      start: t,
      disburseBy: t + BigInt(7 * DAY),
      maturity: t + BigInt(90 * DAY),
      collateral: [receivableId],
      documentHash: h(`agreement:${receivableId}`),
      nonce: receivableId,
      deadline: t + 3600n,
    };
    const typed = loanTermsTypedData(chainId, deployment.contracts.LoanAgreements, terms);
    const borrowerSig = await sup.signTypedData({ ...typed, account: sup.account });
    const lenderSig = await lender.signTypedData({ ...typed, account: lender.account });
    await send(operator, "SettlementToken", "mint", [lender.account.address, opts.principal]);
    await send(operator, "SettlementToken", "mint", [buyer.account.address, opts.receivablePayment]);
    await send(lender, "SettlementToken", "approve", [deployment.contracts.LoanAgreements, opts.principal]);
    await send(sup, "SettlementToken", "approve", [deployment.contracts.LoanAgreements, opts.repay]);
    await send(buyer, "SettlementToken", "approve", [deployment.contracts.Receivables, opts.receivablePayment]);
    await send(operator, "LoanAgreements", "submitAgreement", [terms, borrowerSig, lenderSig]);
    const loanId = await read<bigint>("LoanAgreements", "loanCount", []);
    await send(lender, "LoanAgreements", "disburse", [loanId]);
    await send(sup, "LoanAgreements", "repay", [loanId, opts.repay]);
    await send(buyer, "Receivables", "pay", [receivableId, opts.receivablePayment]);
    return { loanId, terms };
  }

  return {
    publicClient,
    deployment,
    operator,
    supplier,
    supplier2,
    buyer,
    lender,
    lender2,
    auditor,
    outsider,
    send,
    read,
    latestTime,
    tradeOnce,
    loanOnce,
    h,
  };
}

export type Network = Awaited<ReturnType<typeof deployNetwork>>;

export async function tempDataDir(deployment: Deployment): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "scf-api-"));
  await writeFile(path.join(dir, "deployment.json"), JSON.stringify(deployment));
  return dir;
}

export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  return loadConfig(
    {},
    {
      PORT: 0,
      DATA_DIR: dataDir,
      DEPLOYMENT_FILE: path.join(dataDir, "deployment.json"),
      LOG_LEVEL: "silent",
      POLL_INTERVAL_MS: 50,
      ROLE_CACHE_MS: 0,
      RATE_LIMIT_PER_MINUTE: 100_000,
      SIGN_INS_PER_MINUTE: 100_000,
      ...overrides,
    },
  );
}

export function startTestService(config: Config): Promise<RunningService> {
  return startService(config, { transport: custom(hre.network.provider as unknown as { request: EIP1193RequestFn }) });
}

/** Waits until the service's indexer has applied the chain's head block. */
export async function waitIndexed(service: RunningService, publicClient: PublicClient, timeoutMs = 20_000): Promise<void> {
  const head = Number(await publicClient.getBlockNumber());
  const deadline = Date.now() + timeoutMs;
  while (service.indexer.stats().indexedBlock < head) {
    if (Date.now() > deadline) throw new Error(`indexer stuck at ${service.indexer.stats().indexedBlock}, head ${head}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the service's consent answers reflect the chain's head block (index plus consent watcher). */
export async function waitConsentsSeen(service: RunningService, publicClient: PublicClient, timeoutMs = 20_000): Promise<number> {
  const head = Number(await publicClient.getBlockNumber());
  const deadline = Date.now() + timeoutMs;
  while (service.authority.consentBlock() < head) {
    if (Date.now() > deadline) throw new Error(`consents seen up to block ${service.authority.consentBlock()}, head ${head}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return head;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET that shows the bytes on the wire (fetch would decompress them). */
export function rawGet(base: string, url: string, headers: Record<string, string> = {}, maxMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${url}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => res.destroy(), maxMs);
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      };
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", done);
      res.on("close", done);
    });
    req.on("error", reject);
    req.end();
  });
}

export async function call(
  base: string,
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.raw !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${url}`, {
    method,
    headers,
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text and the like stay strings.
  }
  return { status: res.status, headers: res.headers, body };
}

/** A SIWE message for `address` against the service at `base`, with overridable fields. */
export async function siweMessage(base: string, address: Address, fields: Partial<SiweMessage> = {}): Promise<string> {
  const { body } = await call(base, "GET", "/api/auth/nonce");
  return createSiweMessage({
    domain: new URL(base).host,
    address: getAddress(address),
    statement: "Sign in to the supply-chain financing network.",
    uri: base,
    version: "1",
    chainId: 31337,
    nonce: body.nonce,
    issuedAt: new Date(),
    ...fields,
  });
}

/**
 * A sign-in as the browser posts it: a SIWE message (siweMessage with `fields`) naming `address` (the
 * signer's own unless given), signed by `signer`, to /api/auth/verify with `headers`. The answer as it
 * is, accepted or refused, with the message and signature (to replay them).
 */
export async function postSignIn(
  base: string,
  signer: Wallet,
  opts: { address?: Address; fields?: Partial<SiweMessage>; headers?: Record<string, string> } = {},
): Promise<HttpAnswer & { message: string; signature: Hex }> {
  const message = await siweMessage(base, opts.address ?? signer.account.address, opts.fields);
  const signature = await signer.signMessage({ message, account: signer.account });
  const res = await call(base, "POST", "/api/auth/verify", { body: { message, signature }, headers: opts.headers });
  return { ...res, message, signature };
}

export async function signIn(base: string, wallet: Wallet): Promise<string> {
  const res = await postSignIn(base, wallet);
  if (res.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(res.body)}`);
  return res.body.token as string;
}

/** The network's wallets by name (operator, supplier, ...). */
type WalletName = { [K in keyof Network]: Network[K] extends Wallet ? K : never }[keyof Network];

/** Signs each of `names` of the network in, one after another; their session tokens by name. */
export async function signInAll<K extends WalletName>(base: string, net: Network, names: readonly K[]): Promise<Record<K, string>> {
  const tokens = {} as Record<K, string>;
  for (const name of names) tokens[name] = await signIn(base, net[name]);
  return tokens;
}

/**
 * POST /api/applications as `token`: `amount` (minor units) for `termDays` (30 unless given) from `lender`
 * against `receivableIds`, with every scope scoring needs unless `scopes` says otherwise, and `headers`
 * (e.g. an Idempotency-Key). The answer as it is.
 */
export function postApplication(
  base: string,
  token: string,
  application: {
    amount: bigint | string;
    termDays?: number;
    lender: Address;
    receivableIds: readonly (bigint | string)[];
    scopes?: number;
  },
  headers?: Record<string, string>,
): Promise<HttpAnswer> {
  const { amount, termDays = 30, lender, receivableIds, scopes = REQUIRED_SCOPES } = application;
  return call(base, "POST", "/api/applications", {
    token,
    body: { amount: amount.toString(), termDays, lender, receivableIds: receivableIds.map(String), scopes },
    headers,
  });
}

/**
 * An open /api/events stream of `token`: the application updates it carried, and how it ended (the
 * reason of its `end` event, and whether the server closed it); `connected` resolves once the server
 * has subscribed it. close() aborts it.
 */
export function openEventStream(base: string, token: string) {
  const controller = new AbortController();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const events: any[] = [];
  const state: { ended?: string; closed: boolean } = { closed: false };
  let opened: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (opened = resolve));
  const done = (async () => {
    const res = await fetch(`${base}/api/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.contain("text/event-stream");
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(": connected")) opened();
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (frame.includes("event: application") && data) events.push(JSON.parse(data.slice(6)));
          if (frame.includes("event: end") && data) state.ended = JSON.parse(data.slice(6)).reason;
        }
      }
    } catch (err) {
      if ((err as Error).name !== "AbortError") throw err;
    }
    state.closed = true;
  })();
  return { events, state, connected, close: () => (controller.abort(), done.catch(() => undefined)) };
}

/** Signs each wallet in at once; their session tokens in the same order (any viem wallet client of the test network). */
export function signInEach(base: string, ...wallets: readonly { account: unknown }[]): Promise<string[]> {
  return Promise.all(wallets.map((w) => signIn(base, w as Wallet)));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** What startOnNetwork started: the service, its data directory and a session for each wallet asked for. */
export interface ServiceOnNetwork<K extends WalletName> {
  service: RunningService;
  dataDir: string;
  tokens: Record<K, string>;
}

/**
 * The service tests' usual start: a fresh data directory with `net`'s deployment (`prepare` writes more
 * into it first, e.g. participant names), the real service on it (testConfig with `config`), indexed to
 * the chain's head, and a session for each of `who`. stopOnNetwork undoes it.
 */
export async function startOnNetwork<K extends WalletName>(
  net: Network,
  who: readonly K[],
  options: { config?: Partial<Config>; prepare?: (dataDir: string) => Promise<void> } = {},
): Promise<ServiceOnNetwork<K>> {
  const dataDir = await tempDataDir(net.deployment);
  let service: RunningService | undefined;
  try {
    await options.prepare?.(dataDir);
    service = await startTestService(testConfig(dataDir, options.config));
    await waitIndexed(service, net.publicClient);
    return { service, dataDir, tokens: await signInAll(service.url, net, who) };
  } catch (err) {
    await stopOnNetwork({ service, dataDir });
    throw err;
  }
}

/** Closes the service startOnNetwork started and removes its data directory (nothing when it never started). */
export async function stopOnNetwork(running: { service?: RunningService; dataDir?: string } | undefined): Promise<void> {
  await running?.service?.close();
  if (running?.dataDir) await removeDir(running.dataDir);
}
