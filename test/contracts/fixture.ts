/**
 * One deployment for every contract test, wired the way scripts/lib/deploy.ts wires it (Receivables
 * knows LoanAgreements), with admitted participants, minted settlement tokens and allowances, plus
 * helpers that walk an order to delivery, issue and confirm receivables and sign loan terms.
 */
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Contract, Signature, TypedDataField } from "ethers";
import { DEFAULT_GRACE_PERIOD } from "../../scripts/lib/deploy";
import {
  LOAN_TERMS_TYPES,
  RECEIVABLE_ACKNOWLEDGMENT_TYPES,
  ROLE,
  loanAgreementsDomain,
  receivablesDomain,
  type LoanTerms,
} from "../../node-service/src/chain/eip712";
import { invoiceNumberHash } from "../../node-service/src/domain/invoice-number";
import { DAY } from "../../node-service/src/domain/time";
import { LOAN_STATUSES, ORDER_STATUSES, RECEIVABLE_STATUSES } from "../../node-service/src/domain/entities";

/** One DAY for every test (defined in node-service/src/domain/time.ts). */
export { DAY };

export const YEAR = 365 * DAY;
export const GRACE_PERIOD = DEFAULT_GRACE_PERIOD;
/** Each trading participant starts with 1,000,000.00 settlement tokens (2 decimals). */
export const START_BALANCE = 100_000_000n;
export const ORDER_AMOUNT = 1_000_000n; // 10,000.00

/** The contracts' status enums, name -> index, from the one list of names (node-service/src/domain/entities.ts). */
function enumIndex<N extends string>(names: readonly N[]): { readonly [K in N]: number } {
  return Object.fromEntries(names.map((name, index) => [name, index])) as { readonly [K in N]: number };
}
export const OrderStatus = enumIndex(ORDER_STATUSES);
export const ReceivableStatus = enumIndex(RECEIVABLE_STATUSES);
export const LoanStatus = enumIndex(LOAN_STATUSES);

/** The contract seen from another account (ethers' connect() loses the ABI methods in its type). */
export function as(contract: Contract, signer: HardhatEthersSigner): Contract {
  return contract.connect(signer) as Contract;
}

export function h(text: string): string {
  return hre.ethers.id(text);
}

/** Mutable copies of the shared EIP-712 type definitions, as ethers wants them. */
export const LOAN_TYPES_ETHERS: Record<string, TypedDataField[]> = { LoanTerms: [...LOAN_TERMS_TYPES.LoanTerms] };
export const ACK_TYPES_ETHERS: Record<string, TypedDataField[]> = {
  ReceivableAcknowledgment: [...RECEIVABLE_ACKNOWLEDGMENT_TYPES.ReceivableAcknowledgment],
};

export async function deployFixture() {
  const [operator, buyer, buyer2, supplier, supplier2, tier1, lender, lender2, auditor, outsider, walletOwner, other] =
    await hre.ethers.getSigners();
  const deploy = (name: string, args: unknown[]) => hre.ethers.deployContract(name, args);

  const registry = await deploy("ParticipantRegistry", [operator.address]);
  const token = await deploy("SettlementToken", [operator.address]);
  const orders = await deploy("TradeOrders", [registry, operator.address]);
  const receivables = await deploy("Receivables", [registry, orders, token, operator.address]);
  const loans = await deploy("LoanAgreements", [registry, receivables, token, GRACE_PERIOD]);
  await receivables.setLoanAgreements(loans);
  const consent = await deploy("ConsentRegistry", [registry]);
  const notary = await deploy("EvidenceNotary", [registry]);
  // A contract wallet (ERC-1271) that is a supplier and borrows.
  const wallet = await deploy("ERC1271Wallet", [walletOwner.address]);
  const walletAddress = await wallet.getAddress();

  const members: [string, number][] = [
    [buyer.address, ROLE.BUYER],
    [buyer2.address, ROLE.BUYER],
    [supplier.address, ROLE.SUPPLIER],
    [supplier2.address, ROLE.SUPPLIER],
    [tier1.address, ROLE.SUPPLIER | ROLE.BUYER],
    [lender.address, ROLE.LENDER],
    [lender2.address, ROLE.LENDER],
    [auditor.address, ROLE.AUDITOR],
    [walletAddress, ROLE.SUPPLIER],
  ];
  for (const [account, roles] of members) {
    await registry.admit(account, roles, h(`kyc:${account}`), h(`name:${account}`), [h(`addr:${account}`)]);
  }
  const traders = [buyer, buyer2, supplier, supplier2, tier1, lender, lender2];
  for (const t of traders) {
    await token.mint(t.address, START_BALANCE);
    await as(token, t).approve(await receivables.getAddress(), hre.ethers.MaxUint256);
    await as(token, t).approve(await loans.getAddress(), hre.ethers.MaxUint256);
  }
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;

  return {
    operator,
    buyer,
    buyer2,
    supplier,
    supplier2,
    tier1,
    lender,
    lender2,
    auditor,
    outsider,
    walletOwner,
    other,
    registry,
    token,
    orders,
    receivables,
    loans,
    consent,
    notary,
    wallet,
    walletAddress,
    chainId,
    traders,
  };
}

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;

export async function now(): Promise<number> {
  return time.latest();
}

/** Last order id created. */
export async function lastOrderId(f: Fixture): Promise<bigint> {
  return (await f.orders.orderCount()) as bigint;
}

/** Creates an order of `amount` from `buyer` to `supplier` and walks it to `until`. */
export async function makeOrder(
  f: Fixture,
  opts: { buyer?: HardhatEthersSigner; supplier?: HardhatEthersSigner; amount?: bigint; until?: number } = {},
): Promise<bigint> {
  const buyer = opts.buyer ?? f.buyer;
  const supplier = opts.supplier ?? f.supplier;
  const until = opts.until ?? OrderStatus.Delivered;
  await as(f.orders, buyer).createOrder(supplier.address, opts.amount ?? ORDER_AMOUNT, h("po"), (await now()) + 30 * DAY);
  const id = await lastOrderId(f);
  if (until >= OrderStatus.Accepted) await as(f.orders, supplier).accept(id);
  if (until >= OrderStatus.Shipped) await as(f.orders, supplier).ship(id, h("bill of lading"));
  if (until >= OrderStatus.Delivered) await as(f.orders, buyer).confirmDelivery(id);
  if (until >= OrderStatus.Completed) await as(f.orders, buyer).complete(id);
  return id;
}

let invoiceCounter = 0;

/** Issues a receivable against a delivered order (a fresh one unless `orderId` is given); returns its id. */
export async function issueReceivable(
  f: Fixture,
  opts: {
    orderId?: bigint;
    supplier?: HardhatEthersSigner;
    buyer?: HardhatEthersSigner;
    faceValue?: bigint;
    maturityIn?: number;
    invoice?: string;
  } = {},
): Promise<bigint> {
  const supplier = opts.supplier ?? f.supplier;
  const orderId = opts.orderId ?? (await makeOrder(f, { supplier, buyer: opts.buyer }));
  const invoice = opts.invoice ?? `INV-${++invoiceCounter}`;
  await as(f.receivables, supplier).issue(
    orderId,
    h(`invoice file ${invoice}`),
    invoiceNumberHash(invoice),
    opts.faceValue ?? ORDER_AMOUNT,
    (await now()) + (opts.maturityIn ?? 60 * DAY),
  );
  return (await f.receivables.receivableCount()) as bigint;
}

/** Issues and has the debtor acknowledge a receivable; returns its id. */
export async function confirmedReceivable(f: Fixture, opts: Parameters<typeof issueReceivable>[1] = {}): Promise<bigint> {
  const id = await issueReceivable(f, opts);
  await as(f.receivables, opts.buyer ?? f.buyer).acknowledge(id);
  return id;
}

let nonceCounter = 0n;

/** Loan terms with sensible defaults: 90 days at 8% on 5,000.00, disbursement within 7 days, deadline in one hour. */
export async function makeTerms(f: Fixture, overrides: Partial<LoanTerms> & { collateral: bigint[] }): Promise<LoanTerms> {
  const t = BigInt(await now());
  return {
    borrower: f.supplier.address as `0x${string}`,
    lender: f.lender.address as `0x${string}`,
    currency: (await f.token.getAddress()) as `0x${string}`,
    principal: 500_000n,
    rateBps: 800n,
    start: t,
    disburseBy: t + BigInt(7 * DAY),
    maturity: t + BigInt(90 * DAY),
    documentHash: h("agreement.pdf") as `0x${string}`,
    nonce: ++nonceCounter,
    deadline: t + 3600n,
    ...overrides,
  };
}

export async function loanDomain(f: Fixture) {
  return loanAgreementsDomain(f.chainId, (await f.loans.getAddress()) as `0x${string}`);
}

export async function receivablesDomainOf(f: Fixture) {
  return receivablesDomain(f.chainId, (await f.receivables.getAddress()) as `0x${string}`);
}

/** Signs loan terms with ethers (EIP-712); `domain` overrides the LoanAgreements domain. */
export async function signTerms(
  f: Fixture,
  signer: HardhatEthersSigner,
  terms: LoanTerms,
  domain?: Awaited<ReturnType<typeof loanDomain>>,
): Promise<string> {
  const d = domain ?? (await loanDomain(f));
  return signer.signTypedData({ ...d, chainId: d.chainId }, LOAN_TYPES_ETHERS, terms);
}

/** Both parties sign and `submitter` (default: a third party) submits; returns the new loan id. */
export async function signedLoan(
  f: Fixture,
  overrides: Partial<LoanTerms> & { collateral: bigint[] },
  parties: { borrower?: HardhatEthersSigner; lender?: HardhatEthersSigner } = {},
): Promise<{ loanId: bigint; terms: LoanTerms }> {
  const borrower = parties.borrower ?? f.supplier;
  const lender = parties.lender ?? f.lender;
  const terms = await makeTerms(f, {
    borrower: borrower.address as `0x${string}`,
    lender: lender.address as `0x${string}`,
    ...overrides,
  });
  const bs = await signTerms(f, borrower, terms);
  const ls = await signTerms(f, lender, terms);
  await as(f.loans, f.other).submitAgreement(terms, bs, ls);
  return { loanId: (await f.loans.loanCount()) as bigint, terms };
}

/** The same ECDSA signature with s replaced by n - s (and v flipped): valid for ecrecover, refused by OpenZeppelin. */
export function highS(sig: string): string {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const parsed: Signature = hre.ethers.Signature.from(sig);
  const s = n - BigInt(parsed.s);
  const v = parsed.v === 27 ? 28 : 27;
  return hre.ethers.concat([parsed.r, hre.ethers.toBeHex(s, 32), hre.ethers.toBeHex(v, 1)]);
}

/** Sum of the settlement-token balances of `accounts` (bigint). */
export async function sumBalances(f: Fixture, accounts: string[]): Promise<bigint> {
  let sum = 0n;
  for (const a of accounts) sum += (await f.token.balanceOf(a)) as bigint;
  return sum;
}

/**
 * Pins the next block's time to one second after the latest and returns it, so a test can name the
 * block time an event will carry. Await it BEFORE creating the transaction's promise: an ethers call
 * started earlier sends its transaction while this reads the latest block, and Hardhat then mines it at
 * wall-clock time (seconds past a reverted fixture's block), so `latest + 1` lands behind that block
 * ("Timestamp X is lower than the previous block's timestamp"). No test may start a transaction
 * before awaiting this.
 */
export async function nextTime(): Promise<number> {
  const t = (await time.latest()) + 1;
  await time.setNextBlockTimestamp(t);
  return t;
}
