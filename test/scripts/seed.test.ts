/**
 * The demo seed against the in-process Hardhat network: the population it promises, read back from
 * the chain's events and state, and its determinism.
 */
import hre from "hardhat";
import { expect } from "chai";
import { createHash } from "node:crypto";
import type { Abi, Address, PublicClient } from "viem";
import { abiOf, type ContractName, type Deployment } from "../../node-service/src/chain/contracts";
import { ROLE } from "../../node-service/src/chain/eip712";
import { deployAll } from "../../scripts/lib/deploy";
import { seedDemo, type SeedDemoOptions, type SeedResult } from "../../scripts/seed";
import { publicClientFor, walletClientFor } from "../../scripts/lib/clients";
import { createProvider } from "hardhat/internal/core/providers/construction";
import { DAY } from "../../node-service/src/domain/time";

/** A Hardhat network of its own (not hre.network.provider), so other test files' fixtures are untouched. */
async function clients(): Promise<{ publicClient: PublicClient; walletClients: SeedDemoOptions["walletClients"] }> {
  const provider = await createProvider(hre.config, "hardhat", hre.artifacts);
  const publicClient = await publicClientFor(provider);
  const addresses = (await provider.request({ method: "eth_accounts" })) as Address[];
  return { publicClient, walletClients: addresses.map((a) => walletClientFor(publicClient, provider, a)) };
}

describe("demo seed", function () {
  this.timeout(300_000);
  let publicClient: PublicClient;
  let deployment: Deployment;
  let result: SeedResult;
  const steps: string[] = [];

  type Ev = { [arg: string]: unknown; blockNumber: bigint };

  async function events(contract: ContractName, eventName: string): Promise<Ev[]> {
    const logs = await publicClient.getContractEvents({
      address: deployment.contracts[contract],
      abi: abiOf(contract) as Abi,
      eventName,
      fromBlock: 0n,
    });
    return logs.map((l) => ({ ...(l as unknown as { args: Record<string, unknown> }).args, blockNumber: l.blockNumber }));
  }

  function read(contract: ContractName, functionName: string, args: unknown[]) {
    return publicClient.readContract({ address: deployment.contracts[contract], abi: abiOf(contract), functionName, args });
  }

  before(async () => {
    const c = await clients();
    publicClient = c.publicClient;
    deployment = await deployAll({ publicClient, walletClient: c.walletClients[0] });
    result = await seedDemo({ ...c, deployment, seed: 1, onProgress: (p) => steps.push(`[${p.step}/${p.total}] ${p.label}`) });
  });

  it("reports counted progress steps and the seed's size", () => {
    expect(steps[0]).to.match(/^\[1\/15\] admitted 20 participants/);
    expect(steps[steps.length - 1]).to.match(/^\[15\/15\] /);
    expect(result.stats.participants).to.equal(20);
    expect(result.stats.orders).to.be.greaterThan(200);
    expect(result.stats.blocks).to.be.greaterThan(300);
  });

  it("admits three buyers, twelve suppliers, three lenders, an auditor and the service operator (as auditor), each with KYC hashes and a display name hash", async () => {
    const admitted = await events("ParticipantRegistry", "ParticipantAdmitted");
    const withRole = (bit: number) => admitted.filter((e) => (Number(e.roles) & bit) !== 0);
    expect(admitted).to.have.length(20);
    expect(withRole(ROLE.SUPPLIER)).to.have.length(12);
    expect(withRole(ROLE.BUYER).filter((e) => (Number(e.roles) & ROLE.SUPPLIER) === 0)).to.have.length(3);
    expect(withRole(ROLE.LENDER)).to.have.length(3);
    expect(withRole(ROLE.AUDITOR)).to.have.length(2);
    for (const e of admitted) {
      expect(e.kycDossierHash).to.not.equal(`0x${"00".repeat(32)}`);
      expect(e.kycAttributes).to.have.length.greaterThan(0);
      const entry = result.demoAccounts.accounts.find((a) => a.address.toLowerCase() === String(e.account).toLowerCase())!;
      // Keyed (HMAC) hashes: the name's plain sha256, which a dictionary reverses, is not on chain.
      expect(e.displayNameHash).to.equal(entry.displayNameHash);
      expect(e.displayNameHash).to.not.equal(`0x${createHash("sha256").update(entry.name).digest("hex")}`);
      expect(await read("ParticipantRegistry", "isActiveAs", [e.account, entry.roleBits])).to.equal(true);
    }
    expect(result.demoAccounts.accounts.filter((a) => a.persona === "operator")).to.have.length(1);
  });

  it("makes a ring of three suppliers that also buy, trade in a circle and share a legal representative", async () => {
    const [a, b, c] = result.ring.map((x) => x.toLowerCase());
    const admitted = await events("ParticipantRegistry", "ParticipantAdmitted");
    const attrs = (x: string) => admitted.find((e) => String(e.account).toLowerCase() === x)!.kycAttributes as string[];
    for (const x of [a, b, c])
      expect(Number(admitted.find((e) => String(e.account).toLowerCase() === x)!.roles)).to.equal(ROLE.SUPPLIER | ROLE.BUYER);
    expect(attrs(a)[0]).to.equal(attrs(b)[0]).and.to.equal(attrs(c)[0]);
    const others = admitted.filter((e) => ![a, b, c].includes(String(e.account).toLowerCase()));
    for (const e of others) expect((e.kycAttributes as string[])[0]).to.not.equal(attrs(a)[0]);
    const orders = await events("TradeOrders", "OrderCreated");
    const count = (buyer: string, supplier: string) =>
      orders.filter((o) => String(o.buyer).toLowerCase() === buyer && String(o.supplier).toLowerCase() === supplier).length;
    expect(count(a, b)).to.be.greaterThan(2);
    expect(count(b, c)).to.be.greaterThan(2);
    expect(count(c, a)).to.be.greaterThan(2);
  });

  it("spreads a year of trade: deliveries on time and late, payments early, on time, late and partial, disputes and cancellations", async () => {
    const admitted = await events("ParticipantRegistry", "ParticipantAdmitted");
    const paid = await events("Receivables", "ReceivablePaid");
    const span = Math.max(...paid.map((p) => Number(p.at))) - Number(admitted[0].admittedAt);
    expect(span).to.be.greaterThan(300 * DAY);

    const created = new Map((await events("TradeOrders", "OrderCreated")).map((o) => [o.orderId, Number(o.deliveryDue)]));
    const delivered = await events("TradeOrders", "OrderDelivered");
    expect(delivered.filter((d) => Number(d.at) <= created.get(d.orderId)!)).to.have.length.greaterThan(50);
    expect(delivered.filter((d) => Number(d.at) > created.get(d.orderId)!)).to.have.length.greaterThan(5);

    const issued = new Map((await events("Receivables", "ReceivableIssued")).map((r) => [r.receivableId, r]));
    const maturity = (id: unknown) => Number(issued.get(id)!.maturity);
    expect(paid.filter((p) => Number(p.at) < maturity(p.receivableId) - DAY)).to.have.length.greaterThan(5);
    expect(paid.filter((p) => Math.abs(Number(p.at) - maturity(p.receivableId)) < DAY)).to.have.length.greaterThan(5);
    expect(paid.filter((p) => Number(p.at) > maturity(p.receivableId) + DAY)).to.have.length.greaterThan(5);
    expect(paid.filter((p) => p.fullyPaid === false)).to.have.length.greaterThan(0);

    const acks = await events("Receivables", "ReceivableAcknowledged");
    expect(acks.filter((a) => a.signature !== "0x")).to.have.length.greaterThan(5);
    expect(acks.filter((a) => a.signature === "0x")).to.have.length.greaterThan(5);
    expect(await events("Receivables", "ReceivableCancelled")).to.have.length.greaterThan(0);
    expect(await events("TradeOrders", "OrderDisputed")).to.have.length.greaterThan(1);
    expect(await events("TradeOrders", "OrderDisputeResolved")).to.have.length.greaterThan(1);
    expect(await events("TradeOrders", "OrderCancelled")).to.have.length.greaterThan(2);
  });

  it("gives each order its own purchase-order and bill-of-lading document hash", async () => {
    const created = await events("TradeOrders", "OrderCreated");
    const shipped = await events("TradeOrders", "OrderShipped");
    expect(created.length).to.be.greaterThan(100);
    expect(new Set(created.map((o) => o.documentHash)).size).to.equal(created.length);
    expect(new Set(shipped.map((o) => o.shippingDocumentHash)).size).to.equal(shipped.length);
  });

  it("leaves every supplier holding confirmed, unpaid, unpledged receivables that mature after the history ends", async () => {
    const latest = await publicClient.getBlock({ blockTag: "latest" });
    const suppliers = result.demoAccounts.accounts.filter((a) => a.roles.includes("SUPPLIER"));
    expect(suppliers).to.have.length(12);
    const issued = await events("Receivables", "ReceivableIssued");
    for (const s of suppliers) {
      let available = 0;
      for (const r of issued.filter((e) => String(e.supplier).toLowerCase() === s.address.toLowerCase())) {
        const rec = (await read("Receivables", "getReceivable", [r.receivableId])) as { status: number; paid: bigint; maturity: number };
        if (rec.status !== 2 || rec.paid !== 0n || BigInt(rec.maturity) <= latest.timestamp) continue;
        if (await read("Receivables", "isPledged", [r.receivableId])) continue;
        const owner = (await read("Receivables", "ownerOf", [r.receivableId])) as Address;
        if (owner.toLowerCase() === s.address.toLowerCase()) available++;
      }
      expect(available, `${s.name} has no receivable to pledge`).to.be.greaterThan(0);
    }
  });

  it("has historical loans repaid through the receivable waterfall and directly, and one withdrawn", async () => {
    const closed = await events("LoanAgreements", "LoanClosed");
    expect(closed.filter((c) => Number(c.status) === 3)).to.have.length.greaterThan(1);
    const repaid = await events("LoanAgreements", "LoanRepaid");
    expect(repaid.filter((r) => r.receivableId !== 0n)).to.have.length.greaterThan(0);
    expect(repaid.filter((r) => r.receivableId === 0n)).to.have.length.greaterThan(0);
    expect(await events("LoanAgreements", "LoanCancelled")).to.have.length(1);
    expect(await events("LoanAgreements", "LoanDisbursed")).to.have.length.greaterThan(1);
  });

  it("has loans of every outcome a lender learns from: late, defaulted, recovered after default, past due and live at the end", async () => {
    const count = (await read("LoanAgreements", "loanCount", [])) as bigint;
    const loans: { status: number; maturity: number; totalDue: bigint; repaid: bigint }[] = [];
    for (let id = 1n; id <= count; id++) loans.push((await read("LoanAgreements", "getLoan", [id])) as (typeof loans)[number]);
    const latest = Number((await publicClient.getBlock({ blockTag: "latest" })).timestamp);
    const STATUS = { Active: 2, Repaid: 3, Defaulted: 4, Recovered: 5 };
    // Declared in default and never collected: its collateral's debtor never paid.
    expect(loans.filter((l) => l.status === STATUS.Defaulted && l.repaid === 0n)).to.have.length(1);
    // Declared in default, then repaid in full from the pledged receivable's late payment.
    const defaulted = await events("LoanAgreements", "LoanDefaulted");
    expect(defaulted).to.have.length(2);
    expect(loans.filter((l) => l.status === STATUS.Recovered)).to.have.length(1);
    const recoveredId = (await events("LoanAgreements", "LoanClosed")).find((c) => Number(c.status) === STATUS.Recovered)!.loanId;
    const repaid = await events("LoanAgreements", "LoanRepaid");
    const recovery = repaid.filter((r) => r.loanId === recoveredId);
    expect(recovery.length).to.be.greaterThan(0);
    const defaultBlock = defaulted.find((d) => d.loanId === recoveredId)!.blockNumber;
    for (const r of recovery) expect(r.blockNumber > defaultBlock, "collected after the default").to.equal(true);
    // Repaid after maturity (the late one) and live at the end: one past maturity, others maturing later.
    const closedAt = new Map((await events("LoanAgreements", "LoanClosed")).map((c) => [c.loanId, Number(c.at)]));
    expect(loans.some((l, i) => l.status === STATUS.Repaid && closedAt.get(BigInt(i + 1))! > Number(l.maturity))).to.equal(true);
    const active = loans.filter((l) => l.status === STATUS.Active);
    expect(active.filter((l) => Number(l.maturity) < latest)).to.have.length(1);
    expect(active.filter((l) => Number(l.maturity) > latest)).to.have.length.greaterThan(1);
  });

  it("gives the excellent supplier only on-time deliveries and payments, and the mediocre one late deliveries", async () => {
    const created = await events("TradeOrders", "OrderCreated");
    const due = new Map(created.map((o) => [o.orderId, Number(o.deliveryDue)]));
    const supplierOf = new Map(created.map((o) => [o.orderId, String(o.supplier).toLowerCase()]));
    const delivered = await events("TradeOrders", "OrderDelivered");
    const lateFor = (s: Address) =>
      delivered.filter((d) => supplierOf.get(d.orderId) === s.toLowerCase() && Number(d.at) > due.get(d.orderId)!);
    const deliveredFor = (s: Address) => delivered.filter((d) => supplierOf.get(d.orderId) === s.toLowerCase());
    expect(deliveredFor(result.autoApprove)).to.have.length.greaterThan(20);
    expect(lateFor(result.autoApprove)).to.have.length(0);
    expect(lateFor(result.review)).to.have.length.greaterThan(0);

    const issued = new Map((await events("Receivables", "ReceivableIssued")).map((r) => [r.receivableId, r]));
    const paidToExcellent = (await events("Receivables", "ReceivablePaid")).filter(
      (p) => String(issued.get(p.receivableId)!.supplier).toLowerCase() === result.autoApprove.toLowerCase(),
    );
    expect(paidToExcellent).to.have.length.greaterThan(10);
    for (const p of paidToExcellent) expect(Number(p.at)).to.be.at.most(Number(issued.get(p.receivableId)!.maturity));
  });
});

describe("demo seed determinism", function () {
  this.timeout(300_000);

  async function seededDigest(seed: number, endAt: number): Promise<string> {
    const { publicClient, walletClients } = await clients();
    const deployment = await deployAll({ publicClient, walletClient: walletClients[0] });
    // The operator's KYC key is an input like the seed (by default each run draws a fresh one).
    await seedDemo({ publicClient, walletClients, deployment, seed, endAt, kycKey: Buffer.alloc(32, 0x5e) });
    const logs = await publicClient.getLogs({ fromBlock: 0n, toBlock: "latest" });
    const hash = createHash("sha256");
    for (const l of logs) hash.update(`${l.address}|${l.topics.join(",")}|${l.data}|${l.blockNumber}|${l.logIndex}\n`);
    return hash.digest("hex");
  }

  it("gives the same events for the same seed, KYC key and end time, and a different network for another seed", async () => {
    const endAt = Math.floor(Date.now() / 1000) + 400 * DAY;
    const first = await seededDigest(42, endAt);
    expect(await seededDigest(42, endAt)).to.equal(first);
    expect(await seededDigest(43, endAt)).to.not.equal(first);
  });
});
