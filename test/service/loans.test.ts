/**
 * The borrower's loan after signing, the price before applying and the consents, over a real Hardhat
 * network, the real indexer and the real express server on port 0: what each party is served, and
 * every refusal (no session, another party, bad input, an empty selection).
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Address } from "viem";
import type { RunningService } from "../../node-service/src/server";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { call, DAY, deployNetwork, waitIndexed, type Network, startOnNetwork, stopOnNetwork, type ServiceOnNetwork } from "./api-helpers";

describe("the borrower's loans, quotes and consents (real chain, real server)", function () {
  this.timeout(180_000);
  let net: Network;
  let running: ServiceOnNetwork<"supplier" | "buyer" | "lender" | "lender2" | "outsider">;
  let service: RunningService;
  let base: string;
  let tokens: Record<"supplier" | "buyer" | "lender" | "lender2" | "outsider", string>;
  let supplier: Address;
  let loan: Awaited<ReturnType<Network["loanOnce"]>>;
  let free: bigint[];

  const get = (url: string, token?: string) => call(base, "GET", url, { token });
  const indexed = () => waitIndexed(service, net.publicClient);

  before(async function () {
    net = await deployNetwork();
    supplier = net.supplier.account.address.toLowerCase() as Address;
    const pledged = await net.tradeOnce(1_000_000n);
    free = [(await net.tradeOnce(400_000n)).receivableId, (await net.tradeOnce(600_000n)).receivableId];
    loan = await net.loanOnce(pledged.receivableId, { principal: 500_000n, repay: 100_000n, receivablePayment: 200_000n });
    ({ service, tokens } = running = await startOnNetwork(net, ["supplier", "buyer", "lender", "lender2", "outsider"]));
    base = service.url;
  });

  after(async function () {
    await stopOnNetwork(running);
  });

  it("serves the borrower its loan: balance, due date, schedule, and the history of its repayment and the debtor's collection", async function () {
    const res = await get("/api/loans", tokens.supplier);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.loans).to.have.length(1);
    const l = res.body.loans[0];
    const chain = await net.read<{ totalDue: bigint; repaid: bigint; maturity: number }>("LoanAgreements", "getLoan", [loan.loanId]);
    expect(l).to.include({ id: loan.loanId.toString(), borrower: supplier, status: "Active", standing: "Active", principal: "500000" });
    expect(l.totalDue).to.equal(chain.totalDue.toString());
    expect(l.repaid).to.equal(chain.repaid.toString()).and.to.equal("300000");
    expect(BigInt(l.interest))
      .to.equal(chain.totalDue - 500_000n)
      .and.to.be.greaterThan(0n);
    expect(l.outstanding).to.equal((chain.totalDue - chain.repaid).toString());
    expect(l.maturity).to.equal(Number(chain.maturity));
    expect(l.schedule).to.deep.equal([
      { due: l.maturity, amount: l.totalDue, paid: "300000", outstanding: l.outstanding, status: "not_due" },
    ]);
    expect(l.history.map((h: { kind: string; amount: string }) => [h.kind, h.amount])).to.deep.equal([
      ["disbursement", "500000"],
      ["repayment", "100000"],
      ["collection", "200000"],
    ]);
    const collection = l.history[2];
    expect(collection.debtor).to.equal(net.buyer.account.address.toLowerCase());
    expect(collection.receivableId).to.equal(loan.terms.collateral[0].toString());
    expect(collection.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(l.collateral[0]).to.include({ receivableId: loan.terms.collateral[0].toString(), paid: "200000" });

    // The lender sees the same loan under role=lender, and not as a borrower.
    expect((await get("/api/loans?role=lender", tokens.lender)).body.loans.map((x: { id: string }) => x.id)).to.deep.equal([l.id]);
    expect((await get("/api/loans", tokens.lender)).body.loans).to.deep.equal([]);
    expect((await get(`/api/loans/${l.id}`, tokens.lender)).body.totalDue).to.equal(l.totalDue);
  });

  it("hides a loan from anyone but its parties and names the bad field", async function () {
    const id = loan.loanId.toString();
    expect((await get(`/api/loans/${id}`)).status).to.equal(401);
    expect((await get(`/api/loans`)).status).to.equal(401);
    for (const who of ["buyer", "lender2", "outsider"] as const) {
      const res = await get(`/api/loans/${id}`, tokens[who]);
      expect(res.status, who).to.equal(404);
      expect((await get("/api/loans?role=lender", tokens[who])).body.loans, who).to.deep.equal([]);
    }
    const bad = await get("/api/loans/0x12", tokens.supplier);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal("id");
    expect((await get("/api/loans?role=debtor", tokens.supplier)).body.error.field).to.equal("role");
    expect((await get("/api/loans/999", tokens.supplier)).status).to.equal(404);
  });

  it("quotes the price before applying from the policy, with the total due by the contract's formula; the limit follows the selection", async function () {
    const prefill = await get("/api/applications/prefill", tokens.supplier);
    expect(prefill.status).to.equal(200);
    const ids = free.map(String);
    const one = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: [ids[0]], amount: "100000" },
    });
    expect(one.status, JSON.stringify(one.body)).to.equal(200);
    expect(one.body).to.include({ amount: "100000", termDays: 90, fees: "0", policyVersion: "v1" });
    expect(one.body.rateBps).to.be.a("number");
    expect(one.body.maturity - one.body.asOf).to.equal(90 * DAY);
    const onChain = await net.read<bigint>("LoanAgreements", "totalDueOf", [
      100_000n,
      BigInt(one.body.rateBps),
      BigInt(one.body.asOf),
      BigInt(one.body.maturity),
    ]);
    expect(one.body.totalDue).to.equal(onChain.toString());
    expect(BigInt(one.body.interest)).to.equal(onChain - 100_000n);

    const both = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: ids },
    });
    expect(both.status).to.equal(200);
    expect(BigInt(both.body.limit)).to.be.greaterThan(BigInt(one.body.limit));
    expect(both.body.limit).to.equal(prefill.body.maxAmount); // both free receivables are the whole prefill
    expect(both.body.amount).to.equal(both.body.limit); // no amount: the quote is for the maximum

    const above = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: [ids[0]], amount: (BigInt(one.body.limit) + 1n).toString() },
    });
    expect(above.body.reasons.map((r: { code: string }) => r.code)).to.include("amount_above_limit");
    expect(above.body.outcome).to.not.equal("approve");
  });

  it("refuses a quote without a selection, on a receivable not the borrower's, or to a non-supplier", async function () {
    const empty = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: [] },
    });
    expect(empty.status).to.equal(400);
    expect(empty.body.error.field).to.equal("receivableIds");
    const pledged = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: [loan.terms.collateral[0].toString()] },
    });
    expect(pledged.status).to.equal(400);
    expect(pledged.body.error.field).to.equal("receivableIds");
    // One receivable named twice would count its advance twice in the limit.
    const twice = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: [String(free[0]), String(free[0])] },
    });
    expect(twice.status).to.equal(400);
    expect(twice.body.error.field).to.equal("receivableIds");
    expect(twice.body.error.text.textCode).to.equal("receivable_listed_twice");
    // An id no receivable has, beside a free one: refused naming it.
    const unknown = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 90, receivableIds: [String(free[0]), "999999"] },
    });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.error.text).to.deep.equal({ textCode: "receivable_unavailable", params: { receivableId: "999999" } });
    const lender = await call(base, "POST", "/api/applications/quote", {
      token: tokens.lender,
      body: { termDays: 90, receivableIds: free.map(String) },
    });
    expect(lender.status).to.equal(403);
    expect((await call(base, "POST", "/api/applications/quote", { body: { termDays: 90, receivableIds: ["1"] } })).status).to.equal(401);
    const term = await call(base, "POST", "/api/applications/quote", {
      token: tokens.supplier,
      body: { termDays: 0, receivableIds: ["1"] },
    });
    expect(term.body.error.field).to.equal("termDays");
  });

  it("shows the borrower its consent's scopes and expiry, and its revocation on chain", async function () {
    const expiresAt = (await net.latestTime()) + 30 * DAY;
    await net.send(net.supplier, "ConsentRegistry", "grant", [
      net.lender2.account.address,
      REQUIRED_SCOPES,
      expiresAt,
      net.h("consent-test"),
    ]);
    await indexed();
    const mine = await get(`/api/consents?counterparty=${net.lender2.account.address}`, tokens.supplier);
    expect(mine.status, JSON.stringify(mine.body)).to.equal(200);
    expect(mine.body.consents).to.have.length(1);
    expect(mine.body.consents[0]).to.include({
      lender: net.lender2.account.address.toLowerCase(),
      expiresAt,
      scopes: REQUIRED_SCOPES,
      inForce: true,
    });
    expect(mine.body.consents[0].scopeNames).to.include.members(["metrics", "riskFlags"]).and.not.include("identity");
    // The lender sees what it holds; nobody else sees the borrower's consents.
    expect(
      (await get("/api/consents?role=lender", tokens.lender2)).body.consents.map((c: { borrower: string }) => c.borrower),
    ).to.deep.equal([supplier]);
    expect((await get("/api/consents", tokens.outsider)).body.consents).to.deep.equal([]);
    expect((await get("/api/consents?counterparty=nope", tokens.supplier)).body.error.field).to.equal("counterparty");

    await net.send(net.supplier, "ConsentRegistry", "revoke", [net.lender2.account.address]);
    await indexed();
    const revoked = (await get(`/api/consents?counterparty=${net.lender2.account.address}`, tokens.supplier)).body.consents[0];
    expect(revoked.inForce).to.equal(false);
    expect(revoked.revokedAt).to.be.a("number");
  });
  it("follows the borrower's repayment on chain to the closed loan, and calls a live loan past maturity overdue", async function () {
    const before = (await get(`/api/loans/${loan.loanId}`, tokens.supplier)).body;
    await time.increaseTo(before.maturity + 1);
    await indexed();
    // The service reads the chain's clock at most once a second: poll past that cache.
    let overdue = (await get(`/api/loans/${loan.loanId}`, tokens.supplier)).body;
    for (let i = 0; i < 40 && overdue.standing !== "Overdue"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      overdue = (await get(`/api/loans/${loan.loanId}`, tokens.supplier)).body;
    }
    expect(overdue.standing).to.equal("Overdue");
    expect(overdue.schedule[0].status).to.equal("overdue");
    expect(overdue.daysToMaturity).to.be.lessThan(0);

    const rest = BigInt(overdue.outstanding);
    await net.send(net.operator, "SettlementToken", "mint", [net.supplier.account.address, rest]);
    await net.send(net.supplier, "SettlementToken", "approve", [net.deployment.contracts.LoanAgreements, rest]);
    await net.send(net.supplier, "LoanAgreements", "repay", [loan.loanId, rest]);
    await indexed();
    const closed = (await get(`/api/loans/${loan.loanId}`, tokens.supplier)).body;
    expect(closed).to.include({ status: "Repaid", standing: "Repaid", outstanding: "0", repaid: closed.totalDue });
    expect(closed.schedule[0].status).to.equal("paid");
    expect(closed.history.at(-1)).to.include({ kind: "repayment", amount: rest.toString() });
    expect(closed.closedAt).to.be.a("number");
  });
});
