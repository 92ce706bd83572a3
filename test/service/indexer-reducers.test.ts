import { expect } from "chai";
import hre from "hardhat";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseEventLogs, type PublicClient } from "viem";
import { abiOf } from "../../node-service/src/chain/contracts";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { createIndexer } from "../../node-service/src/indexer/indexer";
import { consentKey } from "../../node-service/src/indexer/reducers/consentRegistry";
import { parseIndex } from "../../node-service/src/store/index-store";
import {
  DAY,
  admit,
  createDeliveredOrder,
  deployContracts,
  docHash,
  fundAndApprove,
  issueConfirmedReceivable,
  latestTime,
  send,
  signAndSubmitAgreement,
  totalDue,
  type Net,
  type Wallet,
} from "../../scripts/lib/chain-helpers";

describe("indexer reducers", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "indexer-reducers-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function setup() {
    const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
    const [operator, buyer, supplier, lender, factor] = (await hre.viem.getWalletClients()) as unknown as Wallet[];
    const net: Net = { publicClient, deployment: await deployContracts(publicClient, operator) };
    await admit(net, operator, [
      { account: buyer.account.address, roles: ROLE.BUYER, kycAttributes: [docHash("rep:alice")] },
      { account: supplier.account.address, roles: ROLE.SUPPLIER, kycAttributes: [docHash("rep:bob"), docHash("addr:1")] },
      { account: lender.account.address, roles: ROLE.LENDER },
      { account: factor.account.address, roles: ROLE.LENDER | ROLE.AUDITOR },
    ]);
    return { net, operator, buyer, supplier, lender, factor };
  }

  const lc = (w: Wallet) => w.account.address.toLowerCase() as `0x${string}`;

  it("reduces a trade from order to delivered receivable to a loan repaid through the waterfall", async () => {
    const { net, operator, buyer, supplier, lender } = await setup();
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 100_000n, complete: true });
    const receivable = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 100_000n, signedAck: true });
    await fundAndApprove(net, operator, lender, 1_000_000n, "LoanAgreements");
    await fundAndApprove(net, operator, buyer, 1_000_000n, "Receivables");
    const loan = await signAndSubmitAgreement(net, {
      borrower: supplier,
      lender,
      principal: 50_000n,
      collateral: [receivable.receivableId],
    });
    await send(net, lender, "LoanAgreements", "disburse", [loan.loanId]);
    const payment = await send(net, buyer, "Receivables", "pay", [receivable.receivableId, 100_000n]);
    const due = totalDue(50_000n, loan.terms.rateBps, loan.terms.start, loan.terms.maturity);

    const indexer = await createIndexer({ publicClient: net.publicClient, deployment: net.deployment, dataDir });
    await indexer.syncOnce();
    const s = indexer.state();

    const order = s.orders[orderId.toString()];
    expect(order).to.include({ id: "1", buyer: lc(buyer), supplier: lc(supplier), amount: 100_000n, status: "Completed" });
    expect(order.events.map((e) => e.event)).to.deep.equal([
      "OrderCreated",
      "OrderAccepted",
      "OrderShipped",
      "OrderDelivered",
      "OrderCompleted",
    ]);
    expect(order.acceptedAt).to.be.a("number").and.be.at.most(order.shippedAt!);
    expect(order.deliveredAt).to.be.below(order.completedAt!);
    expect(order.shippingDocumentHash).to.equal(docHash(`bill-of-lading:${orderId}`));

    const r = s.receivables[receivable.receivableId.toString()];
    expect(r).to.include({
      orderId: "1",
      issuer: lc(supplier),
      debtor: lc(buyer),
      holder: lc(supplier),
      faceValue: 100_000n,
      paid: 100_000n,
      status: "Paid",
      invoiceHash: receivable.invoiceHash,
      maturity: receivable.maturity,
      pledgedLoanId: loan.loanId.toString(),
    });
    expect(r.acknowledgmentSignature).to.match(/^0x[0-9a-f]{130}$/);
    expect(r.pledges).to.deep.equal([{ loanId: "1", at: s.loans["1"].recordedAt }]);
    expect(r.payments).to.have.length(1);
    expect(r.payments[0]).to.include({ amount: 100_000n, toLoan: due, loanId: "1", holder: lc(supplier) });
    expect(r.paidAt).to.equal(r.payments[0].at);
    expect(r.events.map((e) => e.event)).to.deep.equal([
      "ReceivableIssued",
      "Transfer",
      "ReceivableAcknowledged",
      "ReceivablePledged",
      "ReceivablePaid",
    ]);

    const l = s.loans[loan.loanId.toString()];
    expect(l).to.include({
      digest: loan.digest,
      borrower: lc(supplier),
      lender: lc(lender),
      principal: 50_000n,
      rateBps: 1000,
      totalDue: due,
      repaid: due,
      status: "Repaid",
      documentHash: loan.terms.documentHash,
      nonce: loan.terms.nonce,
      borrowerSignature: loan.borrowerSignature,
      lenderSignature: loan.lenderSignature,
      submitter: lc(lender),
    });
    expect(l.collateral).to.deep.equal([receivable.receivableId.toString()]);
    expect(l.repayments).to.have.length(1);
    expect(l.repayments[0]).to.include({ amount: due, receivableId: receivable.receivableId.toString() });
    expect(l.disbursedAt).to.be.a("number");
    expect(l.closedAt).to.equal(r.paidAt);
    expect(l.events.map((e) => e.event)).to.deep.equal(["AgreementRecorded", "LoanDisbursed", "LoanRepaid", "LoanClosed"]);
    expect(s.loanByDigest[loan.digest]).to.equal("1");

    expect(s.ordersByParty[lc(buyer)]).to.deep.equal(["1"]);
    expect(s.ordersByParty[lc(supplier)]).to.deep.equal(["1"]);
    expect(s.receivablesByParty[lc(supplier)]).to.deep.equal(["1"]);
    expect(s.receivablesByParty[lc(buyer)]).to.deep.equal(["1"]);
    expect(s.loansByParty[lc(lender)]).to.deep.equal(["1"]);
    expect(s.loansByParty[lc(supplier)]).to.deep.equal(["1"]);
    // The waterfall is one transaction: the loan's repayment and closing, then the receivable's payment.
    expect(s.eventsByTx[payment.transactionHash].map((e) => `${e.contract}.${e.event}`)).to.deep.equal([
      "LoanAgreements.LoanRepaid",
      "LoanAgreements.LoanClosed",
      "Receivables.ReceivablePaid",
    ]);
    expect(s.eventsByTx[payment.transactionHash][0]).to.include({
      blockNumber: Number(payment.blockNumber),
      txHash: payment.transactionHash,
    });

    const p = s.participants[lc(supplier)];
    expect(p).to.include({ roles: ROLE.SUPPLIER, suspended: false });
    expect(p.kycAttributes).to.deep.equal([docHash("rep:bob"), docHash("addr:1")]);

    // The store file gives back the same state, amounts as bigint again.
    const stored = parseIndex(await readFile(path.join(dataDir, "index.json"), "utf8"));
    expect(stored.state).to.deep.equal(s);
    expect(stored.checkpoint).to.deep.equal(indexer.checkpoint());
    expect(JSON.parse(await readFile(path.join(dataDir, "index.json"), "utf8")).state.loans["1"].totalDue).to.equal(due.toString());

    // Every log of the indexed contracts was counted once; the settlement token's Transfer events are
    // kept as transfers (all of them touch a participant here), not in eventsByTx.
    const token = net.deployment.contracts.SettlementToken.toLowerCase();
    const logs = await net.publicClient.getLogs({
      address: Object.values(net.deployment.contracts),
      fromBlock: BigInt(net.deployment.startBlock),
    });
    expect(s.eventCount).to.equal(logs.length);
    const ours = logs.filter((l) => l.address.toLowerCase() !== token);
    expect(Object.values(s.eventsByTx).flat()).to.have.length(ours.length);
    const transfers = parseEventLogs({
      abi: abiOf("SettlementToken"),
      logs: logs.filter((l) => l.address.toLowerCase() === token),
      eventName: "Transfer",
    });
    expect(transfers.length).to.be.greaterThan(2);
    expect(Object.values(s.transfers).map((t) => [t.ref.txHash, t.ref.logIndex, t.amount])).to.deep.equal(
      transfers.map((l) => [l.transactionHash, l.logIndex, (l.args as { value: bigint }).value]),
    );
    for (const t of Object.values(s.transfers)) {
      for (const party of [t.from, t.to]) if (s.participants[party]) expect(s.transfersByParty[party]).to.include(t.id);
    }
  });

  it("tracks holders through transfers and splits, keeps collateral pledged through a default, and applies later payments to the loan first", async () => {
    const { net, operator, buyer, supplier, lender, factor } = await setup();
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 90_000n });
    const rA = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 60_000n, invoiceNumber: "A" });
    const rB = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 30_000n, invoiceNumber: "B" });
    // Factoring: B goes to the factor, who splits it in two, keeping one part and passing one to the supplier.
    await send(net, supplier, "Receivables", "transferFrom", [supplier.account.address, factor.account.address, rB.receivableId]);
    const split = await send(net, factor, "Receivables", "split", [
      rB.receivableId,
      [10_000n, 20_000n],
      [factor.account.address, supplier.account.address],
    ]);
    // A is pledged to a loan that defaults: it stays with the supplier, and the buyer's payment repays the loan first.
    await fundAndApprove(net, operator, lender, 1_000_000n, "LoanAgreements");
    await fundAndApprove(net, operator, buyer, 1_000_000n, "Receivables");
    const now = await latestTime(net);
    const loan = await signAndSubmitAgreement(net, {
      borrower: supplier,
      lender,
      principal: 40_000n,
      collateral: [rA.receivableId],
      maturity: now + 10 * DAY,
    });
    await send(net, lender, "LoanAgreements", "disburse", [loan.loanId]);
    await hre.network.provider.request({ method: "evm_increaseTime", params: [10 * DAY + Number(net.deployment.gracePeriod) + 1] });
    await send(net, lender, "LoanAgreements", "declareDefault", [loan.loanId]);
    await send(net, buyer, "Receivables", "pay", [rA.receivableId, 60_000n]);
    await send(net, supplier, "ConsentRegistry", "grant", [lender.account.address, SCOPE.metrics, now + 100 * DAY, docHash("app-1")]);
    await send(net, supplier, "ConsentRegistry", "revoke", [lender.account.address]);
    await send(net, supplier, "ConsentRegistry", "grant", [lender.account.address, SCOPE.orderHistory, now + 200 * DAY, docHash("app-2")]);
    await send(net, supplier, "EvidenceNotary", "anchor", [docHash("contract.pdf"), 2, docHash("loan-1")]);
    await send(net, buyer, "EvidenceNotary", "anchor", [docHash("contract.pdf"), 2, docHash("again")]);
    await send(net, operator, "ParticipantRegistry", "suspend", [factor.account.address, 9]);

    const indexer = await createIndexer({ publicClient: net.publicClient, deployment: net.deployment, dataDir });
    await indexer.syncOnce();
    const s = indexer.state();

    const parent = s.receivables[rB.receivableId.toString()];
    expect(parent).to.include({ status: "Split", holder: lc(factor) });
    expect(parent.holders).to.deep.equal([lc(supplier), lc(factor)]);
    const [c1, c2] = parent.childIds!;
    expect(s.receivables[c1]).to.include({
      parentId: parent.id,
      holder: lc(factor),
      faceValue: 10_000n,
      status: "Confirmed",
      debtor: lc(buyer),
      issuer: lc(supplier),
      invoiceHash: rB.invoiceHash,
      maturity: rB.maturity,
    });
    expect(s.receivables[c2]).to.include({ parentId: parent.id, holder: lc(supplier), faceValue: 20_000n });
    expect(s.receivables[c1].issuedAt).to.equal(Number((await net.publicClient.getBlock({ blockNumber: split.blockNumber })).timestamp));
    expect(s.receivablesByParty[lc(factor)]).to.deep.equal([parent.id, c1]);
    expect(s.receivablesByParty[lc(supplier)]).to.deep.equal([rA.receivableId.toString(), parent.id, c1, c2]);

    const a = s.receivables[rA.receivableId.toString()];
    const l = s.loans[loan.loanId.toString()];
    expect(a).to.include({ holder: lc(supplier), status: "Paid", paid: 60_000n });
    expect(a.pledgedLoanId).to.equal(loan.loanId.toString());
    expect(a.pledges).to.deep.equal([{ loanId: loan.loanId.toString(), at: l.recordedAt }]);
    // The lender takes exactly what is owed; the surplus goes to the supplier as holder.
    expect(a.payments[0]).to.include({ amount: 60_000n, toLoan: l.totalDue, holder: lc(supplier), loanId: loan.loanId.toString() });
    expect(s.receivablesByParty[lc(lender)]).to.equal(undefined);
    expect(l).to.include({ status: "Recovered", repaid: l.totalDue, currency: net.deployment.contracts.SettlementToken.toLowerCase() });
    expect(l.defaultedAt).to.be.a("number");
    expect(l.closedAt).to.be.a("number");
    expect(l.repayments).to.have.length(1);
    expect(l.repayments[0]).to.include({ amount: l.totalDue, receivableId: a.id });

    const consent = s.consents[consentKey(supplier.account.address, lender.account.address)];
    expect(consent).to.include({ scopes: SCOPE.orderHistory, purpose: docHash("app-2") });
    expect(consent.revokedAt).to.equal(undefined);
    expect(consent.history).to.have.length(1);
    expect(consent.history[0]).to.include({ scopes: SCOPE.metrics, purpose: docHash("app-1") });
    expect(consent.history[0].revokedAt).to.be.a("number");
    expect(consent.events.map((e) => e.event)).to.deep.equal(["ConsentGranted", "ConsentRevoked", "ConsentGranted"]);

    const anchor = s.anchors[docHash("contract.pdf")];
    expect(anchor).to.include({ anchorer: lc(supplier), kind: 2, ref: docHash("loan-1") });
    expect(anchor.repeats.map((x) => x.by)).to.deep.equal([lc(buyer)]);

    expect(s.participants[lc(factor)]).to.include({ suspended: true, suspensionReason: 9, roles: ROLE.LENDER | ROLE.AUDITOR });
    expect(s.participants[lc(factor)].events!.map((e) => e.event)).to.deep.equal(["ParticipantAdmitted", "ParticipantSuspended"]);

    // What an original invoice and its split tree paid by its maturity is kept on the invoice (a debtor's
    // overdue count reads it): A's payment (before its maturity) on A; on B, its first part's payment
    // before B's maturity, not its second part's after it; nothing on a part itself.
    expect(a.paidByMaturity).to.equal(60_000n);
    expect(parent.paidByMaturity).to.equal(undefined);
    await send(net, buyer, "Receivables", "pay", [BigInt(c1), 4_000n]);
    await send(net, buyer, "Receivables", "pay", [BigInt(c1), 1_000n]);
    await hre.network.provider.request({ method: "evm_increaseTime", params: [rB.maturity - (await latestTime(net)) + 1] });
    await send(net, buyer, "Receivables", "pay", [BigInt(c2), 5_000n]);
    await indexer.syncOnce();
    const later = indexer.state();
    expect(later.receivables[parent.id].paidByMaturity).to.equal(5_000n);
    expect(later.receivables[c2].paid).to.equal(5_000n);
    for (const c of [c1, c2]) expect(later.receivables[c].paidByMaturity).to.equal(undefined);
  });
});
