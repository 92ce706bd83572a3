/**
 * Underwriting end to end on a real chain: a year of trade built with the real contracts, read by the
 * real indexer, metrics and screening, collected into a snapshot and decided under policy v1.
 */
import { expect } from "chai";
import hre from "hardhat";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { PublicClient } from "viem";
import { ROLE } from "../../node-service/src/chain/eip712";
import type { Address, IndexState } from "../../node-service/src/domain/entities";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { decide, decisionInputFromJson, decisionInputToJson, snapshotHash } from "../../node-service/src/underwriting/decide";
import { collectDecisionInput, pledgeableReceivables } from "../../node-service/src/underwriting/input";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import {
  DAY,
  admit,
  createDeliveredOrder,
  createOrder,
  deployContracts,
  fundAndApprove,
  issueConfirmedReceivable,
  send,
  signAndSubmitAgreement,
  type Net,
  type Wallet,
} from "../../scripts/lib/chain-helpers";
import { kycAttributeHash, type AttributeKind } from "../../node-service/src/domain/kyc-attributes";

/** Keyed KYC attribute hashes as the operator registers them (a test key). */
const kyc = (kind: AttributeKind, value: string) => kycAttributeHash(Buffer.alloc(32, 3), kind, value);

const FACE = 1_000_000n; // 10,000.00
const policy = CURRENT_POLICY;

/**
 * Supplier S sells to three buyers every 45 days for ten rounds: delivered on time, completed,
 * invoiced, acknowledged and paid 20 days after issue; the last round's three receivables are
 * confirmed and still unpaid (the collateral).
 */
async function tradingYear() {
  const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
  const wallets = (await hre.viem.getWalletClients()) as unknown as Wallet[];
  const [operator, supplier, b1, b2, b3, lender, x, related] = wallets;
  const net: Net = { publicClient, deployment: await deployContracts(publicClient, operator) };
  const trader = ROLE.SUPPLIER | ROLE.BUYER;
  await admit(net, operator, [
    {
      account: supplier.account.address,
      roles: trader,
      kycAttributes: [kyc("legal_representative", "Chen Jie"), kyc("registered_address", "1 Mill Lane")],
    },
    ...[b1, b2, b3, x].map((w, i) => ({
      account: w.account.address,
      roles: trader,
      kycAttributes: [kyc("legal_representative", `buyer ${i}`)],
    })),
    { account: lender.account.address, roles: ROLE.LENDER },
    // Shares the supplier's legal representative.
    { account: related.account.address, roles: trader, kycAttributes: [kyc("legal_representative", "CHEN Jie")] },
  ]);
  for (const b of [b1, b2, b3, related]) await fundAndApprove(net, operator, b, 10n ** 12n, "Receivables");
  await fundAndApprove(net, operator, lender, 10n ** 12n, "LoanAgreements");

  const collateral: string[] = [];
  for (let round = 0; round < 10; round++) {
    const invoices = [];
    for (const buyer of [b1, b2, b3]) {
      const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: FACE, complete: true });
      invoices.push({ buyer, r: await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: FACE }) });
    }
    if (round === 9) {
      collateral.push(...invoices.map((i) => i.r.receivableId.toString()));
      break;
    }
    await time.increase(20 * DAY);
    for (const { buyer, r } of invoices) await send(net, buyer, "Receivables", "pay", [r.receivableId, FACE]);
    await time.increase(25 * DAY);
  }
  return { net, operator, supplier, b1, b2, b3, lender, x, related, collateral };
}

async function index(net: Net): Promise<{ state: IndexState; asOf: number }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "scf-uw-"));
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

const lower = (w: Wallet) => w.account.address.toLowerCase() as Address;

describe("underwriting on a chain-built trade history (policy v1)", () => {
  it("approves a supplier with a clean year of on-time, paid trade, up to 80% of its tier-B buyers' receivables", async () => {
    const f = await loadFixture(tradingYear);
    const { state, asOf } = await index(f.net);
    expect(pledgeableReceivables(state, lower(f.supplier), asOf).map((r) => r.id)).to.deep.equal(f.collateral);

    const input = collectDecisionInput(
      state,
      { borrower: lower(f.supplier), lender: lower(f.lender), amount: 2_000_000n, termDays: 60, receivableIds: f.collateral },
      { asOf },
    );
    // Only a note that a participant it never traded with shares its legal representative.
    expect(input.flags.map((fl) => [fl.code, fl.severity])).to.deep.equal([["related_party", "info"]]);
    const d = decide(input, policy);
    expect(d.outcome).to.equal("approve");
    expect(d.score).to.be.at.least(policy.thresholds.approveMin);
    expect(d.reasons.find((r) => r.code === "on_time_delivery")).to.include({ value: 1, points: 20 });
    expect(d.reasons.find((r) => r.code === "overdue_rate")).to.include({ value: 0, points: 15 });
    // Each buyer paid everything on time but bought fewer than 12 times in 365 days: tier B, 80%.
    expect(d.collateral.map((c) => c.tier)).to.deep.equal(["B", "B", "B"]);
    expect(d.limit).to.equal((3n * FACE * 8000n) / 10_000n);
    expect(d.rateBps).to.equal(policy.pricing.bands.find((b) => d.score >= b.minScore)!.rateBps);
  });

  it("declines an amount above what the pledged receivables allow, saying the maximum", async () => {
    const f = await loadFixture(tradingYear);
    const { state, asOf } = await index(f.net);
    const input = collectDecisionInput(
      state,
      { borrower: lower(f.supplier), lender: lower(f.lender), amount: 2_400_001n, termDays: 60, receivableIds: f.collateral },
      { asOf },
    );
    const d = decide(input, policy);
    expect(d.outcome).to.equal("decline");
    expect(d.reasons.find((r) => r.code === "amount_above_limit")!.message).to.contain(
      "the maximum is CNY 24,000.00 (2400000 minor units)",
    );
  });

  it("declines the same supplier once its orders run in a cycle (S buys from X, X from B1, B1 from S)", async () => {
    const f = await loadFixture(tradingYear);
    // Legs the size of what B1 buys from S in the window: a ring that carries value (the screen weighs cycles by value).
    await createOrder(f.net, { buyer: f.supplier, supplier: f.x.account.address, amount: 4n * FACE });
    await createOrder(f.net, { buyer: f.x, supplier: f.b1.account.address, amount: 4n * FACE });
    const { state, asOf } = await index(f.net);
    const input = collectDecisionInput(
      state,
      { borrower: lower(f.supplier), lender: lower(f.lender), amount: 2_000_000n, termDays: 60, receivableIds: f.collateral },
      { asOf },
    );
    expect(input.flags.map((fl) => fl.code)).to.deep.equal(["circular_trading", "related_party"]);
    const d = decide(input, policy);
    expect(d.outcome).to.equal("decline");
    expect(d.reasons.find((r) => r.code === "circular_trading")).to.include({ value: 1, effect: "decline" });
  });

  it("refers a receivable acknowledged by a buyer that shares the supplier's legal representative", async () => {
    const f = await loadFixture(tradingYear);
    const orderId = await createDeliveredOrder(f.net, { buyer: f.related, supplier: f.supplier, amount: FACE, complete: true });
    const r = await issueConfirmedReceivable(f.net, { supplier: f.supplier, buyer: f.related, orderId, faceValue: FACE });
    const { state, asOf } = await index(f.net);
    const ids = [...f.collateral, r.receivableId.toString()];
    const input = collectDecisionInput(
      state,
      { borrower: lower(f.supplier), lender: lower(f.lender), amount: 2_000_000n, termDays: 60, receivableIds: ids },
      { asOf },
    );
    expect(input.flags.map((fl) => [fl.code, fl.severity])).to.deep.equal([
      ["related_party", "warn"],
      ["related_party_acknowledgment", "warn"],
    ]);
    const d = decide(input, policy);
    expect(d.outcome).to.equal("refer");
    expect(d.reasons.find((x) => x.code === "related_party_acknowledgment")).to.include({ effect: "refer" });
    expect(d.reasons.find((x) => x.code === "related_party_flag")).to.include({ points: -5 });
  });

  it("declines a supplier whose loan went into default within 365 days", async () => {
    const f = await loadFixture(tradingYear);
    const [pledged, ...rest] = f.collateral;
    const { loanId } = await signAndSubmitAgreement(f.net, {
      borrower: f.supplier,
      lender: f.lender,
      principal: 500_000n,
      collateral: [BigInt(pledged)],
    });
    await send(f.net, f.lender, "LoanAgreements", "disburse", [loanId]);
    await time.increase(30 * DAY + f.net.deployment.gracePeriod + DAY);
    await send(f.net, f.lender, "LoanAgreements", "declareDefault", [loanId]);
    const { state, asOf } = await index(f.net);
    expect(state.loans[loanId.toString()].status).to.equal("Defaulted");
    const input = collectDecisionInput(
      state,
      { borrower: lower(f.supplier), lender: lower(f.lender), amount: 1_000_000n, termDays: 30, receivableIds: rest },
      { asOf },
    );
    const d = decide(input, policy);
    expect(d.outcome).to.equal("decline");
    expect(d.reasons.find((r) => r.code === "default_365d")).to.include({ metric: "defaults", value: 1, effect: "decline" });
  });

  it("leaves out a receivable already pledged to a live loan, and declines pledging it again", async () => {
    const f = await loadFixture(tradingYear);
    await signAndSubmitAgreement(f.net, {
      borrower: f.supplier,
      lender: f.lender,
      principal: 500_000n,
      collateral: [BigInt(f.collateral[0])],
    });
    const { state, asOf } = await index(f.net);
    expect(pledgeableReceivables(state, lower(f.supplier), asOf).map((r) => r.id)).to.deep.equal(f.collateral.slice(1));
    const input = collectDecisionInput(
      state,
      { borrower: lower(f.supplier), lender: lower(f.lender), amount: 1_000_000n, termDays: 60, receivableIds: f.collateral },
      { asOf },
    );
    expect(input.collateral.map((c) => c.id)).to.deep.equal(f.collateral.slice(1));
    const d = decide(input, policy);
    expect(d.outcome).to.equal("decline");
    expect(d.reasons.find((r) => r.code === "collateral_unavailable")).to.include({ value: f.collateral[0] });
  });

  it("re-runs a stored decision identically after the chain has moved on", async () => {
    const f = await loadFixture(tradingYear);
    const first = await index(f.net);
    const application = {
      borrower: lower(f.supplier),
      lender: lower(f.lender),
      amount: 2_000_000n,
      termDays: 60,
      receivableIds: f.collateral,
    };
    const input = collectDecisionInput(first.state, application, { asOf: first.asOf });
    const decision = decide(input, policy);
    const stored = JSON.stringify(decisionInputToJson(input));

    // The world changes: a buyer pays one of the pledged receivables in part, new orders arrive.
    await send(f.net, f.b1, "Receivables", "pay", [BigInt(f.collateral[0]), FACE / 2n]);
    await time.increase(3 * DAY);
    for (let i = 0; i < 3; i++) await createOrder(f.net, { buyer: f.x, supplier: f.supplier.account.address, amount: FACE });
    const later = await index(f.net);

    const rerun = decide(decisionInputFromJson(stored), policy);
    expect(rerun).to.deep.equal(decision);
    const fresh = collectDecisionInput(later.state, application, { asOf: later.asOf });
    expect(snapshotHash(fresh)).to.not.equal(decision.inputHash);
    expect(decide(fresh, policy).limit).to.equal(decision.limit - ((FACE / 2n) * 8000n) / 10_000n);
  });
});
