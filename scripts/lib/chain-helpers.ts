/**
 * Drive the project's contracts from tests and benchmarks (scripts/bench/): admit participants, run orders to delivery,
 * issue and acknowledge receivables, sign and submit loan agreements, pay through the waterfall.
 * Every helper sends real transactions with viem wallet clients (Hardhat test accounts, in process
 * or over HTTP) and waits for a successful receipt, so a helper either did its job or threw.
 *
 * Usage:
 *   const net = { publicClient, deployment: await deployContracts(publicClient, operator) };
 *   await admit(net, operator, [{ account: buyer.account.address, roles: ROLE.BUYER }, ...]);
 *   const orderId = await createDeliveredOrder(net, { buyer, supplier: supplier.account.address, amount: 100_000n });
 *   const receivableId = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 100_000n });
 *   const { loanId } = await signAndSubmitAgreement(net, { borrower: supplier, lender, principal: 50_000n, collateral: [receivableId] });
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import {
  createPublicClient,
  createWalletClient,
  http,
  keccak256,
  parseEventLogs,
  stringToHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { hardhat } from "viem/chains";
import { REPO_ROOT, abiOf, type ContractName, type Deployment } from "../../node-service/src/chain/contracts";
import { acknowledgmentTypedData, loanTermsTypedData, type LoanTerms } from "../../node-service/src/chain/eip712";
import { invoiceNumberHash } from "../../node-service/src/domain/invoice-number";
import { deployAll } from "./deploy";
import type { FeeFields } from "../../node-service/src/chain/fees";
import { DAY } from "../../node-service/src/domain/time";
import { totalDueOf } from "../../node-service/src/loans/view";

/** One DAY for tests and benchmarks (defined in node-service/src/domain/time.ts). */
export { DAY };

/** The mnemonic of Hardhat's and Anvil's default development accounts (never a real key). */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** ts-node's CLI, for tests that run a TypeScript script as its own node process. */
export const TS_NODE_BIN = path.join(REPO_ROOT, "node_modules/ts-node/dist/bin.js");

export type Wallet = WalletClient<Transport, Chain, Account>;

/** A chain and the deployment the helpers act on. */
export interface Net {
  publicClient: PublicClient;
  deployment: Deployment;
  /** Fee fields for every transaction the helpers send (a zero-fee chain needs 0 and 0); none: the node's suggestion. */
  fees?: FeeFields;
}

/** sha256-like stand-in for a document hash in tests: keccak256 of a label. */
export function docHash(label: string): Hex {
  return keccak256(stringToHex(label));
}

export async function deployContracts(publicClient: PublicClient, operator: Wallet, gracePeriod?: number): Promise<Deployment> {
  return deployAll({ publicClient, walletClient: operator, gracePeriod });
}

/** Sends one contract call from `wallet` and returns its receipt; throws unless it succeeded. */
export async function send(
  net: Net,
  wallet: Wallet,
  contract: ContractName,
  functionName: string,
  args: readonly unknown[],
): Promise<TransactionReceipt> {
  const hash = await wallet.writeContract({
    address: net.deployment.contracts[contract],
    abi: abiOf(contract),
    functionName,
    args,
    chain: wallet.chain,
    account: wallet.account,
    ...net.fees,
  } as Parameters<Wallet["writeContract"]>[0]);
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== "success") throw new Error(`${contract}.${functionName} reverted in ${hash}`);
  return receipt;
}

/** The decoded arguments of every `eventName` of `contract` in a receipt. */
export function eventsIn(net: Net, receipt: TransactionReceipt, contract: ContractName, eventName: string): Record<string, unknown>[] {
  const address = net.deployment.contracts[contract].toLowerCase();
  return parseEventLogs({ abi: abiOf(contract), logs: receipt.logs, eventName })
    .filter((l) => l.address.toLowerCase() === address)
    .map((l) => l.args as Record<string, unknown>);
}

/** Block time of the latest block, in seconds. */
export async function latestTime(net: Pick<Net, "publicClient">): Promise<number> {
  return Number((await net.publicClient.getBlock()).timestamp);
}

export interface Admission {
  account: Address;
  /** Bitmask of ROLE. */
  roles: number;
  kycAttributes?: Hex[];
  name?: string;
}

/** The operator admits each participant (KYC dossier and display name hashes derived from the address). */
export async function admit(net: Net, operator: Wallet, participants: Admission[]): Promise<void> {
  for (const p of participants) {
    await send(net, operator, "ParticipantRegistry", "admit", [
      p.account,
      p.roles,
      docHash(`kyc:${p.account}`),
      docHash(`name:${p.name ?? p.account}`),
      p.kycAttributes ?? [],
    ]);
  }
}

/** The buyer creates an order; returns its id. `deliveryDue` defaults to 30 days from now. */
export async function createOrder(
  net: Net,
  o: { buyer: Wallet; supplier: Address; amount: bigint; deliveryDue?: number; document?: string },
): Promise<bigint> {
  const due = o.deliveryDue ?? (await latestTime(net)) + 30 * DAY;
  const receipt = await send(net, o.buyer, "TradeOrders", "createOrder", [
    o.supplier,
    o.amount,
    docHash(o.document ?? `po:${Math.random()}`),
    due,
  ]);
  return eventsIn(net, receipt, "TradeOrders", "OrderCreated")[0].orderId as bigint;
}

/** Runs an order from Created through Accepted and Shipped to Delivered (and Completed when asked). */
export async function fulfilOrder(net: Net, o: { orderId: bigint; buyer: Wallet; supplier: Wallet; complete?: boolean }): Promise<void> {
  await send(net, o.supplier, "TradeOrders", "accept", [o.orderId]);
  await send(net, o.supplier, "TradeOrders", "ship", [o.orderId, docHash(`bill-of-lading:${o.orderId}`)]);
  await send(net, o.buyer, "TradeOrders", "confirmDelivery", [o.orderId]);
  if (o.complete) await send(net, o.buyer, "TradeOrders", "complete", [o.orderId]);
}

/** createOrder + fulfilOrder: an order ready to be invoiced. */
export async function createDeliveredOrder(
  net: Net,
  o: { buyer: Wallet; supplier: Wallet; amount: bigint; complete?: boolean; deliveryDue?: number },
): Promise<bigint> {
  const orderId = await createOrder(net, {
    buyer: o.buyer,
    supplier: o.supplier.account.address,
    amount: o.amount,
    deliveryDue: o.deliveryDue,
  });
  await fulfilOrder(net, { orderId, buyer: o.buyer, supplier: o.supplier, complete: o.complete });
  return orderId;
}

export interface IssuedReceivable {
  receivableId: bigint;
  orderId: bigint;
  invoiceHash: Hex;
  faceValue: bigint;
  maturity: number;
}

/** The supplier issues a receivable against a delivered order; `maturity` defaults to 60 days from now. */
export async function issueReceivable(
  net: Net,
  r: { supplier: Wallet; orderId: bigint; faceValue: bigint; maturity?: number; invoiceNumber?: string },
): Promise<IssuedReceivable> {
  const maturity = r.maturity ?? (await latestTime(net)) + 60 * DAY;
  const invoiceNumber = r.invoiceNumber ?? `INV-${r.orderId}-${r.faceValue}`;
  const invoiceHash = docHash(`invoice:${invoiceNumber}`);
  const receipt = await send(net, r.supplier, "Receivables", "issue", [
    r.orderId,
    invoiceHash,
    invoiceNumberHash(invoiceNumber),
    r.faceValue,
    maturity,
  ]);
  const receivableId = eventsIn(net, receipt, "Receivables", "ReceivableIssued")[0].receivableId as bigint;
  return { receivableId, orderId: r.orderId, invoiceHash, faceValue: r.faceValue, maturity };
}

/**
 * The debtor acknowledges the receivable: by its own transaction, or (with `submitter`) by signing the
 * EIP-712 ReceivableAcknowledgment that the submitter sends. Returns the signature ("0x" by transaction).
 */
export async function acknowledgeReceivable(net: Net, r: IssuedReceivable, debtor: Wallet, submitter?: Wallet): Promise<Hex> {
  if (!submitter) {
    await send(net, debtor, "Receivables", "acknowledge", [r.receivableId]);
    return "0x";
  }
  const signature = await debtor.signTypedData({
    account: debtor.account,
    ...acknowledgmentTypedData(net.deployment.chainId, net.deployment.contracts.Receivables, {
      receivableId: r.receivableId,
      orderId: r.orderId,
      invoiceHash: r.invoiceHash,
      faceValue: r.faceValue,
      maturity: BigInt(r.maturity),
    }),
  });
  await send(net, submitter, "Receivables", "acknowledgeWithSignature", [r.receivableId, signature]);
  return signature;
}

/** issueReceivable + acknowledgeReceivable (by the debtor's transaction unless `signedAck`). */
export async function issueConfirmedReceivable(
  net: Net,
  r: {
    supplier: Wallet;
    buyer: Wallet;
    orderId: bigint;
    faceValue: bigint;
    maturity?: number;
    invoiceNumber?: string;
    signedAck?: boolean;
  },
): Promise<IssuedReceivable> {
  const issued = await issueReceivable(net, r);
  await acknowledgeReceivable(net, issued, r.buyer, r.signedAck ? r.supplier : undefined);
  return issued;
}

export interface SignedAgreement {
  loanId: bigint;
  terms: LoanTerms;
  digest: Hex;
  borrowerSignature: Hex;
  lenderSignature: Hex;
  receipt: TransactionReceipt;
}

/**
 * Borrower and lender sign the loan terms (EIP-712, loanTermsTypedData) and `submitter` (default:
 * the lender) submits both signatures. Defaults: start now, maturity in 30 days, deadline in 1 day,
 * rate 1,000 bps, a random nonce.
 */
export async function signAndSubmitAgreement(
  net: Net,
  a: {
    borrower: Wallet;
    lender: Wallet;
    submitter?: Wallet;
    principal: bigint;
    collateral: bigint[];
    rateBps?: bigint;
    start?: number;
    /** Latest disbursement time; default one second before maturity. */
    disburseBy?: number;
    maturity?: number;
    deadline?: number;
    nonce?: bigint;
    documentHash?: Hex;
  },
): Promise<SignedAgreement> {
  const now = await latestTime(net);
  const maturity = a.maturity ?? now + 30 * DAY;
  const terms: LoanTerms = {
    borrower: a.borrower.account.address,
    lender: a.lender.account.address,
    currency: net.deployment.contracts.SettlementToken,
    principal: a.principal,
    rateBps: a.rateBps ?? 1000n,
    start: BigInt(a.start ?? now),
    disburseBy: BigInt(a.disburseBy ?? maturity - 1),
    maturity: BigInt(maturity),
    collateral: a.collateral,
    documentHash: a.documentHash ?? docHash(`agreement:${a.collateral.join(",")}:${a.principal}`),
    nonce: a.nonce ?? BigInt(Math.floor(Math.random() * 2 ** 48)),
    deadline: BigInt(a.deadline ?? now + DAY),
  };
  const typed = loanTermsTypedData(net.deployment.chainId, net.deployment.contracts.LoanAgreements, terms);
  const borrowerSignature = await a.borrower.signTypedData({ account: a.borrower.account, ...typed });
  const lenderSignature = await a.lender.signTypedData({ account: a.lender.account, ...typed });
  const receipt = await send(net, a.submitter ?? a.lender, "LoanAgreements", "submitAgreement", [
    terms,
    borrowerSignature,
    lenderSignature,
  ]);
  const recorded = eventsIn(net, receipt, "LoanAgreements", "AgreementRecorded")[0];
  return { loanId: recorded.loanId as bigint, digest: recorded.digest as Hex, terms, borrowerSignature, lenderSignature, receipt };
}

/** LoanAgreements.totalDueOf: simple interest from start to maturity, rounded down. */
export function totalDue(principal: bigint, rateBps: bigint, start: bigint, maturity: bigint): bigint {
  return totalDueOf(principal, rateBps, Number(start), Number(maturity));
}

/** The operator mints settlement tokens to `wallet`, which approves `spender` (the contract that pulls them). */
export async function fundAndApprove(
  net: Net,
  operator: Wallet,
  wallet: Wallet,
  amount: bigint,
  spender: "Receivables" | "LoanAgreements",
): Promise<void> {
  await send(net, operator, "SettlementToken", "mint", [wallet.account.address, amount]);
  await send(net, wallet, "SettlementToken", "approve", [net.deployment.contracts[spender], amount]);
}

/**
 * A varied trade history between the given parties (all admitted beforehand with the right roles):
 * `orders` orders cycling through completed-and-paid, delivered-and-invoiced, cancelled and disputed
 * outcomes, a consent grant and `anchors` evidence anchors. Deterministic for given parties and counts.
 */
export async function generateHistory(
  net: Net,
  p: { operator: Wallet; buyer: Wallet; supplier: Wallet; lender: Wallet; orders: number; anchors?: number; tag?: string },
): Promise<void> {
  const tag = p.tag ?? "h";
  await fundAndApprove(net, p.operator, p.buyer, 10n ** 12n, "Receivables");
  for (let i = 0; i < p.orders; i++) {
    const amount = BigInt(10_000 + i * 100);
    const orderId = await createOrder(net, { buyer: p.buyer, supplier: p.supplier.account.address, amount, document: `${tag}:po:${i}` });
    switch (i % 4) {
      case 0: {
        await fulfilOrder(net, { orderId, buyer: p.buyer, supplier: p.supplier, complete: true });
        const r = await issueConfirmedReceivable(net, {
          supplier: p.supplier,
          buyer: p.buyer,
          orderId,
          faceValue: amount,
          invoiceNumber: `${tag}:inv:${i}`,
        });
        await send(net, p.buyer, "Receivables", "pay", [r.receivableId, amount / 2n]);
        await send(net, p.buyer, "Receivables", "pay", [r.receivableId, amount - amount / 2n]);
        break;
      }
      case 1: {
        await fulfilOrder(net, { orderId, buyer: p.buyer, supplier: p.supplier });
        await issueConfirmedReceivable(net, {
          supplier: p.supplier,
          buyer: p.buyer,
          orderId,
          faceValue: amount / 2n,
          invoiceNumber: `${tag}:inv:${i}`,
          signedAck: true,
        });
        break;
      }
      case 2:
        await send(net, p.supplier, "TradeOrders", "cancel", [orderId, 7]);
        break;
      default:
        await send(net, p.supplier, "TradeOrders", "accept", [orderId]);
        await send(net, p.supplier, "TradeOrders", "ship", [orderId, docHash(`${tag}:bl:${i}`)]);
        await send(net, p.buyer, "TradeOrders", "dispute", [orderId, 3]);
        await send(net, p.buyer, "TradeOrders", "resolveDispute", [orderId]);
    }
  }
  const expires = (await latestTime(net)) + 90 * DAY;
  await send(net, p.supplier, "ConsentRegistry", "grant", [p.lender.account.address, 0x7ff, expires, docHash(`${tag}:purpose`)]);
  for (let i = 0; i < (p.anchors ?? 0); i++) {
    await send(net, p.supplier, "EvidenceNotary", "anchor", [docHash(`${tag}:doc:${i}`), 1, docHash(`${tag}:ref:${i}`)]);
  }
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface HardhatNode {
  url: string;
  publicClient: PublicClient;
  /** The node's unlocked test accounts as wallet clients (account 0 first). */
  wallets: Wallet[];
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node` (this repository's config: chain id 31337) as a child process on 127.0.0.1
 * and a free port, for tests that need a real JSON-RPC endpoint another process can reach.
 */
export async function startHardhatNode(): Promise<HardhatNode> {
  const port = await freePort();
  const cli = path.join(REPO_ROOT, "node_modules/hardhat/internal/cli/cli.js");
  const child = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: REPO_ROOT,
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`hardhat node did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Started HTTP and WebSocket JSON-RPC server")) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stdout!.resume(); // keep draining: the node logs every request
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hardhat node exited with ${code}:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const publicClient = createPublicClient({ chain: hardhat, transport: http(url), pollingInterval: 20 }) as PublicClient;
  // The node logs and decodes every request and transaction by default, which costs more than the EVM.
  await publicClient.request({ method: "hardhat_setLoggingEnabled", params: [false] } as never);
  const accounts = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
  const wallets = accounts.map((account) => createWalletClient({ account, chain: hardhat, transport: http(url) }) as unknown as Wallet);
  return {
    url,
    publicClient,
    wallets,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
