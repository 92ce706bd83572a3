/**
 * GET /api/lenders/:address/portfolio (and its CSV tables) over the real service and a real Hardhat
 * network: a lender with a live loan, a loan past due that it declared in default and partly collected
 * through the pledged receivable, and another lender's loan that must not show. Exposure by borrower and
 * debtor, maturities, days past due and collections are checked against the chain's own figures; the
 * lender itself (or the operator) reads it, anyone else is refused. The chain is snapshotted and reverted.
 */
import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { RunningService } from "../../node-service/src/server";
import { loanTermsTypedData } from "../../node-service/src/chain/eip712";
import { displayNameCommitment } from "../../node-service/src/domain/name-commitment";
import { writeParticipantNames } from "../../node-service/src/participants/directory";
import { CSV_TERMS_ZH } from "../../node-service/src/domain/csv";
import {
  DAY,
  call,
  deployNetwork,
  waitIndexed,
  type Network,
  type Wallet,
  startOnNetwork,
  stopOnNetwork,
  type ServiceOnNetwork,
} from "./api-helpers";

/** The fields of one RFC 4180 line (quoted fields may hold commas and doubled quotes). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') ((field += '"'), i++);
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") (fields.push(field), (field = ""));
    else field += c;
  }
  return [...fields, field];
}

describe("API: the lender's portfolio", function () {
  this.timeout(180_000);
  let snapshot: string;
  let net: Network;
  let running: ServiceOnNetwork<"supplier" | "lender" | "lender2" | "operator" | "outsider">;
  let service: RunningService;
  let tokens: Record<"supplier" | "lender" | "lender2" | "operator" | "outsider", string>;
  let lender: string;
  const ids = {} as Record<"loanA" | "loanB" | "loanC" | "rA" | "rB" | "rC", bigint>;

  const get = (url: string, token?: string) => call(service.url, "GET", url, { token });

  /** A loan signed by both (EIP-712), recorded and disbursed. */
  async function loan(lenderWallet: Wallet, borrower: Wallet, receivableId: bigint, principal: bigint, termDays: number): Promise<bigint> {
    const chainId = await net.publicClient.getChainId();
    const t = BigInt(await net.latestTime());
    const terms = {
      borrower: borrower.account.address,
      lender: lenderWallet.account.address,
      currency: net.deployment.contracts.SettlementToken,
      principal,
      rateBps: 800n,
      start: t,
      disburseBy: t + BigInt(3 * DAY),
      maturity: t + BigInt(termDays * DAY),
      collateral: [receivableId],
      documentHash: net.h(`agreement:${receivableId}`),
      nonce: receivableId,
      deadline: t + 3600n,
    };
    const typed = loanTermsTypedData(chainId, net.deployment.contracts.LoanAgreements, terms);
    const borrowerSig = await borrower.signTypedData({ ...typed, account: borrower.account });
    const lenderSig = await lenderWallet.signTypedData({ ...typed, account: lenderWallet.account });
    await net.send(net.operator, "SettlementToken", "mint", [lenderWallet.account.address, principal]);
    await net.send(lenderWallet, "SettlementToken", "approve", [net.deployment.contracts.LoanAgreements, principal]);
    await net.send(net.operator, "LoanAgreements", "submitAgreement", [terms, borrowerSig, lenderSig]);
    const loanId = await net.read<bigint>("LoanAgreements", "loanCount", []);
    await net.send(lenderWallet, "LoanAgreements", "disburse", [loanId]);
    return loanId;
  }

  async function totalDue(loanId: bigint): Promise<bigint> {
    return (await net.read<{ totalDue: bigint }>("LoanAgreements", "getLoan", [loanId])).totalDue;
  }

  before(async function () {
    snapshot = (await hre.network.provider.request({ method: "evm_snapshot" })) as string;
    net = await deployNetwork();
    lender = net.lender.account.address.toLowerCase();
    ids.rA = (await net.tradeOnce(1_000_000n)).receivableId;
    ids.rB = (await net.tradeOnce(500_000n, net.supplier2)).receivableId;
    ids.rC = (await net.tradeOnce(300_000n)).receivableId;
    ids.loanA = await loan(net.lender, net.supplier, ids.rA, 600_000n, 90);
    ids.loanB = await loan(net.lender, net.supplier2, ids.rB, 400_000n, 20);
    ids.loanC = await loan(net.lender2, net.supplier, ids.rC, 200_000n, 90);
    // The borrower of A repays part directly.
    await net.send(net.supplier, "SettlementToken", "approve", [net.deployment.contracts.LoanAgreements, 100_000n]);
    await net.send(net.supplier, "LoanAgreements", "repay", [ids.loanA, 100_000n]);
    // 40 days on: B is 20 days past maturity, past the 15-day grace; the lender declares the default,
    // then the debtor pays part of B's collateral, which goes to the lender first (a collection after default).
    await time.increase(40 * DAY);
    await net.send(net.lender, "LoanAgreements", "declareDefault", [ids.loanB]);
    await net.send(net.operator, "SettlementToken", "mint", [net.buyer.account.address, 200_000n]);
    await net.send(net.buyer, "SettlementToken", "approve", [net.deployment.contracts.Receivables, 200_000n]);
    await net.send(net.buyer, "Receivables", "pay", [ids.rB, 200_000n]);

    // The operator's published names: three committed on chain (updateKyc with the commitment), so
    // verified; the buyer's name is published but does not match its commitment, so it is only a claim.
    const names = [
      { wallet: net.supplier, name: "Suzhou Precision Castings" },
      { wallet: net.supplier2, name: "Ningbo Textiles" },
      { wallet: net.lender, name: "Lingnan Commercial Bank" },
      { wallet: net.buyer, name: "Shanghai Motors" },
    ].map(({ wallet, name }) => ({ address: wallet.account.address, name, salt: net.h(`salt:${wallet.account.address}`) }));
    for (const n of names.slice(0, 3)) {
      const a = n.address;
      await net.send(net.operator, "ParticipantRegistry", "updateKyc", [
        a,
        net.h(`kyc:${a}`),
        displayNameCommitment(n.salt, n.name),
        [net.h(`addr:${a}`)],
      ]);
    }
    ({ service, tokens } = running = await startOnNetwork(net, ["supplier", "lender", "lender2", "operator", "outsider"], {
      prepare: (dataDir) => writeParticipantNames(dataDir, names),
    }));
  });

  after(async function () {
    await stopOnNetwork(running);
    if (snapshot) await hre.network.provider.request({ method: "evm_revert", params: [snapshot] });
  });

  it("shows the lender only its own loans, with names, amounts as decimal strings and the currency", async function () {
    const res = await get(`/api/lenders/${lender}/portfolio`, tokens.lender);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ currency: "CNY", minorUnitDigits: 2 });
    expect(res.body.loans.map((l: { id: string }) => l.id)).to.deep.equal([String(ids.loanA), String(ids.loanB)]);
    const [a, b] = res.body.loans;
    expect(a.borrower).to.deep.equal({
      address: net.supplier.account.address.toLowerCase(),
      name: "Suzhou Precision Castings",
      nameStatus: "verified",
    });
    expect(a).to.include({ status: "Active", principal: "600000", repaid: "100000", daysPastDue: 0 });
    expect(a.outstanding).to.equal(String((await totalDue(ids.loanA)) - 100_000n));
    expect(a.collateral[0]).to.include({ id: String(ids.rA), status: "Confirmed", pledged: true });
    // A published name that does not match the registry's commitment is only a claim.
    expect(a.collateral[0].debtor).to.include({ name: "Shanghai Motors", nameStatus: "claim" });
    expect(b).to.include({ status: "Defaulted", repaid: "200000", daysPastDue: 20 });
    expect(b.outstanding).to.equal(String((await totalDue(ids.loanB)) - 200_000n));
    expect(res.body.totals).to.include({
      loans: 2,
      live: 2,
      overdueLoans: 1,
      defaulted: 1,
      collected: "300000",
      collectedAfterDefault: "200000",
    });
    expect(res.body.totals.disbursed).to.equal("1000000");
  });

  it("gives exposure by borrower and by debtor, split over the unpaid collateral", async function () {
    const { body } = await get(`/api/lenders/${lender}/portfolio`, tokens.lender);
    const outA = (await totalDue(ids.loanA)) - 100_000n;
    const outB = (await totalDue(ids.loanB)) - 200_000n;
    const total = outA + outB;
    expect(body.totals.outstanding).to.equal(String(total));
    expect(
      body.exposureByBorrower.map((e: { party: { name: string }; outstanding: string; loans: number }) => [
        e.party.name,
        e.outstanding,
        e.loans,
      ]),
    ).to.deep.equal([
      ["Suzhou Precision Castings", String(outA), 1],
      ["Ningbo Textiles", String(outB), 1],
    ]);
    expect(body.exposureByBorrower[0].share).to.equal(Number((outA * 10_000n + total / 2n) / total) / 10_000);
    // Both loans stand on receivables owed by the one buyer: 1,000,000 + 300,000 still unpaid.
    expect(body.exposureByDebtor).to.have.length(1);
    expect(body.exposureByDebtor[0]).to.deep.include({ loans: 2, outstanding: String(total), collateralUnpaid: "1300000", share: 1 });
    expect(body.exposureByDebtor[0].party).to.deep.equal({
      address: net.buyer.account.address.toLowerCase(),
      name: "Shanghai Motors",
      nameStatus: "claim",
    });
  });

  it("lists the maturities ahead, the overdue loans with days past due, and the collections before and after default", async function () {
    const { body } = await get(`/api/lenders/${lender}/portfolio`, tokens.lender);
    expect(body.upcomingMaturities).to.have.length(1);
    const up = body.upcomingMaturities[0];
    expect(up.loanId).to.equal(String(ids.loanA));
    expect(up.inDays).to.equal(Math.floor((up.maturity - body.asOf) / DAY));
    expect(up.inDays).to.be.within(48, 50);
    expect(body.overdue).to.have.length(1);
    expect(body.overdue[0]).to.include({ loanId: String(ids.loanB), status: "Defaulted", daysPastDue: 20 });
    expect(body.overdue[0].defaultableAt).to.equal(body.overdue[0].maturity + net.deployment.gracePeriod);
    expect(
      body.collections.map((c: { loanId: string; via: string; amount: string; afterDefault: boolean }) => [
        c.loanId,
        c.via,
        c.amount,
        c.afterDefault,
      ]),
    ).to.deep.equal([
      [String(ids.loanB), "receivable", "200000", true],
      [String(ids.loanA), "borrower", "100000", false],
    ]);
    expect(body.collections[0].debtor.name).to.equal("Shanghai Motors");
    expect(body.collections[0].receivableId).to.equal(String(ids.rB));
    // Twelve months of collections up to the current one, which is marked partial; they add up.
    expect(body.collectionsByMonth).to.have.length(12);
    expect(body.collectionsByMonth[11].partial).to.equal(true);
    expect(body.collectionsByMonth.reduce((s: bigint, m: { amount: string }) => s + BigInt(m.amount), 0n)).to.equal(300_000n);
    expect(body.maturitiesByMonth.reduce((s: bigint, m: { amount: string }) => s + BigInt(m.amount), 0n)).to.equal(
      BigInt(body.totals.outstanding),
    );
  });

  it("shows another lender only its own loan", async function () {
    const res = await get(`/api/lenders/${net.lender2.account.address}/portfolio`, tokens.lender2);
    expect(res.status).to.equal(200);
    expect(res.body.loans.map((l: { id: string }) => l.id)).to.deep.equal([String(ids.loanC)]);
    expect(res.body.collections).to.deep.equal([]);
  });

  it("refuses anyone but the lender itself or the operator", async function () {
    const url = `/api/lenders/${lender}/portfolio`;
    expect((await get(url)).status).to.equal(401);
    for (const who of ["supplier", "lender2", "outsider"] as const) {
      const res = await get(url, tokens[who]);
      expect(res.status, who).to.equal(403);
      expect(res.body.error.code).to.equal("forbidden");
    }
    // A signed-in borrower asking for its "own" portfolio holds no lender role.
    const own = await get(`/api/lenders/${net.supplier.account.address}/portfolio`, tokens.supplier);
    expect(own.status).to.equal(403);
    expect(own.body.error.message).to.match(/LENDER/);
    expect((await get(url, tokens.operator)).status).to.equal(200);
    const bad = await get(`/api/lenders/not-an-address/portfolio`, tokens.lender);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal("address");
    for (const who of ["supplier", "lender2", "outsider"] as const) {
      expect((await get(`${url}.csv?kind=overdue`, tokens[who])).status, who).to.equal(403);
    }
  });

  it("writes every table's CSV in Chinese with ?lang=zh (header, statuses, yes/no, an unmatched name's note), other cells unchanged; another language is a 400 naming lang", async function () {
    const kinds = ["loans", "repayments", "receivable-payments", "exposure-by-borrower", "exposure-by-debtor", "maturities", "overdue"];
    for (const kind of kinds) {
      const en = await get(`/api/lenders/${lender}/portfolio.csv?kind=${kind}`, tokens.lender);
      const zh = await get(`/api/lenders/${lender}/portfolio.csv?kind=${kind}&lang=zh`, tokens.lender);
      expect(zh.status, kind).to.equal(200);
      const [enHeader, ...enRows] = String(en.body).trimEnd().split("\r\n");
      const [zhHeader, ...zhRows] = String(zh.body)
        .replace(/^\ufeff/, "")
        .trimEnd()
        .split("\r\n");
      // The same cells, with the service's words (statuses, yes/no, an unmatched name's note) in Chinese.
      expect(
        zhRows.map((r) => csvFields(r).length),
        kind,
      ).to.deep.equal(enRows.map((r) => csvFields(r).length));
      const translated = (cell: string) =>
        cell
          .replace(/^(true|false|Signed|Active|Repaid|Defaulted|Recovered|Cancelled)$/, (w) => CSV_TERMS_ZH[w])
          .replace(/(\d+):(Issued|Confirmed|Paid|Split|Cancelled|Pledged)/g, (_, id, w) => `${id}:${CSV_TERMS_ZH[w]}`)
          .replace("(claim, not matched)", "(声明，未匹配)")
          .replace(/^no unpaid collateral$/, "无未付质押应收账款");
      expect(zhRows.map(csvFields), kind).to.deep.equal(enRows.map((r) => csvFields(r).map(translated)));
      const zhNames = csvFields(zhHeader);
      expect(zhNames, kind).to.have.length(csvFields(enHeader).length);
      // Every column named in Chinese: no ASCII-only name left.
      for (const n of zhNames) expect(n, `${kind}: ${n}`).to.match(/[\u4e00-\u9fff]/);
      expect(zhNames, kind).to.include("币种");
    }
    const [loansHeader] = String((await get(`/api/lenders/${lender}/portfolio.csv?kind=loans&lang=zh`, tokens.lender)).body)
      .replace(/^\ufeff/, "")
      .split("\r\n");
    expect(csvFields(loansHeader).slice(0, 4)).to.deep.equal(["贷款编号", "借款人地址", "状态", "本金"]);
    const zhRowsOf = async (kind: string) => {
      const [header, ...lines] = String((await get(`/api/lenders/${lender}/portfolio.csv?kind=${kind}&lang=zh`, tokens.lender)).body)
        .replace(/^\ufeff/, "")
        .trimEnd()
        .split("\r\n")
        .map(csvFields);
      return lines.map((l) => Object.fromEntries(header.map((k, i) => [k, l[i]])));
    };
    expect((await zhRowsOf("overdue"))[0]).to.include({ 状态: "已违约", 逾期天数: "20" });
    expect((await zhRowsOf("exposure-by-debtor"))[0]).to.include({ 债务人名称: "Shanghai Motors (声明，未匹配)" });
    const bad = await get(`/api/lenders/${lender}/portfolio.csv?kind=loans&lang=de`, tokens.lender);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal("lang");
  });

  it("exports each table as CSV in major units with a currency column and names", async function () {
    const rows = async (kind: string) => {
      const res = await get(`/api/lenders/${lender}/portfolio.csv?kind=${kind}`, tokens.lender);
      expect(res.status).to.equal(200);
      const [header, ...lines] = String(res.body).trimEnd().split("\r\n").map(csvFields);
      return lines.map((l) => Object.fromEntries(header.map((k, i) => [k, l[i]])));
    };
    const outA = (await totalDue(ids.loanA)) - 100_000n;
    const major = (minor: bigint) => `${minor / 100n}.${(minor % 100n).toString().padStart(2, "0")}`;
    const [byDebtor] = await rows("exposure-by-debtor");
    expect(byDebtor).to.include({
      debtor_name: "Shanghai Motors (claim, not matched)",
      collateral_unpaid: "13000.00",
      currency: "CNY",
      live_loans: "2",
    });
    const byBorrower = await rows("exposure-by-borrower");
    expect(byBorrower[0]).to.include({ borrower_name: "Suzhou Precision Castings", outstanding: major(outA), currency: "CNY" });
    const [overdue] = await rows("overdue");
    expect(overdue).to.include({ loan_id: String(ids.loanB), status: "Defaulted", days_past_due: "20", currency: "CNY" });
    const [maturity] = await rows("maturities");
    expect(maturity).to.include({ loan_id: String(ids.loanA), outstanding: major(outA) });
    const loans = await rows("loans");
    expect(loans[0]).to.include({ principal: "6000.00", repaid: "1000.00", collateral_status: `${ids.rA}:Pledged`, days_past_due: "0" });
    const repayments = await rows("repayments");
    expect(repayments.map((r) => [r.amount, r.via_receivable, r.after_default, r.debtor_name])).to.deep.equal([
      ["1000.00", "", "false", ""],
      ["2000.00", String(ids.rB), "true", "Shanghai Motors (claim, not matched)"],
    ]);
  });

  it("says of every loan what its borrower's loan page says: outstanding, days past due, overdue (before and past maturity, and repaid)", async function () {
    type PortfolioLoan = { id: string; status: string; outstanding: string; daysPastDue: number | null };
    /** Each loan of both lenders, read from the portfolio and from /api/loans/:id at the same block time; its standing. */
    const agree = async (stage: string): Promise<Record<string, string>> => {
      const standings: Record<string, string> = {};
      for (const l of [lender, net.lender2.account.address.toLowerCase()]) {
        const p = await get(`/api/lenders/${l}/portfolio`, tokens.operator);
        expect(p.status, JSON.stringify(p.body)).to.equal(200);
        for (const pl of p.body.loans as PortfolioLoan[]) {
          const where = `${stage}: loan ${pl.id}`;
          const v = await get(`/api/loans/${pl.id}`, tokens.operator);
          expect(v.status, JSON.stringify(v.body)).to.equal(200);
          expect(v.body.asOf, `${where}: read at the same block time`).to.equal(p.body.asOf);
          expect({ status: v.body.status, outstanding: v.body.outstanding, daysPastDue: v.body.daysPastDue }, where).to.deep.equal({
            status: pl.status,
            outstanding: pl.outstanding,
            daysPastDue: pl.daysPastDue,
          });
          const listedOverdue = (p.body.overdue as { loanId: string }[]).some((o) => o.loanId === pl.id);
          expect(listedOverdue, `${where}: in the overdue list iff its schedule is overdue`).to.equal(
            v.body.schedule[0]?.status === "overdue",
          );
          expect(v.body.standing === "Overdue", `${where}: standing`).to.equal(listedOverdue && pl.status === "Active");
          standings[pl.id] = v.body.standing;
        }
      }
      return standings;
    };
    const [a, b, c] = [String(ids.loanA), String(ids.loanB), String(ids.loanC)];
    expect(await agree("40 days in")).to.deep.equal({ [a]: "Active", [b]: "Defaulted", [c]: "Active" });
    // 100 days in: A and C are past their 90-day maturity.
    await time.increase(60 * DAY);
    await waitIndexed(service, net.publicClient);
    // The service reads the chain's time at most once a second (ChainAuthority.recentNow).
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await agree("100 days in")).to.deep.equal({ [a]: "Overdue", [b]: "Defaulted", [c]: "Overdue" });
    // The borrower repays C in full: closed, nothing outstanding, no days past due.
    const dueC = await totalDue(ids.loanC);
    await net.send(net.operator, "SettlementToken", "mint", [net.supplier.account.address, dueC]);
    await net.send(net.supplier, "SettlementToken", "approve", [net.deployment.contracts.LoanAgreements, dueC]);
    await net.send(net.supplier, "LoanAgreements", "repay", [ids.loanC, dueC]);
    await waitIndexed(service, net.publicClient);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await agree("C repaid")).to.deep.equal({ [a]: "Overdue", [b]: "Defaulted", [c]: "Repaid" });
  });
});
