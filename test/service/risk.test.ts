/**
 * Each fraud flag on a trade history built on a real Hardhat chain with the real contracts and read
 * back through the real indexer, next to a history built to look similar but be clean.
 */
import { expect } from "chai";
import hre from "hardhat";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { maxUint256, type Hex, type PublicClient } from "viem";
import type { Deployment } from "../../node-service/src/chain/contracts";
import { ROLE } from "../../node-service/src/chain/eip712";
import type { Address, IndexState } from "../../node-service/src/domain/entities";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { kycAttributeHash, type AttributeKind } from "../../node-service/src/domain/kyc-attributes";
import { describeFlag, FLAG_TEXT_CODES, screenBorrower as screen, type RiskFlag } from "../../node-service/src/risk/screen";
import { OnDemandIndex } from "../../node-service/src/store/on-demand";
import { stateReader } from "../../node-service/src/store/index-reader";
import { formatMoney } from "../../node-service/src/domain/money";
import {
  admit,
  createDeliveredOrder,
  createOrder,
  deployContracts,
  docHash,
  issueReceivable,
  send,
  type Net,
  type Wallet,
} from "../../scripts/lib/chain-helpers";
import { DAY } from "../../node-service/src/domain/time";

const NORMAL = 1_000_000n; // 10,000.00
const SMALL = 50_000n; // 500.00
/** The operator's KYC HMAC key in these tests (made here, never a real one). */
const KYC_KEY = Buffer.alloc(32, 7);
type Attr = [AttributeKind, string];

async function deployed() {
  const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
  const wallets = (await hre.viem.getWalletClients()) as unknown as Wallet[];
  const net: Net = { publicClient, deployment: await deployContracts(publicClient, wallets[0]) };
  return { net, wallets };
}

/** Drives the contracts as the participants would; participant i is test account i (1..19), admitted on first use. */
async function network() {
  const { net, wallets } = await loadFixture(deployed);
  const admitted = new Set<number>();
  const address = (i: number) => wallets[i].account.address.toLowerCase() as Address;
  const attr = ([kind, value]: Attr) => kycAttributeHash(KYC_KEY, kind, value);

  /** Admits account i as supplier and buyer with its own KYC attributes (keyed hashes), plus any shared ones given. */
  async function admitAs(i: number, shared: Attr[] = []): Promise<Address> {
    if (admitted.has(i)) throw new Error(`account ${i} admitted twice`);
    admitted.add(i);
    const kycAttributes = [attr(["registered_address", `${i} Own Road`]), attr(["bank_account", `6222 0000 ${i}`]), ...shared.map(attr)];
    await admit(net, wallets[0], [{ account: wallets[i].account.address, roles: ROLE.SUPPLIER | ROLE.BUYER, kycAttributes }]);
    return address(i);
  }

  async function ensure(...accounts: number[]) {
    for (const i of accounts) if (!admitted.has(i)) await admitAs(i);
  }

  /** `buyer` orders from `supplier`; returns the order id. */
  async function order(buyer: number, supplier: number, amount = NORMAL): Promise<bigint> {
    await ensure(buyer, supplier);
    return createOrder(net, { buyer: wallets[buyer], supplier: wallets[supplier].account.address, amount });
  }

  async function cancel(by: number, orderId: bigint) {
    await send(net, wallets[by], "TradeOrders", "cancel", [orderId, 1]);
  }

  /** `buyer` orders from `supplier`, which accepts and ships it. */
  async function shipped(buyer: number, supplier: number): Promise<bigint> {
    const id = await order(buyer, supplier);
    await send(net, wallets[supplier], "TradeOrders", "accept", [id]);
    await send(net, wallets[supplier], "TradeOrders", "ship", [id, docHash(`bill of lading ${id}`)]);
    return id;
  }

  async function dispute(buyer: number, orderId: bigint): Promise<Hex> {
    return (await send(net, wallets[buyer], "TradeOrders", "dispute", [orderId, 3])).transactionHash;
  }

  /** An order delivered, invoiced by the supplier and acknowledged by the buyer's own transaction. */
  async function acknowledgedReceivable(buyer: number, supplier: number, amount = NORMAL): Promise<{ id: bigint; ackTx: Hex }> {
    await ensure(buyer, supplier);
    const orderId = await createDeliveredOrder(net, { buyer: wallets[buyer], supplier: wallets[supplier], amount });
    const { receivableId } = await issueReceivable(net, { supplier: wallets[supplier], orderId, faceValue: amount });
    const receipt = await send(net, wallets[buyer], "Receivables", "acknowledge", [receivableId]);
    return { id: receivableId, ackTx: receipt.transactionHash };
  }

  /** Indexes the chain from the deployment with the real indexer; returns the state and the latest block time. */
  async function index(): Promise<{ state: IndexState; asOf: number }> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "scf-risk-"));
    try {
      const indexer = await createIndexer({ publicClient: net.publicClient, deployment: net.deployment, dataDir, confirmations: 0 });
      await indexer.syncOnce();
      const state = indexer.state();
      await indexer.stop();
      return { state, asOf: await time.latest() };
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  /** The operator mints `amount` settlement tokens to account i (none when 0), which lets Receivables pull any amount. */
  async function fund(i: number, amount: bigint) {
    if (amount > 0n) await send(net, wallets[0], "SettlementToken", "mint", [wallets[i].account.address, amount]);
    await send(net, wallets[i], "SettlementToken", "approve", [net.deployment.contracts.Receivables, maxUint256]);
  }

  /** A plain settlement-token transfer from account `from` to account `to`; returns the transaction hash. */
  async function pay(from: number, to: number, amount: bigint): Promise<Hex> {
    return (await send(net, wallets[from], "SettlementToken", "transfer", [wallets[to].account.address, amount])).transactionHash;
  }

  /** The debtor pays a receivable in full through the Receivables contract; returns the transaction hash. */
  async function payReceivable(debtor: number, id: bigint, amount: bigint): Promise<Hex> {
    return (await send(net, wallets[debtor], "Receivables", "pay", [id, amount])).transactionHash;
  }

  /** The operator re-registers account i's KYC hashes (a dossier change or a key rotation). */
  async function updateKyc(i: number, kycAttributes: Hex[]) {
    await send(net, wallets[0], "ParticipantRegistry", "updateKyc", [
      wallets[i].account.address,
      docHash(`kyc v2 ${i}`),
      docHash(`name v2 ${i}`),
      kycAttributes,
    ]);
  }

  /** `buyer` orders from `supplier` with the given purchase-order document label. */
  async function orderWithDocument(buyer: number, supplier: number, document: string): Promise<bigint> {
    await ensure(buyer, supplier);
    return createOrder(net, { buyer: wallets[buyer], supplier: wallets[supplier].account.address, amount: NORMAL, document });
  }

  return {
    publicClient: net.publicClient,
    deployment: net.deployment,
    admit: admitAs,
    address,
    attr,
    order,
    cancel,
    shipped,
    dispute,
    acknowledgedReceivable,
    index,
    fund,
    pay,
    payReceivable,
    orderWithDocument,
    updateKyc,
  };
}

/** Every evidence reference points at a log of one of our contracts in that exact transaction and block. */
async function expectEvidenceOnChain(publicClient: PublicClient, deployment: Deployment, flag: RiskFlag) {
  expect(flag.evidence.length).to.be.greaterThan(0);
  const ours = new Set(Object.values(deployment.contracts).map((a) => a.toLowerCase()));
  for (const ref of flag.evidence) {
    const receipt = await publicClient.getTransactionReceipt({ hash: ref.txHash });
    expect(receipt.blockHash).to.equal(ref.blockHash);
    expect(Number(receipt.blockNumber)).to.equal(ref.blockNumber);
    const log = receipt.logs.find((l) => l.logIndex === ref.logIndex);
    expect(log, `log ${ref.logIndex} of ${ref.txHash}`).to.not.equal(undefined);
    expect(ours.has(log!.address.toLowerCase())).to.equal(true);
  }
}

/**
 * The flag's summary as a message code (what the web writes in Chinese and English) says what the English
 * summary says: a known code, every amount (in CNY), address (shortened) and share of it in the summary.
 */
function expectCodedLikeSummary(flag: RiskFlag) {
  const coded = describeFlag(flag);
  expect(FLAG_TEXT_CODES.text as readonly string[]).to.include(coded.textCode);
  expect(coded.textCode, flag.summary).to.not.equal("other");
  if (coded.items) expect(FLAG_TEXT_CODES.item as readonly string[]).to.include(coded.itemCode);
  const values = [coded.params, ...(coded.items ?? [])].flatMap((p) => Object.entries(p));
  expect(values.length).to.be.greaterThan(0);
  for (const [key, v] of values) {
    expect(typeof v, key).to.equal("string");
    if (key.endsWith("Amount")) expect(flag.summary, key).to.include(formatMoney(BigInt(v)));
    if (key.endsWith("Ratio")) expect(flag.summary, key).to.include(`${(Number(v) * 100).toFixed(1)}%`);
    if (/^0x[0-9a-f]{40}$/.test(v)) expect(flag.summary, key).to.include(`${v.slice(0, 6)}…${v.slice(-4)}`);
    // A day the summary names ("since 2026-05-01"), as block time.
    if (key.endsWith("At")) expect(flag.summary, key).to.include(new Date(Number(v) * 1000).toISOString().slice(0, 10));
  }
  // Stored flags without the details a code needs still get a text: the English summary.
  expect(describeFlag({ code: flag.code, summary: flag.summary, details: {} })).to.deep.equal({
    textCode: "other",
    params: { summary: flag.summary },
  });
}

const codes = (flags: RiskFlag[]) => flags.map((f) => f.code);

/** The screenings of the running test, each checked after it against the same screening read on demand. */
const screenings: { args: Parameters<typeof screen>; flags: RiskFlag[] }[] = [];

/** screenBorrower, noting each screening and its flags. */
function screenBorrower(...args: Parameters<typeof screen>): RiskFlag[] {
  const flags = screen(...args);
  screenings.push({ args, flags });
  return flags;
}

describe("risk screening on chain-built histories", () => {
  // A reader process screens over keys read on demand (store/on-demand.ts): every screening of these
  // histories gives the same flags that way as over the whole index.
  afterEach(async () => {
    for (const { args, flags } of screenings.splice(0)) {
      const [state, borrower, opts] = args;
      const onDemand = new OnDemandIndex(stateReader(state));
      expect(await onDemand.run((partial) => screen(partial, borrower, opts)), `${borrower} read on demand`).to.deep.equal(flags);
    }
  });

  describe("circular trading", () => {
    it("flags orders that run in a cycle A -> B -> C -> A through the borrower, with the orders as evidence", async () => {
      const n = await network();
      const [a, b, c] = [await n.admit(1), await n.admit(2), await n.admit(3)];
      const o1 = await n.order(2, 1); // B buys from A
      const o2 = await n.order(3, 2); // C buys from B
      const o3 = await n.order(1, 3); // A buys from C
      const { state, asOf } = await n.index();

      const flags = screenBorrower(state, a, { asOf });
      const cycles = flags.filter((f) => f.code === "circular_trading");
      expect(cycles).to.have.length(1);
      const flag = cycles[0];
      expect(flag.severity).to.equal("block");
      expect(flag.details.members).to.deep.equal([a, c, b]); // buyer -> supplier: A buys from C, C from B, B from A
      expect(flag.details.length).to.equal(3);
      expect(flag.details.edges).to.deep.equal([
        { buyer: a, supplier: c, orderIds: [o3.toString()], total: NORMAL.toString() },
        { buyer: c, supplier: b, orderIds: [o2.toString()], total: NORMAL.toString() },
        { buyer: b, supplier: a, orderIds: [o1.toString()], total: NORMAL.toString() },
      ]);
      expect(flag.evidence.map((e) => e.event)).to.deep.equal(["OrderCreated", "OrderCreated", "OrderCreated"]);
      expect(flag.evidence.map((e) => e.txHash)).to.deep.equal([o1, o2, o3].map((id) => state.orders[id.toString()].events[0].txHash));
      await expectEvidenceOnChain(n.publicClient, n.deployment, flag);
      expectCodedLikeSummary(flag);
      // Every member of the ring is flagged when it is the one screened.
      expect(codes(screenBorrower(state, b, { asOf }))).to.include("circular_trading");
    });

    it("finds a five-party ring within the default bound, and not one beyond maxCycleLength", async () => {
      const n = await network();
      const a = await n.admit(1);
      await n.order(2, 1);
      await n.order(3, 2);
      await n.order(4, 3);
      await n.order(1, 4);
      const four = await n.index();
      expect(screenBorrower(four.state, a, { asOf: four.asOf }).filter((f) => f.code === "circular_trading")[0].details.length).to.equal(4);
      // A separate five-party ring through account 5 ... 9.
      const e = await n.admit(5);
      await n.order(6, 5);
      await n.order(7, 6);
      await n.order(8, 7);
      await n.order(9, 8);
      await n.order(5, 9);
      const five = await n.index();
      const flag = screenBorrower(five.state, e, { asOf: five.asOf }).filter((f) => f.code === "circular_trading");
      expect(flag.map((f) => f.details.length)).to.deep.equal([5]);
      expect(flag[0].details.maxCycleLength).to.equal(8);
      expect(codes(screenBorrower(five.state, e, { asOf: five.asOf, params: { maxCycleLength: 4 } }))).to.not.include("circular_trading");
    });

    it("does not flag an open chain, two-way trade, a ring closed by a cancelled order, or one closed long ago", async () => {
      const n = await network();
      const a = await n.admit(1);
      await n.order(2, 1); // B buys from A
      await n.order(3, 2); // C buys from B
      await n.order(1, 4); // A buys from D: the chain stays open
      await n.order(1, 2); // A buys from B: two-way trade with B, a cycle of 2
      const cancelled = await n.order(1, 3); // A buys from C would close the ring...
      await n.cancel(1, cancelled); // ...but is cancelled
      const now = await n.index();
      expect(codes(screenBorrower(now.state, a, { asOf: now.asOf }))).to.not.include("circular_trading");

      // A ring whose first leg is older than the 180-day window.
      const n2 = await network();
      const x = await n2.admit(11);
      await n2.order(12, 11);
      await time.increase(200 * DAY);
      await n2.order(13, 12);
      await n2.order(11, 13);
      const later = await n2.index();
      expect(codes(screenBorrower(later.state, x, { asOf: later.asOf }))).to.not.include("circular_trading");
      // With a window long enough to reach the first leg, the ring is there.
      expect(codes(screenBorrower(later.state, x, { asOf: later.asOf, params: { cycleWindowDays: 365 } }))).to.include("circular_trading");
    });
  });

  describe("related parties", () => {
    it("flags a counterparty with the same legal representative, spelt in Chinese and in pinyin, with the path as evidence", async () => {
      const n = await network();
      const a = await n.admit(1, [["legal_representative", "Li Wei"]]);
      const p = await n.admit(2, [["legal_representative", "李伟"]]);
      const orderId = await n.order(2, 1);
      const { state, asOf } = await n.index();

      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "related_party");
      expect(flags).to.have.length(1);
      expect(flags[0].severity).to.equal("warn");
      const hash = n.attr(["legal_representative", "LI, Wei"]);
      expect(flags[0].details).to.deep.equal({
        party: p,
        hops: 1,
        strength: 1,
        path: [{ from: a, to: p, strength: 1, shared: [{ fromKind: "legal_representative", toKind: "legal_representative", hash }] }],
        sharedAttributes: [hash],
        tradedWith: true,
        orderIds: [orderId.toString()],
      });
      expect(flags[0].summary).to.include("legal_representative");
      expect(flags[0].evidence.map((e) => e.event)).to.deep.equal(["ParticipantAdmitted", "ParticipantAdmitted", "OrderCreated"]);
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
    });

    it("relates a buyer and a supplier through their holding company (owner -> registration -> owner), naming each link", async () => {
      const n = await network();
      const holding = "91440300MA5ABCDE1X";
      const a = await n.admit(1, [["owner", holding]]);
      const h = await n.admit(3, [
        ["registration_id", "9144 0300 MA5A BCDE 1X"],
        ["owner", "91110000 PARENT 0001"],
      ]);
      const b = await n.admit(2, [
        ["owner", "91110000PARENT0001"],
        ["registration_id", "91440300XYZ"],
      ]);
      const sibling = await n.admit(4, [["registration_id", "91110000-PARENT-0001"]]);
      const { id } = await n.acknowledgedReceivable(2, 1);
      const { state, asOf } = await n.index();

      const flags = screenBorrower(state, a, { asOf });
      const ack = flags.filter((f) => f.code === "related_party_acknowledgment");
      expect(ack).to.have.length(1);
      expect(ack[0].details.debtor).to.equal(b);
      expect(ack[0].details.receivableIds).to.deep.equal([id.toString()]);
      const path = ack[0].details.path as { from: string; to: string; shared: { fromKind: string; toKind: string }[] }[];
      // A is owned by H; H and B have the same owner (the parent, itself registered as `sibling`'s company).
      expect(path.map((l) => [l.from, l.to])).to.deep.equal([
        [a, h],
        [h, b],
      ]);
      expect(path[0].shared.map((x) => [x.fromKind, x.toKind])).to.deep.equal([["owner", "registration_id"]]);
      expect(path[1].shared.map((x) => [x.fromKind, x.toKind])).to.deep.equal([["owner", "owner"]]);
      expect(ack[0].details.hops).to.equal(2);
      expect(ack[0].summary).to.include("owner/registration_id");
      expect(flags.filter((f) => f.code === "related_party").map((f) => f.details.party)).to.not.include(sibling); // never traded, two hops away
      await expectEvidenceOnChain(n.publicClient, n.deployment, ack[0]);
      expectCodedLikeSummary(ack[0]);
      // One hop deep (the old rule) does not see it.
      expect(codes(screenBorrower(state, a, { asOf, params: { relatedMaxHops: 1 } }))).to.not.include("related_party_acknowledgment");
    });

    it("matches a shell's address and bank account written differently (full-width digits, abbreviations, spacing)", async () => {
      const n = await network();
      const a = await n.admit(1, [
        ["registered_address", "88 Harbour Road, Shenzhen"],
        ["bank_account", "6222 0201 0012 3456"],
      ]);
      const p = await n.admit(2, [
        ["registered_address", "No.88 Harbor Rd., Shenzhen City"],
        ["bank_account", "６２２２-０２０１-００１２-３４５６"],
      ]);
      await n.acknowledgedReceivable(2, 1);
      const { state, asOf } = await n.index();
      const ack = screenBorrower(state, a, { asOf }).filter((f) => f.code === "related_party_acknowledgment");
      expect(ack.map((f) => f.details.debtor)).to.deep.equal([p]);
      const kinds = (ack[0].details.path as { shared: { toKind: string }[] }[])[0].shared.map((x) => x.toKind).sort();
      expect(kinds).to.deep.equal(["bank_account", "registered_address"]);
    });

    it("does not relate two firms that share only a cluster-registration address, though they trade", async () => {
      const n = await network();
      const a = await n.admit(1, [["registered_address", "Room 1201, 8 Science Park Road"]]);
      await n.admit(2, [["registered_address", "Rm 1201, No.8 Science Park Rd"]]);
      await n.acknowledgedReceivable(2, 1);
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, a, { asOf });
      expect(codes(flags)).to.not.include("related_party");
      expect(codes(flags)).to.not.include("related_party_acknowledgment");
      // The same pair with one shared legal representative is related.
      expect(state.participants[a].kycAttributes).to.include(n.attr(["registered_address", "8 science park road room 1201"]));
    });

    it("follows a key rotation: after both are re-registered under the new key they are still related, and a screening as of before uses the old hashes", async () => {
      const n = await network();
      const a = await n.admit(1, [["bank_account", "6222 0001"]]);
      const p = await n.admit(2, [["bank_account", "6222 0001"]]);
      await n.order(2, 1);
      const before = await n.index();
      await time.increase(DAY);
      const rotated = Buffer.alloc(32, 8);
      await n.updateKyc(1, [kycAttributeHash(rotated, "bank_account", "6222 0001")]);
      const halfway = await n.index(); // only the borrower re-registered: the two key epochs never match
      await n.updateKyc(2, [kycAttributeHash(rotated, "bank_account", "62220001")]);
      const after = await n.index();
      const related = (x: { state: IndexState; asOf: number }, asOf = x.asOf) =>
        screenBorrower(x.state, a, { asOf })
          .filter((f) => f.code === "related_party")
          .map((f) => f.details.party);
      expect(related(before)).to.deep.equal([p]);
      expect(related(halfway)).to.deep.equal([]);
      expect(related(after)).to.deep.equal([p]);
      expect(related(after, before.asOf)).to.deep.equal([p]); // as of before the rotation: the old hashes
      expect(after.state.participants[a].kycHistory).to.have.length(1);
    });

    it("notes a directly related participant it never traded with only as information", async () => {
      const n = await network();
      const a = await n.admit(1, [["bank_account", "6222 0001"]]);
      const p = await n.admit(2, [["bank_account", "62220001"]]);
      await n.order(3, 1);
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "related_party");
      expect(flags.map((f) => [f.severity, f.details.party, f.details.tradedWith])).to.deep.equal([["info", p, false]]);
    });

    it("does not flag counterparties trading the same way whose KYC attributes are all distinct", async () => {
      const n = await network();
      const a = await n.admit(1, [["legal_representative", "Li Wei"]]);
      await n.admit(2, [["legal_representative", "Zhang Min"]]);
      await n.order(2, 1);
      await n.order(3, 1);
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, a, { asOf });
      expect(codes(flags)).to.not.include("related_party");
      expect(codes(flags)).to.not.include("related_party_acknowledgment");
    });
  });

  describe("receivables acknowledged by a related party", () => {
    it("flags a receivable of the borrower acknowledged by a buyer that shares its bank account", async () => {
      const n = await network();
      const a = await n.admit(1, [["bank_account", "6222 0001"]]);
      const p = await n.admit(2, [["bank_account", "6222 0001"]]);
      const { id, ackTx } = await n.acknowledgedReceivable(2, 1);
      const { state, asOf } = await n.index();

      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "related_party_acknowledgment");
      expect(flags).to.have.length(1);
      expect(flags[0].severity).to.equal("warn");
      expect(flags[0].details).to.deep.include({
        debtor: p,
        hops: 1,
        sharedAttributes: [n.attr(["bank_account", "6222 0001"])],
        receivableIds: [id.toString()],
        faceValue: NORMAL.toString(),
      });
      const ack = flags[0].evidence.find((e) => e.event === "ReceivableAcknowledged")!;
      expect(ack.txHash).to.equal(ackTx);
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
    });

    it("does not flag the same receivable flow with an unrelated buyer", async () => {
      const n = await network();
      const a = await n.admit(1, [["bank_account", "6222 0001"]]);
      await n.admit(2, [["bank_account", "6222 0002"]]);
      await n.acknowledgedReceivable(2, 1);
      const { state, asOf } = await n.index();
      expect(state.receivables["1"].status).to.equal("Confirmed");
      expect(codes(screenBorrower(state, a, { asOf }))).to.not.include("related_party_acknowledgment");
    });
  });

  describe("round-tripping", () => {
    it("flags money the borrower sends to a shell that comes back as its buyer's payment, with the transfers as evidence", async () => {
      const n = await network();
      const a = await n.admit(1);
      await n.admit(2); // the buyer that pays the borrower's receivable
      await n.admit(3); // the shell in between
      const { id } = await n.acknowledgedReceivable(2, 1);
      await n.fund(1, NORMAL);
      const out = await n.pay(1, 3, NORMAL); // borrower -> shell
      await time.increase(3 * DAY);
      const on = await n.pay(3, 2, NORMAL); // shell -> buyer
      await n.fund(2, 0n); // the buyer approves Receivables (it holds only the shell's money)
      const back = await n.payReceivable(2, id, NORMAL); // buyer pays the borrower's receivable
      const { state, asOf } = await n.index();

      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "round_tripping");
      expect(flags).to.have.length(1);
      expect(flags[0].severity).to.equal("block");
      expect(flags[0].details.returned).to.equal(NORMAL.toString());
      expect(flags[0].details.share).to.equal(1);
      const route = (flags[0].details.routes as { transfers: { txHash: string; cause: string }[] }[])[0];
      expect(route.transfers.map((t) => t.txHash)).to.deep.equal([out, on, back]);
      expect(route.transfers[2].cause).to.include("ReceivablePaid");
      expect(flags[0].evidence.map((e) => e.txHash)).to.deep.equal([out, on, back]);
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
    });

    it("does not flag the same payments through a business with money of its own", async () => {
      const n = await network();
      const a = await n.admit(1);
      await n.admit(2);
      await n.admit(3);
      const { id } = await n.acknowledgedReceivable(2, 1);
      await n.fund(3, 50n * NORMAL); // the intermediary's own money: 50 times what the borrower sends
      await n.fund(2, 50n * NORMAL);
      await n.fund(1, NORMAL);
      await n.pay(1, 3, NORMAL);
      await n.pay(3, 2, NORMAL);
      await n.payReceivable(2, id, NORMAL);
      const { state, asOf } = await n.index();
      expect(Object.keys(state.transfers).length).to.be.greaterThan(5);
      expect(codes(screenBorrower(state, a, { asOf }))).to.not.include("round_tripping");
    });
  });

  describe("reused purchase-order documents", () => {
    it("blocks a purchase-order document on orders with two different buyers, and only notes call-offs between the same two parties", async () => {
      const n = await network();
      const a = await n.admit(1);
      const first = await n.orderWithDocument(2, 1, "PO 2026-0117");
      const second = await n.orderWithDocument(3, 1, "PO 2026-0117");
      const call1 = await n.orderWithDocument(4, 1, "framework 7");
      const call2 = await n.orderWithDocument(4, 1, "framework 7");
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "reused_document");
      expect(flags.map((f) => [f.severity, (f.details.orders as { id: string }[]).map((o) => o.id)])).to.deep.equal([
        ["block", [first.toString(), second.toString()]],
        ["info", [call1.toString(), call2.toString()]],
      ]);
      expect(flags[0].details.documentHash).to.equal(docHash("PO 2026-0117"));
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
    });
  });

  describe("farmed history", () => {
    /** Half a year of normal orders from one long-standing buyer (account 2, which also buys from account 3). */
    async function ordinaryPast(n: Awaited<ReturnType<typeof network>>) {
      await n.admit(1);
      for (let i = 0; i < 4; i++) {
        await n.order(2, 1);
        await n.order(2, 3);
        await time.increase(40 * DAY);
      }
    }

    it("flags a patient farm: orders spread over months with counterparties that trade only with the borrower", async () => {
      const n = await network();
      await ordinaryPast(n);
      const farmed: bigint[] = [];
      for (const buyer of [10, 11, 10, 11, 10, 11]) {
        farmed.push(await n.order(buyer, 1, SMALL));
        await time.increase(25 * DAY); // 150 days: far beyond a 30-day burst window
      }
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, n.address(1), { asOf }).filter((f) => f.code === "farmed_history");
      expect(flags).to.have.length(1);
      const d = flags[0].details;
      expect(flags[0].severity).to.equal("warn");
      expect(d.orderIds).to.deep.equal(farmed.map(String));
      expect(d.ordersInLookback).to.equal(10);
      expect(d.share).to.equal(0.6);
      expect(d.counterparties).to.deep.equal(
        [10, 11]
          .map((i) => ({ address: n.address(i), ordersWithBorrower: 3, ordersInAll: 3, why: "admitted_after_borrower" }))
          .sort((x, y) => (x.address < y.address ? -1 : 1)),
      );
      expect(flags[0].evidence).to.have.length(6);
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
      // The coded text names the first farmed order's day, as the English does (not "in the last N days").
      const coded = describeFlag(flags[0]);
      expect(coded.textCode).to.equal("farmed_history_since");
      expect(Number(coded.params.sinceAt)).to.equal(state.orders[farmed[0].toString()].createdAt);
    });

    it("does not flag the same orders from buyers with their own trade elsewhere", async () => {
      const n = await network();
      await ordinaryPast(n);
      for (const buyer of [10, 11]) for (let k = 0; k < 3; k++) await n.order(buyer, 13);
      for (const buyer of [10, 11, 10, 11, 10, 11]) {
        await n.order(buyer, 1, SMALL);
        await time.increase(25 * DAY);
      }
      const { state, asOf } = await n.index();
      expect(codes(screenBorrower(state, n.address(1), { asOf }))).to.not.include("farmed_history");
    });

    it("does not flag a new supplier's trial orders: one small order each from six new customers", async () => {
      const n = await network();
      await n.admit(1);
      for (const buyer of [10, 11, 12, 13, 14, 15]) {
        await n.order(buyer, 1, SMALL);
        await time.increase(2 * DAY);
      }
      const { state, asOf } = await n.index();
      expect(codes(screenBorrower(state, n.address(1), { asOf }))).to.not.include("farmed_history");
    });
  });

  describe("buyer concentration", () => {
    it("flags one buyer above the share threshold of the borrower's sales, with its orders as evidence", async () => {
      const n = await network();
      const a = await n.admit(1);
      const big: bigint[] = [];
      for (let i = 0; i < 8; i++) big.push(await n.order(2, 1));
      await n.order(3, 1);
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "buyer_concentration");
      expect(flags).to.have.length(1);
      expect(flags[0].details).to.deep.include({
        buyer: n.address(2),
        share: 0.8888,
        threshold: 0.6,
        buyerValue: (8n * NORMAL).toString(),
        totalValue: (9n * NORMAL).toString(),
        buyerOrders: 8,
        orders: 9,
        distinctBuyers: 2,
      });
      expect(flags[0].evidence.map((e) => e.txHash)).to.deep.equal(big.map((id) => state.orders[id.toString()].events[0].txHash));
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
    });

    it("does not flag the same number of orders spread over two buyers below the threshold", async () => {
      const n = await network();
      const a = await n.admit(1);
      for (let i = 0; i < 5; i++) await n.order(2, 1);
      for (let i = 0; i < 4; i++) await n.order(3, 1);
      const { state, asOf } = await n.index();
      expect(codes(screenBorrower(state, a, { asOf }))).to.not.include("buyer_concentration");
    });
  });

  describe("selective leniency", () => {
    it("flags a buyer that disputes other suppliers' shipments but never the borrower's", async () => {
      const n = await network();
      const a = await n.admit(1);
      const mine: bigint[] = [];
      for (let i = 0; i < 5; i++) mine.push(await n.shipped(2, 1));
      const elsewhere: bigint[] = [];
      for (let i = 0; i < 5; i++) elsewhere.push(await n.shipped(2, 3));
      const disputeTxs = [await n.dispute(2, elsewhere[1]), await n.dispute(2, elsewhere[3])];
      const { state, asOf } = await n.index();
      const flags = screenBorrower(state, a, { asOf }).filter((f) => f.code === "selective_leniency");
      expect(flags).to.have.length(1);
      expect(flags[0].details).to.deep.include({
        buyer: n.address(2),
        borrowerShipments: 5,
        otherShipments: 5,
        otherDisputed: 2,
        otherDisputeRate: 0.4,
        borrowerOrderIds: mine.map(String),
        disputedOrderIds: [elsewhere[1], elsewhere[3]].map(String),
      });
      const disputes = flags[0].evidence.filter((e) => e.event === "OrderDisputed");
      expect(disputes.map((e) => e.txHash)).to.deep.equal(disputeTxs);
      expect(flags[0].evidence.filter((e) => e.event === "OrderShipped")).to.have.length(5);
      await expectEvidenceOnChain(n.publicClient, n.deployment, flags[0]);
      expectCodedLikeSummary(flags[0]);
    });

    it("does not flag a buyer that disputes the borrower's shipments as it disputes others'", async () => {
      const n = await network();
      const a = await n.admit(1);
      const mine: bigint[] = [];
      for (let i = 0; i < 5; i++) mine.push(await n.shipped(2, 1));
      const elsewhere: bigint[] = [];
      for (let i = 0; i < 5; i++) elsewhere.push(await n.shipped(2, 3));
      await n.dispute(2, elsewhere[1]);
      await n.dispute(2, elsewhere[3]);
      await n.dispute(2, mine[0]);
      const { state, asOf } = await n.index();
      expect(codes(screenBorrower(state, a, { asOf }))).to.not.include("selective_leniency");
    });
  });

  describe("screening as a function", () => {
    it("gives the same flags in the same order on every run and ignores events after asOf", async () => {
      const n = await network();
      const a = await n.admit(1, [["legal_representative", "Li Wei"]]);
      await n.admit(2, [["legal_representative", "Li Wei"]]);
      await n.order(2, 1);
      await n.order(3, 2);
      await n.order(1, 3);
      const before = await n.index();
      await time.increase(DAY);
      for (let i = 0; i < 6; i++) await n.order(4, 1);
      const after = await n.index();
      const first = screenBorrower(after.state, a, { asOf: before.asOf });
      expect(screenBorrower(after.state, a, { asOf: before.asOf })).to.deep.equal(first);
      expect(first).to.deep.equal(screenBorrower(before.state, a, { asOf: before.asOf }));
      expect(codes(first)).to.deep.equal(["circular_trading", "related_party"]);
      expect(codes(screenBorrower(after.state, a, { asOf: after.asOf }))).to.include("buyer_concentration");
    });

    it("refuses parameters out of range", async () => {
      const n = await network();
      const a = await n.admit(1);
      const { state, asOf } = await n.index();
      expect(() => screenBorrower(state, a, { asOf, params: { minCycleLength: 5, maxCycleLength: 4 } })).to.throw(/minCycleLength/);
      expect(() => screenBorrower(state, a, { asOf, params: { concentrationShare: 2 } })).to.throw();
    });
  });
});
