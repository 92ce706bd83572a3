/**
 * The demo network: a year of supply-chain trade on a development chain, deterministic from a seed
 * number. Three core-enterprise buyers, twelve suppliers, three lenders and an auditor are admitted
 * with KYC dossier hashes; then, day by day (block time moved forward with evm_mine(timestamp)),
 * buyers order, suppliers deliver on time or late, invoices become receivables that buyers acknowledge
 * (by transaction or EIP-712 signature) and pay early, on time, late or in parts; there are disputes,
 * cancellations, a rejected invoice, and historical loans repaid through the receivable waterfall and
 * directly. Personas for the loan demo: one supplier with an excellent record (auto-approvable), one
 * mediocre (needs a human review), and a ring of three related suppliers trading in a circle.
 * Every supplier ends with confirmed, unpledged receivables it can pledge.
 *
 * Speed: automine is switched off and each day's transactions are sent without waiting, then mined
 * together in one block (more when the gas budget fills); receipts are checked block by block.
 *
 *   npx ts-node --transpile-only scripts/seed.ts --rpc http://127.0.0.1:8545 [--seed 1] [--deployment FILE]
 */
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import {
  encodeFunctionData,
  maxUint256,
  parseEventLogs,
  toHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { abiOf, type ContractName, type Deployment } from "../node-service/src/chain/contracts";
import { ALL_SCOPES, ROLE, acknowledgmentTypedData, roleNames, loanTermsTypedData, type LoanTerms } from "../node-service/src/chain/eip712";
import { invoiceNumberHash } from "../node-service/src/domain/invoice-number";
import type { ParticipantNameEntry } from "../node-service/src/participants/directory";
import { displayNameHash, displayNameSalt, dossierHash, kycAttributeHash, kycKeyFromEnv } from "../node-service/src/domain/kyc-attributes";
import { Prng } from "./lib/prng";
import { assertDevelopmentChain } from "./lib/clients";
import { feeFieldsRpc, type FeeFields } from "../node-service/src/chain/fees";
import type { DemoAccount, DemoAccountsFile, DemoPersona } from "./lib/demo-accounts";
import { DAY } from "../node-service/src/domain/time";

const HISTORY_DAYS = 365;
const LAST_DAY = HISTORY_DAYS - 1;
const MONTHS = 12;
const DEFAULT_GAS = 600_000n;
const TOTAL_STEPS = 2 + MONTHS + 1;

export interface SeedProgress {
  step: number;
  total: number;
  label: string;
}

export interface SeedDemoOptions {
  publicClient: PublicClient;
  /** The node's 20 unlocked test accounts; [0] is the deployer (registry admin, token minter, arbiter). */
  walletClients: WalletClient<Transport, Chain, Account>[];
  deployment: Deployment;
  seed: number;
  /** Block time (seconds) at which the history ends; default a year after the chain's latest block. */
  endAt?: number;
  onProgress?: (progress: SeedProgress) => void;
  /**
   * The operator's HMAC key for KYC hashes; default KYC_HMAC_KEY from the environment, else a fresh
   * random key used for this run only (the demo never needs to recompute a hash, only compare them).
   */
  kycKey?: Uint8Array;
  /** Fee fields for every transaction (GAS_PRICE or the EIP-1559 caps); none: the node fills them in. */
  fees?: FeeFields;
}

export interface SeedStats {
  participants: number;
  orders: number;
  receivables: number;
  loans: number;
  events: number;
  blocks: number;
  transactions: number;
  seconds: number;
}

export interface SeedResult {
  demoAccounts: DemoAccountsFile;
  /** The operator's participants directory (DATA_DIR/participant-names.json): names with their openings. */
  participantNames: ParticipantNameEntry[];
  stats: SeedStats;
  /** The supplier with an excellent record, the mediocre one, and the three ring members. */
  autoApprove: Address;
  review: Address;
  ring: [Address, Address, Address];
}

// ---------------------------------------------------------------------------------------------
// The cast. Account indexes are those of Hardhat's well-known test accounts.

interface PaymentHabit {
  early: number;
  onTime: number;
  late: number;
  partial: number;
  lateDays: [number, number];
  termDays: number[];
}

interface ParticipantDef {
  index: number;
  name: string;
  persona: DemoPersona;
  roles: number;
  legalRep: string;
  address: string;
  /** Ultimate beneficial owner (the ring's members share one). */
  owner?: string;
  note: string;
}

interface SupplierProfile {
  index: number;
  buyers: [number, number][];
  perMonth: number;
  fromDay: number;
  late: number;
  cancel: number;
  dispute: number;
  amount: [number, number];
  /** Its buyers never pay it late (the excellent record). */
  paidOnTime?: boolean;
}

const OPERATOR = 0;
const BUYERS = [1, 2, 3] as const;
const LENDERS = [4, 5, 6] as const;
const AUDITOR = 7;
const EXCELLENT = 8;
const MEDIOCRE = 9;
const REGULAR = [10, 11, 12, 13, 14, 15, 16] as const;
const RING = [17, 18, 19] as const;

const HABITS: Record<number, PaymentHabit> = {
  1: { early: 0.3, onTime: 0.6, late: 0.1, partial: 0, lateDays: [4, 20], termDays: [60] },
  2: { early: 0.05, onTime: 0.4, late: 0.4, partial: 0.15, lateDays: [10, 45], termDays: [90] },
  3: { early: 0.5, onTime: 0.45, late: 0.05, partial: 0, lateDays: [3, 10], termDays: [30, 45] },
  // Ring members pay each other like clockwork: the money goes round.
  17: { early: 0, onTime: 1, late: 0, partial: 0, lateDays: [1, 1], termDays: [30] },
  18: { early: 0, onTime: 1, late: 0, partial: 0, lateDays: [1, 1], termDays: [30] },
  19: { early: 0, onTime: 1, late: 0, partial: 0, lateDays: [1, 1], termDays: [30] },
};

const REGULAR_NAMES = [
  "Suzhou Textile Works",
  "Foshan Metal Stamping",
  "Wuxi Cable & Wire",
  "Dongguan Circuit Boards",
  "Hefei Glass Components",
  "Qingdao Rubber Seals",
  "Chengdu Fasteners",
];
const LEGAL_REPS = [
  "Li Na",
  "Wang Fang",
  "Zhang Wei",
  "Liu Yang",
  "Chen Jing",
  "Yang Min",
  "Huang Lei",
  "Zhou Tao",
  "Wu Xia",
  "Xu Qiang",
  "Sun Li",
  "Ma Jun",
  "Hu Bin",
  "Guo Hong",
  "He Ping",
  "Lin Feng",
  "Gao Yan",
  "Luo Ming",
  "Zheng Hui",
  "Liang Qing",
  "Song Tao",
  "Tang Li",
  "Han Xue",
  "Feng Kai",
];
const CITIES = [
  "Shenzhen",
  "Guangzhou",
  "Shanghai",
  "Suzhou",
  "Ningbo",
  "Hangzhou",
  "Wuxi",
  "Foshan",
  "Dongguan",
  "Hefei",
  "Qingdao",
  "Chengdu",
  "Xiamen",
  "Tianjin",
];

function cast(prng: Prng): ParticipantDef[] {
  // Drawn without replacement: only the ring shares a legal representative, on purpose.
  const reps = [...LEGAL_REPS];
  const rep = () => reps.splice(prng.int(0, reps.length - 1), 1)[0];
  const addr = () =>
    `${prng.int(1, 999)} ${prng.pick(["Industrial", "Science Park", "Harbour", "Export", "Hi-Tech"])} Road, ${prng.pick(CITIES)}`;
  const defs: ParticipantDef[] = [
    {
      index: OPERATOR,
      name: "SCF Consortium Operator",
      persona: "operator",
      roles: ROLE.AUDITOR,
      legalRep: "Consortium Secretariat",
      address: "1 Consortium Plaza, Shenzhen",
      note: "Deployed the contracts, admits participants after KYC, arbitrates disputes; the node service's account, which anchors documents and decisions and submits countersigned agreements.",
    },
    {
      index: 1,
      name: "Huaxin Automotive Group",
      persona: "buyer",
      roles: ROLE.BUYER,
      legalRep: rep(),
      address: addr(),
      note: "Core enterprise; pays on time or early.",
    },
    {
      index: 2,
      name: "Dongfang Home Appliances",
      persona: "buyer",
      roles: ROLE.BUYER,
      legalRep: rep(),
      address: addr(),
      note: "Core enterprise; often pays late, sometimes in parts.",
    },
    {
      index: 3,
      name: "Pearl River Electronics",
      persona: "buyer",
      roles: ROLE.BUYER,
      legalRep: rep(),
      address: addr(),
      note: "Core enterprise; usually pays early.",
    },
    {
      index: 4,
      name: "Lingnan Commercial Bank",
      persona: "lender",
      roles: ROLE.LENDER,
      legalRep: rep(),
      address: addr(),
      note: "Lender: reviews applications, countersigns, disburses.",
    },
    { index: 5, name: "Pacific Factoring Co.", persona: "lender", roles: ROLE.LENDER, legalRep: rep(), address: addr(), note: "Lender." },
    { index: 6, name: "Jiangnan Rural Bank", persona: "lender", roles: ROLE.LENDER, legalRep: rep(), address: addr(), note: "Lender." },
    {
      index: AUDITOR,
      name: "Haidian Notary & Audit Office",
      persona: "auditor",
      roles: ROLE.AUDITOR,
      legalRep: rep(),
      address: addr(),
      note: "Court / auditor: checks documents and agreements against the chain.",
    },
    {
      index: EXCELLENT,
      name: "Precision Parts Co.",
      persona: "supplier-excellent",
      roles: ROLE.SUPPLIER,
      legalRep: rep(),
      address: addr(),
      note: "Excellent record: a loan application is approved automatically.",
    },
    {
      index: MEDIOCRE,
      name: "Ningbo Plastics Ltd.",
      persona: "supplier-mediocre",
      roles: ROLE.SUPPLIER,
      legalRep: rep(),
      address: addr(),
      note: "Mixed record (late deliveries, one buyer, a dispute): an application goes to a human reviewer.",
    },
  ];
  REGULAR.forEach((index, k) => {
    defs.push({
      index,
      name: REGULAR_NAMES[k],
      persona: "supplier",
      roles: ROLE.SUPPLIER,
      legalRep: rep(),
      address: addr(),
      note: "Supplier with an ordinary record.",
    });
  });
  // The ring: one legal representative behind all three, two at the same registered address.
  const ringRep = "Zhao Wei";
  const ringAddress = addr();
  // Crest registers the same address as Apex spelt another way; the screen canonicalizes before comparing.
  const respelt = (a: string) => `No.${a.replace(" Road", " Rd.").replace("Harbour", "Harbor").toUpperCase()}`;
  const ringNames = ["Apex Trading Co.", "Bright Star Materials", "Crest Components"];
  RING.forEach((index, k) => {
    defs.push({
      index,
      name: ringNames[k],
      persona: "supplier-ring",
      roles: ROLE.SUPPLIER | ROLE.BUYER,
      legalRep: ringRep,
      address: k === 1 ? addr() : k === 2 ? respelt(ringAddress) : ringAddress,
      owner: "赵伟", // Zhao Wei in Chinese characters: the same person as the legal representative

      note: "Ring of related suppliers trading in a circle (Apex buys from Bright Star, Bright Star from Crest, Crest from Apex): risk screening flags it.",
    });
  });
  return defs;
}

function supplierProfiles(prng: Prng): SupplierProfile[] {
  const profiles: SupplierProfile[] = [
    {
      index: EXCELLENT,
      buyers: [
        [1, 40],
        [2, 25],
        [3, 35],
      ],
      perMonth: 4,
      fromDay: 1,
      late: 0,
      cancel: 0,
      dispute: 0,
      amount: [80_000, 600_000],
      paidOnTime: true,
    },
    {
      index: MEDIOCRE,
      buyers: [
        [2, 65],
        [3, 35],
      ],
      perMonth: 2.5,
      fromDay: 120,
      late: 0.2,
      cancel: 0.1,
      dispute: 0,
      amount: [30_000, 200_000],
    },
  ];
  for (const index of REGULAR) {
    const weights: [number, number][] = BUYERS.map((b) => [b, prng.int(0, 10) * prng.int(0, 1) + 1]);
    profiles.push({
      index,
      buyers: weights,
      perMonth: prng.int(15, 30) / 10,
      fromDay: prng.int(1, 90),
      late: prng.int(5, 25) / 100,
      cancel: prng.int(2, 6) / 100,
      dispute: prng.int(0, 3) / 100,
      amount: [prng.int(3, 8) * 10_000, prng.int(25, 70) * 10_000],
    });
  }
  // The ring's ordinary-looking business: a little with Pearl River Electronics.
  for (const index of RING) {
    profiles.push({ index, buyers: [[3, 1]], perMonth: 0.8, fromDay: 60, late: 0.05, cancel: 0, dispute: 0, amount: [20_000, 100_000] });
  }
  return profiles;
}

// ---------------------------------------------------------------------------------------------
// Plans: what happens to each order and invoice, decided up front from the seed; ids are learned
// from the receipts when the creating transaction is mined.

interface OrderPlan {
  buyer: number;
  supplier: number;
  amount: bigint;
  id?: bigint;
}

interface InvoicePlan {
  order: OrderPlan;
  face: bigint;
  issueDay: number;
  ackDay: number;
  maturityDay: number;
  /** Day of the first payment (Infinity when not paid within the history). */
  firstPayDay: number;
  id?: bigint;
  collateral?: boolean;
}

type PayStyle = "early" | "onTime" | "late" | "partial";

interface OrderSpec {
  buyer: number;
  supplier: number;
  createDay: number;
  amountMajor: number;
  late?: boolean;
  cancel?: boolean;
  dispute?: "shipped" | "delivered";
  /** Force the payment style (the ring's and the tail's receivables). */
  pay?: PayStyle | "never";
  termDays?: number;
  rejectFirstInvoice?: boolean;
  splitInvoice?: boolean;
}

type Action = (r: Runner) => Promise<void>;

export async function seedDemo(opts: SeedDemoOptions): Promise<SeedResult> {
  const started = Date.now();
  const { publicClient, walletClients, deployment } = opts;
  assertDevelopmentChain(await publicClient.getChainId(), "the seed");
  if (walletClients.length < 20) throw new Error(`the demo needs 20 unlocked test accounts, got ${walletClients.length}`);
  const prng = new Prng(opts.seed);
  const kycKey = opts.kycKey ?? (process.env.KYC_HMAC_KEY ? kycKeyFromEnv() : randomBytes(32));
  const participants = cast(prng);
  const profiles = supplierProfiles(prng);
  const nameOf = (index: number) => participants.find((p) => p.index === index)?.name ?? `account ${index}`;

  const latest = await publicClient.getBlock({ blockTag: "latest" });
  const endAt = opts.endAt ?? Number(latest.timestamp) + 60 + HISTORY_DAYS * DAY;
  const t0 = endAt - HISTORY_DAYS * DAY;
  if (t0 <= Number(latest.timestamp)) {
    throw new Error(`the history would start at ${t0}, before the chain's latest block (${latest.timestamp}): choose a later endAt`);
  }
  const dayTs = (day: number) => t0 + day * DAY;

  const agenda = new Map<number, Action[]>();
  const at = (day: number, action: Action) => {
    if (day > LAST_DAY) return;
    const list = agenda.get(day) ?? [];
    list.push(action);
    agenda.set(day, list);
  };
  const invoices: InvoicePlan[] = [];
  const docHash = (text: string) => sha256Hex(`seed ${opts.seed} ${text}`);
  let orderSeq = 0;

  function planPayments(inv: InvoicePlan, style: PayStyle | "never", habit: PaymentHabit): void {
    const { face, maturityDay } = inv;
    const pay = (day: number, amount: bigint) => {
      inv.firstPayDay = Math.min(inv.firstPayDay, day);
      at(day, (r) =>
        r.send(inv.order.buyer, "Receivables", "pay", [inv.id!, amount], `pay ${nameOf(inv.order.supplier)}'s receivable ${inv.id}`),
      );
    };
    if (style === "never") return;
    if (style === "early") pay(maturityDay - prng.int(3, Math.max(3, Math.min(15, maturityDay - inv.ackDay - 1))), face);
    else if (style === "onTime") pay(maturityDay, face);
    else if (style === "late") pay(maturityDay + prng.int(...habit.lateDays), face);
    else {
      const first = (face / 2n / 100n) * 100n;
      pay(maturityDay, first);
      pay(maturityDay + prng.int(...habit.lateDays), face - first);
    }
  }

  function planInvoice(order: OrderPlan, face: bigint, issueDay: number, spec: OrderSpec, reject: boolean): void {
    const habit = HABITS[order.buyer];
    const term = spec.termDays ?? prng.pick(habit.termDays);
    const number = `INV-${order.supplier}-${orderSeq}-${issueDay}-${face}`;
    const inv: InvoicePlan = {
      order,
      face,
      issueDay,
      ackDay: issueDay + prng.int(1, 3),
      maturityDay: issueDay + term,
      firstPayDay: Infinity,
      id: undefined,
    };
    const maturity = dayTs(inv.maturityDay) + 18 * 3600;
    const invoiceHash = docHash(`invoice ${number}`);
    at(issueDay, (r) =>
      r.send(
        order.supplier,
        "Receivables",
        "issue",
        [order.id!, invoiceHash, invoiceNumberHash(number), face, maturity],
        `${nameOf(order.supplier)} invoices ${nameOf(order.buyer)}`,
        (rc) => {
          inv.id = eventArg(rc, "Receivables", "ReceivableIssued", "receivableId");
        },
      ),
    );
    if (reject) {
      // The buyer rejects an invoice with a wrong amount; the supplier issues a corrected one.
      at(issueDay + 1, (r) =>
        r.send(order.buyer, "Receivables", "cancel", [inv.id!, 11], `${nameOf(order.buyer)} rejects invoice ${inv.id}`),
      );
      planInvoice(order, face, issueDay + 2, spec, false);
      return;
    }
    invoices.push(inv);
    const bySignature = prng.chance(0.4);
    at(inv.ackDay, async (r) => {
      if (!bySignature) {
        await r.send(order.buyer, "Receivables", "acknowledge", [inv.id!], `${nameOf(order.buyer)} acknowledges receivable ${inv.id}`);
        return;
      }
      // The buyer signs the acknowledgment off chain; the supplier submits it.
      const typed = acknowledgmentTypedData(r.chainId, deployment.contracts.Receivables, {
        receivableId: inv.id!,
        orderId: order.id!,
        invoiceHash,
        faceValue: face,
        maturity: BigInt(maturity),
      });
      const signer = walletClients[order.buyer];
      const signature = await signer.signTypedData({ account: signer.account, ...typed });
      await r.send(
        order.supplier,
        "Receivables",
        "acknowledgeWithSignature",
        [inv.id!, signature],
        `signed acknowledgment of receivable ${inv.id}`,
      );
    });
    const profile = profiles.find((p) => p.index === order.supplier);
    let style: PayStyle | "never" =
      spec.pay ??
      prng.weighted<PayStyle>([
        ["early", habit.early],
        ["onTime", habit.onTime],
        ["late", habit.late],
        ["partial", habit.partial],
      ]);
    if (profile?.paidOnTime && (style === "late" || style === "partial")) style = "onTime";
    planPayments(inv, style, habit);
  }

  function planOrder(spec: OrderSpec): void {
    // Captured now: the steps below run later, when orderSeq has moved on (each order its own documents).
    const seq = ++orderSeq;
    const order: OrderPlan = {
      buyer: spec.buyer,
      supplier: spec.supplier,
      amount: BigInt(Math.round(spec.amountMajor / 100) * 100) * 100n,
    };
    const c = spec.createDay;
    const lead = prng.int(10, 25);
    const dueDay = c + lead;
    const due = dayTs(dueDay) + 18 * 3600;
    const sup = nameOf(spec.supplier);
    const buy = nameOf(spec.buyer);
    at(c, (r) =>
      r.send(
        spec.buyer,
        "TradeOrders",
        "createOrder",
        [addressOf(r, spec.supplier), order.amount, docHash(`purchase order ${seq}`), due],
        `${buy} orders from ${sup}`,
        (rc) => {
          order.id = eventArg(rc, "TradeOrders", "OrderCreated", "orderId");
        },
      ),
    );
    if (spec.cancel) {
      const bySupplier = prng.chance(0.4);
      const afterAccept = prng.chance(0.5);
      if (afterAccept) at(c + 1, (r) => r.send(spec.supplier, "TradeOrders", "accept", [order.id!], `${sup} accepts order ${order.id}`));
      at(c + (afterAccept ? 3 : 1), (r) =>
        r.send(
          bySupplier ? spec.supplier : spec.buyer,
          "TradeOrders",
          "cancel",
          [order.id!, bySupplier ? 2 : 1],
          `order ${order.id} cancelled`,
        ),
      );
      return;
    }
    at(c + 1, (r) => r.send(spec.supplier, "TradeOrders", "accept", [order.id!], `${sup} accepts order ${order.id}`));
    const shipDay = spec.late ? dueDay + prng.int(0, 6) : Math.max(c + 2, dueDay - prng.int(2, 5));
    at(shipDay, (r) =>
      r.send(spec.supplier, "TradeOrders", "ship", [order.id!, docHash(`bill of lading ${seq}`)], `${sup} ships order ${order.id}`),
    );
    let deliverDay = shipDay + (spec.late ? prng.int(1, 3) : 1);
    if (spec.dispute === "shipped") {
      // The buyer disputes the shipment; the operator resolves it and delivery goes ahead, late.
      at(shipDay + 1, (r) => r.send(spec.buyer, "TradeOrders", "dispute", [order.id!, 21], `${buy} disputes order ${order.id}`));
      at(shipDay + 4, (r) =>
        r.send(OPERATOR, "TradeOrders", "resolveDispute", [order.id!], `operator resolves dispute on order ${order.id}`),
      );
      deliverDay = shipDay + 6;
    }
    at(deliverDay, (r) =>
      r.send(spec.buyer, "TradeOrders", "confirmDelivery", [order.id!], `${buy} confirms delivery of order ${order.id}`),
    );
    let ready = deliverDay;
    if (spec.dispute === "delivered") {
      // A quality complaint after delivery that the buyer withdraws.
      at(deliverDay + 1, (r) => r.send(spec.buyer, "TradeOrders", "dispute", [order.id!, 22], `${buy} disputes order ${order.id}`));
      at(deliverDay + 3, (r) =>
        r.send(spec.buyer, "TradeOrders", "resolveDispute", [order.id!], `${buy} withdraws dispute on order ${order.id}`),
      );
      ready = deliverDay + 3;
    }
    at(ready + 1, (r) => r.send(spec.buyer, "TradeOrders", "complete", [order.id!], `${buy} completes order ${order.id}`));
    if (spec.splitInvoice) {
      const first = (order.amount * 60n) / 100n;
      planInvoice(order, first, ready + 1, spec, false);
      planInvoice(order, order.amount - first, ready + 8, spec, false);
    } else {
      planInvoice(order, order.amount, ready + 1, spec, spec.rejectFirstInvoice === true);
    }
  }

  // Ordinary trade, day by day, until shortly before the end.
  const TAIL_FROM = 318;
  for (const profile of profiles) {
    for (let day = profile.fromDay; day < TAIL_FROM; day++) {
      if (!prng.chance(profile.perMonth / 30.4)) continue;
      const buyer = prng.weighted(profile.buyers.map(([b, w]) => [b, w] as const));
      planOrder({
        buyer,
        supplier: profile.index,
        createDay: day,
        amountMajor: prng.int(profile.amount[0], profile.amount[1]),
        late: prng.chance(profile.late),
        cancel: prng.chance(profile.cancel),
        dispute: prng.chance(profile.dispute) ? prng.pick(["shipped", "delivered"] as const) : undefined,
        splitInvoice: prng.chance(0.1),
      });
    }
  }
  // Named events of the story.
  planOrder({ buyer: 2, supplier: MEDIOCRE, createDay: 150, amountMajor: 120_000, dispute: "shipped", late: true });
  planOrder({ buyer: 1, supplier: REGULAR[3], createDay: 95, amountMajor: 240_000, dispute: "delivered" });
  planOrder({ buyer: 3, supplier: REGULAR[1], createDay: 130, amountMajor: 88_000, rejectFirstInvoice: true });
  planOrder({ buyer: 2, supplier: MEDIOCRE, createDay: 170, amountMajor: 60_000, cancel: true });

  // The ring: from month 7, each member buys from the next, growing amounts, paid on time.
  const ringEdges: [number, number][] = [
    [RING[0], RING[1]],
    [RING[1], RING[2]],
    [RING[2], RING[0]],
  ];
  for (let month = 0; month < 5; month++) {
    ringEdges.forEach(([buyer, supplier], k) => {
      planOrder({ buyer, supplier, createDay: 200 + month * 28 + k * 3, amountMajor: 300_000 + month * 150_000, pay: "onTime" });
    });
  }
  // Farmed history: a burst of small orders inside the ring just before the end.
  for (let day = 336; day <= 350; day += 3) {
    for (const [buyer, supplier] of ringEdges)
      planOrder({ buyer, supplier, createDay: day, amountMajor: prng.int(5_000, 30_000), pay: "onTime" });
  }
  // The tail: every supplier ends with confirmed receivables that mature after the end, unpledged.
  for (const profile of profiles) {
    // Ring members get theirs from their ring buyer: acknowledged by a related party.
    const ringEdge = ringEdges.find(([, s]) => s === profile.index);
    for (const k of [0, 1]) {
      const buyer = ringEdge ? ringEdge[0] : prng.weighted(profile.buyers.map(([b, w]) => [b, w] as const));
      planOrder({
        buyer,
        supplier: profile.index,
        createDay: TAIL_FROM + k * 8 + prng.int(0, 3),
        amountMajor: prng.int(profile.amount[0], profile.amount[1]),
        pay: "never",
        termDays: 75,
      });
    }
  }

  // Historical loans, each against receivables acknowledged before it and paid only after it.
  let loanSeq = 0;
  function planLoan(spec: {
    borrower: number;
    lender: number;
    from: number;
    to: number;
    collateral: number;
    termDays: number;
    /** How the loan ends: the buyer's payment of the collateral, direct repayment (days after start), or cancellation. */
    end: { kind: "waterfall" } | { kind: "repay"; afterDays: number } | { kind: "cancel" };
  }): void {
    const quietDays = spec.end.kind === "waterfall" ? 3 : spec.end.kind === "repay" ? spec.end.afterDays + 3 : 3;
    for (let day = spec.from; day <= spec.to; day++) {
      const candidates = invoices.filter(
        (inv) =>
          inv.order.supplier === spec.borrower &&
          !inv.collateral &&
          inv.ackDay < day &&
          inv.firstPayDay > day + quietDays &&
          inv.firstPayDay !== Infinity &&
          (spec.end.kind !== "waterfall" || inv.firstPayDay < day + spec.termDays) &&
          inv.maturityDay > day + 5,
      );
      if (candidates.length < spec.collateral) continue;
      const chosen = candidates.slice(0, spec.collateral);
      chosen.forEach((inv) => (inv.collateral = true));
      scheduleLoan(day, chosen, spec);
      return;
    }
  }

  function scheduleLoan(day: number, collateral: InvoicePlan[], spec: Parameters<typeof planLoan>[0]): void {
    const nonce = BigInt(++loanSeq);
    const loan: { id?: bigint } = {};
    const borrowerName = nameOf(spec.borrower);
    at(day, async (r) => {
      const start = BigInt(dayTs(day));
      const face = collateral.reduce((sum, inv) => sum + inv.face, 0n);
      const terms: LoanTerms = {
        borrower: addressOf(r, spec.borrower),
        lender: addressOf(r, spec.lender),
        currency: deployment.contracts.SettlementToken,
        principal: ((face * 80n) / 100n / 100n) * 100n,
        rateBps: 650n,
        start,
        // Disbursed the next day; the lender may not hold the collateral longer than three days.
        disburseBy: start + BigInt(3 * DAY),
        maturity: start + BigInt(spec.termDays * DAY),
        collateral: collateral.map((inv) => inv.id!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        documentHash: docHash(`loan agreement ${nonce} ${borrowerName}`),
        nonce,
        deadline: start + BigInt(2 * DAY),
      };
      const typed = loanTermsTypedData(r.chainId, deployment.contracts.LoanAgreements, terms);
      const borrower = walletClients[spec.borrower];
      const lender = walletClients[spec.lender];
      const borrowerSig = await borrower.signTypedData({ account: borrower.account, ...typed });
      const lenderSig = await lender.signTypedData({ account: lender.account, ...typed });
      const purpose = docHash(`application ${nonce}`);
      await r.send(
        spec.borrower,
        "ConsentRegistry",
        "grant",
        [terms.lender, ALL_SCOPES, dayTs(day + 30), purpose],
        `${borrowerName} consents to ${nameOf(spec.lender)}`,
      );
      await r.send(
        spec.lender,
        "LoanAgreements",
        "submitAgreement",
        [terms, borrowerSig, lenderSig],
        `loan agreement ${borrowerName} / ${nameOf(spec.lender)}`,
        (rc) => {
          loan.id = eventArg(rc, "LoanAgreements", "AgreementRecorded", "loanId");
        },
        1_200_000n,
      );
    });
    if (spec.end.kind === "cancel") {
      at(day + 1, (r) =>
        r.send(spec.borrower, "LoanAgreements", "cancelAgreement", [loan.id!], `${borrowerName} withdraws from loan ${loan.id}`),
      );
      return;
    }
    at(day + 1, (r) => r.send(spec.lender, "LoanAgreements", "disburse", [loan.id!], `${nameOf(spec.lender)} disburses loan ${loan.id}`));
    if (spec.end.kind === "repay") {
      at(day + spec.end.afterDays, async (r) => {
        const state = (await r.read("LoanAgreements", "getLoan", [loan.id!])) as { totalDue: bigint; repaid: bigint };
        await r.send(
          spec.borrower,
          "LoanAgreements",
          "repay",
          [loan.id!, state.totalDue - state.repaid],
          `${borrowerName} repays loan ${loan.id}`,
        );
      });
    }
  }

  planLoan({ borrower: EXCELLENT, lender: LENDERS[0], from: 140, to: 220, collateral: 1, termDays: 75, end: { kind: "waterfall" } });
  planLoan({
    borrower: REGULAR[2],
    lender: LENDERS[1],
    from: 200,
    to: 260,
    collateral: 2,
    termDays: 60,
    end: { kind: "repay", afterDays: 25 },
  });
  // Repaid a week after maturity, inside the grace period: a late repayment on the record.
  planLoan({
    borrower: MEDIOCRE,
    lender: LENDERS[2],
    from: 190,
    to: 280,
    collateral: 1,
    termDays: 30,
    end: { kind: "repay", afterDays: 37 },
  });
  planLoan({ borrower: REGULAR[4], lender: LENDERS[1], from: 240, to: 300, collateral: 1, termDays: 45, end: { kind: "cancel" } });

  // ---- run it
  const runner = new Runner(
    publicClient,
    walletClients,
    deployment,
    new Prng(opts.seed ^ 0x5eed),
    await publicClient.getChainId(),
    feeFieldsRpc(opts.fees ?? {}),
  );
  const progress = (step: number, label: string) => opts.onProgress?.({ step, total: TOTAL_STEPS, label });
  const wasAutomine = (await runner.rpc("hardhat_getAutomine", [])) as boolean;
  await runner.rpc("evm_setAutomine", [false]);
  try {
    // Day 0: admission and funding.
    runner.startDay(dayTs(0));
    for (const p of participants) {
      if (p.roles === 0) continue;
      await runner.send(
        OPERATOR,
        "ParticipantRegistry",
        "admit",
        [
          addressOf(runner, p.index),
          p.roles,
          kycDossierHash(kycKey, p),
          displayNameHash(kycKey, addressOf(runner, p.index), p.name),
          kycAttributes(kycKey, p),
        ],
        `admit ${p.name}`,
      );
    }
    await runner.mine();
    progress(1, `admitted ${participants.length} participants with KYC dossier hashes`);
    const major = (n: number) => BigInt(n) * 100n;
    for (const p of participants) {
      if (p.roles === 0 || p.roles === ROLE.AUDITOR) continue;
      const amount = p.roles & ROLE.BUYER ? major(2_000_000_000) : p.roles & ROLE.LENDER ? major(500_000_000) : major(5_000_000);
      await runner.send(OPERATOR, "SettlementToken", "mint", [addressOf(runner, p.index), amount], `fund ${p.name}`);
      if (p.roles & ROLE.BUYER)
        await runner.send(
          p.index,
          "SettlementToken",
          "approve",
          [deployment.contracts.Receivables, maxUint256],
          `${p.name} approves Receivables`,
        );
      if (p.roles & (ROLE.LENDER | ROLE.SUPPLIER)) {
        await runner.send(
          p.index,
          "SettlementToken",
          "approve",
          [deployment.contracts.LoanAgreements, maxUint256],
          `${p.name} approves LoanAgreements`,
        );
      }
    }
    await runner.mine();
    progress(2, "funded buyers, lenders and suppliers with settlement tokens");

    for (let month = 0; month < MONTHS; month++) {
      const from = Math.max(1, Math.floor((month * HISTORY_DAYS) / MONTHS));
      const to = Math.floor(((month + 1) * HISTORY_DAYS) / MONTHS);
      for (let day = from; day < to; day++) {
        const actions = agenda.get(day);
        if (!actions) continue;
        runner.startDay(dayTs(day));
        for (const action of actions) await action(runner);
        await runner.mine();
      }
      progress(
        3 + month,
        `month ${month + 1}/${MONTHS}: ${runner.stats.orders} orders, ${runner.stats.receivables} receivables, ${runner.stats.blocks} blocks`,
      );
    }
    // One empty block at the end of the history, so the chain's clock continues from there.
    await runner.rpc("evm_mine", [endAt]);
    runner.stats.blocks++;
    progress(TOTAL_STEPS, "history complete");
  } finally {
    await runner.rpc("evm_setAutomine", [wasAutomine]);
  }

  const accounts: DemoAccount[] = participants.map((p) => ({
    index: p.index,
    address: walletClients[p.index].account.address,
    name: p.name,
    displayNameHash: displayNameHash(kycKey, walletClients[p.index].account.address, p.name),
    roles: roleNames(p.roles),
    roleBits: p.roles,
    persona: p.persona,
    note: p.note,
  }));
  const stats: SeedStats = { ...runner.stats, participants: participants.length, seconds: (Date.now() - started) / 1000 };
  // The operator's names directory: each name with the salt that opens its on-chain commitment.
  const participantNames: ParticipantNameEntry[] = participants
    .filter((p) => p.roles !== 0)
    .map((p) => {
      const address = walletClients[p.index].account.address;
      return { address, name: p.name, salt: displayNameSalt(kycKey, address) };
    });
  return {
    participantNames,
    demoAccounts: { seed: opts.seed, chainId: runner.chainId, historyFrom: dayTs(0), historyTo: endAt, accounts },
    stats,
    autoApprove: walletClients[EXCELLENT].account.address,
    review: walletClients[MEDIOCRE].account.address,
    ring: RING.map((i) => walletClients[i].account.address) as [Address, Address, Address],
  };
}

function addressOf(r: Runner, index: number): Address {
  return r.address(index);
}

function sha256Hex(text: string): Hex {
  return `0x${createHash("sha256").update(text).digest("hex")}`;
}

/** The KYC dossier stays off chain; only keyed hashes of it and of its components go on chain (domain/kyc-attributes.ts). */
function kycDossierHash(key: Uint8Array, p: ParticipantDef): Hex {
  return dossierHash(key, {
    name: p.name,
    legalRepresentative: p.legalRep,
    registeredAddress: p.address,
    ...(p.owner ? { ultimateOwner: p.owner } : {}),
  });
}

function kycAttributes(key: Uint8Array, p: ParticipantDef): Hex[] {
  return [
    kycAttributeHash(key, "legal_representative", p.legalRep),
    kycAttributeHash(key, "registered_address", p.address),
    kycAttributeHash(key, "bank_account", `6222 ${(0x5eed0000 + p.index * 7919).toString().padStart(12, "0")}`),
    ...(p.owner ? [kycAttributeHash(key, "ultimate_owner", p.owner)] : []),
  ];
}

function eventArg(receipt: TransactionReceipt, contract: ContractName, eventName: string, arg: string): bigint {
  const logs = parseEventLogs({ abi: abiOf(contract), logs: receipt.logs, eventName });
  if (logs.length === 0) throw new Error(`no ${eventName} event in ${receipt.transactionHash}`);
  return (logs[0].args as Record<string, bigint>)[arg];
}

// ---------------------------------------------------------------------------------------------

interface PendingTx {
  hash: Hex;
  label: string;
  onMined?: (receipt: TransactionReceipt) => void;
}

/** Sends transactions without waiting, mines them in blocks at the day's time, checks every receipt. */
class Runner {
  readonly stats = { orders: 0, receivables: 0, loans: 0, events: 0, blocks: 0, transactions: 0 };
  private pending: PendingTx[] = [];
  private reservedGas = 0n;
  private dayStart = 0;
  private lastTs = 0;
  private gasBudget = 25_000_000n;

  constructor(
    private readonly publicClient: PublicClient,
    private readonly walletClients: WalletClient<Transport, Chain, Account>[],
    private readonly deployment: Deployment,
    private readonly jitter: Prng,
    readonly chainId: number,
    private readonly fees: Record<string, string>,
  ) {}

  address(index: number): Address {
    return this.walletClients[index].account.address;
  }

  rpc(method: string, params: unknown[]): Promise<unknown> {
    return this.publicClient.request({ method, params } as never);
  }

  read(contract: ContractName, functionName: string, args: unknown[]): Promise<unknown> {
    return this.publicClient.readContract({ address: this.deployment.contracts[contract], abi: abiOf(contract), functionName, args });
  }

  startDay(ts: number): void {
    this.dayStart = ts;
  }

  async send(
    from: number,
    contract: ContractName,
    functionName: string,
    args: unknown[],
    label: string,
    onMined?: (receipt: TransactionReceipt) => void,
    gas = DEFAULT_GAS,
  ): Promise<void> {
    if (this.reservedGas + gas > this.gasBudget) await this.mine();
    const data = encodeFunctionData({ abi: abiOf(contract), functionName, args });
    const hash = (await this.rpc("eth_sendTransaction", [
      { from: this.address(from), to: this.deployment.contracts[contract], data, gas: toHex(gas), ...this.fees },
    ])) as Hex;
    this.pending.push({ hash, label, onMined });
    this.reservedGas += gas;
    if (functionName === "createOrder") this.stats.orders++;
    if (functionName === "issue") this.stats.receivables++;
    if (functionName === "submitAgreement") this.stats.loans++;
  }

  async mine(): Promise<void> {
    if (this.pending.length === 0) return;
    const ts = Math.max(this.lastTs + 1, this.dayStart + 9 * 3600 + this.jitter.int(0, 3600));
    await this.rpc("evm_mine", [ts]);
    // The history needs strictly increasing block times, one chosen per day: the node must mine at the
    // time asked (Hardhat's and Anvil's evm_mine do), whatever its own clock habits are.
    const mined = await this.publicClient.getBlock({ blockTag: "latest" });
    if (Number(mined.timestamp) !== ts) {
      throw new Error(
        `the node mined block ${mined.number} at ${mined.timestamp}, not at the requested ${ts}: the seed needs evm_mine with a timestamp (Hardhat's or Anvil's development node)`,
      );
    }
    this.lastTs = ts;
    const batch = this.pending;
    this.pending = [];
    this.reservedGas = 0n;
    const receipts = await Promise.all(batch.map((tx) => this.publicClient.getTransactionReceipt({ hash: tx.hash })));
    receipts.forEach((receipt, k) => {
      if (receipt.status !== "success") {
        throw new Error(`seeding failed: "${batch[k].label}" reverted (tx ${receipt.transactionHash}, block ${receipt.blockNumber})`);
      }
      this.stats.events += receipt.logs.length;
      batch[k].onMined?.(receipt);
    });
    this.stats.transactions += batch.length;
    this.stats.blocks++;
  }
}

// ---------------------------------------------------------------------------------------------
// CLI: seed a running development node (deployed with scripts/deploy.ts).

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rpc: { type: "string" }, seed: { type: "string" }, deployment: { type: "string" }, out: { type: "string" } },
  });
  const { publicClientFor, walletClientFor } = await import("./lib/clients");
  const { readDeploymentFile } = await import("./lib/deployment-file");
  const { writeDemoAccounts } = await import("./lib/demo-accounts");
  const { feeFieldsFromEnv } = await import("../node-service/src/chain/fees");
  const rpc = values.rpc ?? process.env.RPC_URL ?? "http://127.0.0.1:8545";
  const fees = feeFieldsFromEnv(process.env);
  const publicClient = await publicClientFor(rpc);
  assertDevelopmentChain(await publicClient.getChainId(), "the seed");
  const deploymentFile = values.deployment ?? process.env.DEPLOYMENT_FILE ?? "data/deployment.json";
  const deployment = await readDeploymentFile(deploymentFile);
  if (!deployment) throw new Error(`no deployment file at ${deploymentFile}: run scripts/deploy.ts first`);
  const addresses = (await publicClient.request({ method: "eth_accounts" } as never)) as Address[];
  const walletClients = addresses.map((a) => walletClientFor(publicClient, rpc, a));
  const result = await seedDemo({
    publicClient,
    walletClients,
    deployment,
    seed: Number(values.seed ?? process.env.SEED ?? 1),
    fees,
    onProgress: (p) => console.log(`[${p.step}/${p.total}] ${p.label}`),
  });
  const out = values.out ?? "data/demo-accounts.json";
  await writeDemoAccounts(out, result.demoAccounts);
  const { writeParticipantNames } = await import("../node-service/src/participants/directory");
  await writeParticipantNames((await import("node:path")).dirname(out), result.participantNames);
  console.log(formatSeedStats(result.stats));
  console.log(`roles written to ${out}`);
}

export function formatSeedStats(s: SeedStats): string {
  return (
    `seeded ${s.participants} participants, ${s.orders} orders, ${s.receivables} receivables, ${s.loans} loans, ` +
    `${s.events} events in ${s.transactions} transactions and ${s.blocks} blocks, in ${s.seconds.toFixed(1)} s`
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`seed failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
