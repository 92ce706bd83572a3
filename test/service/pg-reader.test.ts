/**
 * A reader process (SERVICE_ROLE=reader) beside an indexing one on one PostgreSQL database: it holds no
 * index, answers an enterprise's metrics, series and lists from the committed index with the indexing
 * process's values, applies consent (a stranger refused, a granted lender served, a revocation refused
 * again), follows new commits, and refuses what needs the whole index with 503 index_not_held. Its evidence
 * lookups, bundles and document access checks read the committed index by key: the same answers too.
 */
import { expect } from "chai";
import { toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { loadConfig, ConfigError } from "../../node-service/src/config";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import {
  admit,
  createDeliveredOrder,
  createOrder,
  DEV_MNEMONIC,
  eventsIn,
  fundAndApprove,
  generateHistory,
  issueConfirmedReceivable,
  latestTime,
  send,
  signAndSubmitAgreement,
} from "../../scripts/lib/chain-helpers";
import { call, DAY, signIn } from "./api-helpers";
import { admittedNetwork, until, useServiceProcesses, type ServiceProcess } from "./service-processes";

/**
 * The same GET (or, with a body, POST) on the indexing process and on the reader: the reader's answer,
 * once its status and its body (less the field `volatile`, which each process sets on its own) are
 * checked to be the same.
 */
function bothOn(indexing: ServiceProcess, reader: ServiceProcess, volatile: string) {
  const compared = (body: unknown) => JSON.parse(JSON.stringify(body, (k, v: unknown) => (k === volatile ? undefined : v)));
  return async (url: string, token?: string, body?: unknown) => {
    const method = body === undefined ? "GET" : "POST";
    const [onIndexing, onReader] = await Promise.all([
      call(indexing.url, method, url, { token, body }),
      call(reader.url, method, url, { token, body }),
    ]);
    expect(onReader.status, `${url} on the reader: ${JSON.stringify(onReader.body)}`).to.equal(onIndexing.status);
    expect(compared(onReader.body), url).to.deep.equal(compared(onIndexing.body));
    return onReader;
  };
}

describe("a reader process on the committed index (SERVICE_ROLE=reader)", function () {
  this.timeout(300_000);
  const fixture = useServiceProcesses();

  it("needs DATABASE_URL", function () {
    let caught: unknown;
    try {
      loadConfig({ SERVICE_ROLE: "reader" });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    expect((caught as ConfigError).message).to.match(/SERVICE_ROLE: reader needs DATABASE_URL/);
  });

  it("serves metrics, series and lists equal to the indexing process's, under the same consent rules", async () => {
    const node = await fixture.startNode();
    const { net, parties } = await admittedNetwork(node);
    const { operator, buyer, supplier, lender } = parties;
    await generateHistory(net, { operator, buyer, supplier, lender, orders: 8 });
    // A loan on a fresh receivable: disbursed, partly repaid by the borrower, and collected from the debtor.
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 900_000n });
    const { receivableId } = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 900_000n });
    const { loanId } = await signAndSubmitAgreement(net, { borrower: supplier, lender, principal: 500_000n, collateral: [receivableId] });
    await fundAndApprove(net, operator, lender, 500_000n, "LoanAgreements");
    await send(net, lender, "LoanAgreements", "disburse", [loanId]);
    await send(net, supplier, "SettlementToken", "approve", [net.deployment.contracts.LoanAgreements, 100_000n]);
    await send(net, supplier, "LoanAgreements", "repay", [loanId, 100_000n]);
    await send(net, buyer, "Receivables", "pay", [receivableId, 200_000n]);
    const scrape = `scraper-${"0123456789abcdef".repeat(2)}`;
    // The service account (a development key of the node's mnemonic): the leader anchors decisions with it.
    const serviceAccount = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 12 });
    const serviceKey = toHex(serviceAccount.getHdKey().privateKey!);
    const { env } = await fixture.workspace("pg-reader-", net.deployment, { METRICS_TOKEN: scrape, SERVICE_PRIVATE_KEY: serviceKey });

    const indexing = await fixture.start(env("indexing"));
    const reader = await fixture.start({ ...env("reader"), SERVICE_ROLE: "reader" });
    const head = async () => Number(await net.publicClient.getBlockNumber());
    const indexedOn = async (p: ServiceProcess) => (await call(p.url, "GET", "/healthz")).body.indexedBlock as number;
    /** Both at the head: the indexing process has reduced it and the reader sees it committed. */
    const settled = async () => {
      const h = await head();
      await until("both processes at the head", 30_000, async () => (await indexedOn(indexing)) === h && (await indexedOn(reader)) === h);
    };
    await settled();

    const supplierToken = await signIn(indexing.url, supplier as never);
    const lenderToken = await signIn(indexing.url, lender as never);
    const s = supplier.account.address.toLowerCase();
    const asOf = Number((await net.publicClient.getBlock()).timestamp);
    const reads = [
      `/api/enterprises/${s}/metrics?asOf=${asOf}`,
      `/api/enterprises/${s}/series?asOf=${asOf}&months=6`,
      `/api/enterprises/${s}/orders`,
      `/api/enterprises/${s}/receivables?limit=2&offset=1`,
      `/api/enterprises/${s}/loans`,
    ];
    // A loan's view is as of each process's own clock (the chain's, or the wall's when later): not compared.
    const both = bothOn(indexing, reader, "asOf");

    // The enterprise's own reads (the session opened on the indexing process works on the reader).
    for (const url of reads) expect((await both(url, supplierToken)).status, url).to.equal(200);
    const receivables = (await call(reader.url, "GET", reads[3], { token: supplierToken })).body;
    expect(receivables.items, "a page from the middle of the list").to.have.length(2);
    expect(receivables.total).to.be.greaterThan(3);
    // The caller's loans, as borrower and as lender, and one loan: a stranger is told it does not exist.
    for (const [url, token] of [
      ["/api/loans", supplierToken],
      [`/api/loans/${loanId}`, supplierToken],
      ["/api/loans?role=lender", lenderToken],
      ["/api/consents", supplierToken],
      ["/api/consents?role=lender", lenderToken],
      [`/api/consents?role=lender&counterparty=${s}`, lenderToken],
    ])
      expect((await both(url, token)).status, url).to.equal(200);
    const loan = (await call(reader.url, "GET", `/api/loans/${loanId}`, { token: supplierToken })).body;
    expect(loan.history.map((h: { kind: string }) => h.kind)).to.deep.equal(["disbursement", "repayment", "collection"]);
    expect(loan.collateral[0]).to.include({ receivableId: receivableId.toString(), paid: "200000" });
    expect((await both(`/api/loans/${loanId}`, await signIn(indexing.url, buyer as never))).status).to.equal(404);
    const metrics = (await call(reader.url, "GET", reads[0], { token: supplierToken })).body;
    expect(metrics.values.orderCount.all, "the history's orders are counted").to.be.greaterThan(0);

    // The lender holds the history's consent: served the same values. The buyer (not a lender) is refused.
    // After the revocation the lender is refused; under a new consent without the counterparties scope it
    // is served again (the metrics, with the same ones hidden on both; not the lists, outside that scope).
    const served = async (token: string, status: number) => {
      for (const url of reads) {
        const r = await both(url, token);
        expect(r.status, `${url}: ${JSON.stringify(r.body)}`).to.equal(status);
      }
    };
    await served(lenderToken, 200);
    await served(await signIn(indexing.url, buyer as never), 403);
    await send(net, supplier, "ConsentRegistry", "revoke", [lender.account.address]);
    await settled();
    await served(lenderToken, 403);
    await send(net, supplier, "ConsentRegistry", "grant", [lender.account.address, SCOPE.metrics, asOf + 90 * DAY, `0x${"11".repeat(32)}`]);
    await settled();
    for (const [i, url] of reads.entries()) expect((await both(url, lenderToken)).status, url).to.equal(i < 2 ? 200 : 403);
    const hidden = (await call(reader.url, "GET", reads[0], { token: lenderToken })).body.hidden as string[];
    expect(hidden).to.include("buyerHhi");

    // A stranger and an unknown enterprise: the same refusals.
    expect((await both(reads[0], "not-a-token")).status).to.equal(401);
    const unknown = `/api/enterprises/0x${"ab".repeat(20)}/metrics`;
    expect((await both(unknown, supplierToken)).status).to.equal(404);

    // A new order is committed by the indexing process: the reader's answer follows it.
    const before = metrics.values.orderCount.all as number;
    await createOrder(net, { buyer, supplier: supplier.account.address, amount: 12_345n, document: "reader:po" });
    await settled();
    const now = Number((await net.publicClient.getBlock()).timestamp);
    const after = await both(`/api/enterprises/${s}/metrics?asOf=${now}`, supplierToken);
    expect(after.body.values.orderCount.all).to.equal(before + 1);

    // The lender's portfolio (its loans, their collateral, the parties' names) and its CSV tables: the
    // same on both; the borrower may not read it on either.
    const portfolio = `/api/lenders/${lender.account.address.toLowerCase()}/portfolio`;
    for (const url of [
      portfolio,
      `${portfolio}.csv?kind=loans`,
      `${portfolio}.csv?kind=receivable-payments`,
      `${portfolio}.csv?kind=exposure-by-debtor`,
    ])
      expect((await both(url, lenderToken)).status, url).to.equal(200);
    const book = (await call(reader.url, "GET", portfolio, { token: lenderToken })).body;
    expect(book.totals.collected, "the borrower's repayment and the debtor's collection").to.equal("300000");
    expect(book.exposureByDebtor[0].party.address).to.equal(buyer.account.address.toLowerCase());
    const payments = (await call(reader.url, "GET", `${portfolio}.csv?kind=receivable-payments`, { token: lenderToken })).body as string;
    expect(payments.trim().split("\n"), "a header and the debtor's payment").to.have.length(2);
    expect((await both(portfolio, supplierToken)).status).to.equal(403);
    // The directory: every participant, one, and an account the registry does not know.
    for (const url of ["/api/participants", `/api/participants/${s}`, `/api/participants/0x${"cd".repeat(20)}`])
      expect((await both(url, supplierToken)).status, url).to.equal(200);
    expect((await call(reader.url, "GET", "/api/participants", { token: supplierToken })).body.participants).to.have.length(3);
    const health = await call(reader.url, "GET", "/healthz");
    expect(health.status, JSON.stringify(health.body)).to.equal(200);
    // Prometheus: the committed index's event count, the indexing process's at the same block.
    const events = async (p: ServiceProcess) => {
      const res = await call(p.url, "GET", "/metrics", { token: scrape });
      expect(res.status, `${p.url}/metrics`).to.equal(200);
      return Number(/^scf_indexer_events_total (\d+)$/m.exec(res.body as string)?.[1]);
    };
    const [indexedEvents, committedEvents] = [await events(indexing), await events(reader)];
    expect(committedEvents).to.be.greaterThan(0).and.to.equal(indexedEvents);

    // The application form's prefill: the supplier's pledgeable receivables, each with its advance from
    // its debtor's metrics, and the lenders to choose from. A second buyer paid its first invoice on
    // time (tier B, 80 %; the first buyer's history gives tier C, 70 %): the reader reads its metrics
    // from that debtor's own records. The same on both.
    const rpc = net.publicClient.request as unknown as (a: { method: string; params: unknown[] }) => Promise<unknown>;
    const buyer2 = node.wallets[4];
    await admit(net, operator, [{ account: buyer2.account.address, roles: ROLE.BUYER }]);
    const paidOrder = await createDeliveredOrder(net, { buyer: buyer2, supplier, amount: 10_000n });
    const maturity = (await latestTime(net)) + 2 * DAY;
    const paid = await issueConfirmedReceivable(net, { supplier, buyer: buyer2, orderId: paidOrder, faceValue: 10_000n, maturity });
    await fundAndApprove(net, operator, buyer2, 10_000n, "Receivables");
    await send(net, buyer2, "Receivables", "pay", [paid.receivableId, 10_000n]);
    await rpc({ method: "evm_increaseTime", params: [3 * DAY] }); // matured, paid on time
    const openOrder = await createDeliveredOrder(net, { buyer: buyer2, supplier, amount: 20_000n });
    const open = await issueConfirmedReceivable(net, { supplier, buyer: buyer2, orderId: openOrder, faceValue: 20_000n });
    await settled();
    const prefill = (await both("/api/applications/prefill", supplierToken)).body;
    const advances = Object.fromEntries(
      prefill.receivables.map((r: { id: string; advance: string; faceValue: string }) => [r.id, [r.advance, r.faceValue]]),
    );
    expect(advances[open.receivableId.toString()], "tier B: 80 % of the second buyer's invoice").to.deep.equal(["16000", "20000"]);
    expect(Object.keys(advances)).to.have.length.greaterThan(1);
    for (const [id, [advance, face]] of Object.entries(advances) as [string, [string, string]][])
      if (id !== open.receivableId.toString())
        expect(BigInt(advance), `tier C: 70 % of receivable ${id}`).to.equal((BigInt(face) * 7000n) / 10000n);
    expect(prefill.lenders.map((l: { address: string }) => l.address)).to.deep.equal([lender.account.address.toLowerCase()]);
    // A page of the form from any id (here after the first): the same receivables and advances on both.
    const rest = (await both(`/api/applications/receivables?after=${prefill.receivables[0].id}`, supplierToken)).body;
    expect(rest.receivables).to.deep.equal(prefill.receivables.slice(1));
    // Quotes: the decision a real application would get (the supplier's metrics, its fraud screen read on
    // demand, each debtor's tier at the instant and at the end of the day), the same on both; a
    // receivable it does not hold is refused naming the field on both.
    const lenderAddress = lender.account.address.toLowerCase();
    for (const receivableIds of [[open.receivableId.toString()], Object.keys(advances)]) {
      const quote = (await both("/api/applications/quote", supplierToken, { receivableIds, termDays: 90, lender: lenderAddress })).body;
      expect(quote.status ?? 200, JSON.stringify(quote)).to.equal(200);
      expect(BigInt(quote.limit)).to.equal(receivableIds.reduce((sum, id) => sum + BigInt(advances[id][0]), 0n));
      // The screen read the supplier's buyers' own order lists to call them thin counterparties.
      expect(quote.reasons.map((r: { code: string }) => r.code)).to.include.members(["farmed_history", "thin_history"]);
    }
    const refusedQuote = await both("/api/applications/quote", lenderToken, {
      receivableIds: [open.receivableId.toString()],
      termDays: 90,
    });
    expect([refusedQuote.status, refusedQuote.body.error.field]).to.deep.equal([403, undefined]);
    const notHeld = await both("/api/applications/quote", supplierToken, { receivableIds: ["999999"], termDays: 90 });
    expect([notHeld.status, notHeld.body.error.field]).to.deep.equal([400, "receivableIds"]);

    // An application created on the reader, under the supplier's consent to the lender with every scope
    // the policy reads: checked and decided there from the committed index, with the decision a quote on
    // the indexing process gives at the same block time (no block is mined between them). The indexing
    // process lists it and its leader anchors the decision (a reader sends no transaction); the same
    // receivable is then refused on both, naming the live application. The decision sends it to the
    // lender's reviewer, who approves it on the reader: the offer (its parties' names read there) is the
    // record both processes then hold.
    await admit(net, operator, [{ account: serviceAccount.address, roles: ROLE.AUDITOR }]); // the notary anchors for participants
    await send(net, supplier, "ConsentRegistry", "grant", [lenderAddress, REQUIRED_SCOPES, asOf + 90 * DAY, `0x${"22".repeat(32)}`]);
    await settled();
    const terms = { receivableIds: [open.receivableId.toString()], termDays: 90, lender: lenderAddress };
    const quoted = (await call(indexing.url, "POST", "/api/applications/quote", { token: supplierToken, body: terms })).body;
    const application = { ...terms, amount: quoted.amount, scopes: REQUIRED_SCOPES };
    const created = await call(reader.url, "POST", "/api/applications", { token: supplierToken, body: application });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const decided = created.body;
    expect(decided.status).to.equal("in_review");
    expect(decided.timeline.map((t: { step: string }) => t.step)).to.include.members(["consent_granted", "data_collected", "decided"]);
    expect(decided.decisionInput.asOf, "decided at the quote's instant").to.equal(quoted.asOf);
    expect(
      [decided.decision.outcome, decided.decision.score, decided.decision.rateBps, BigInt(decided.decision.limit)],
      "the reader's decision is the indexing process's quote",
    ).to.deep.equal([quoted.outcome, quoted.score, quoted.rateBps, BigInt(quoted.limit)]);
    expect(decided.decision.reasons.filter((r: { effect?: number }) => r.effect !== undefined)).to.deep.equal(quoted.reasons);
    const anchored = await until("the leader anchors the reader's decision", 30_000, async () => {
      const app = (await call(indexing.url, "GET", `/api/applications/${decided.id}`, { token: supplierToken })).body;
      return app.decisionAnchorTx ? app : undefined;
    });
    expect(anchored.decision).to.deep.equal(decided.decision);
    await until("the reader holds the anchored record", 10_000, async () => {
      const app = (await call(reader.url, "GET", `/api/applications/${decided.id}`, { token: supplierToken })).body;
      return app.decisionAnchorTx === anchored.decisionAnchorTx;
    });
    await settled();
    expect((await both(`/api/applications/${decided.id}`, supplierToken)).body.status).to.equal(decided.status);
    const again = await both("/api/applications", supplierToken, application);
    expect([again.status, again.body.error.field, again.body.error.text]).to.deep.equal([
      409,
      "receivableIds",
      { textCode: "receivable_taken", params: { receivableId: open.receivableId.toString(), applicationId: decided.id } },
    ]);
    const review = { token: lenderToken, body: { outcome: "approve", reason: "reviewed on the reader" } };
    const reviewed = await call(reader.url, "POST", `/api/applications/${decided.id}/review`, review);
    expect([reviewed.status, reviewed.body.status], JSON.stringify(reviewed.body)).to.deep.equal([200, "offer_issued"]);
    await until("the indexing process holds the offer", 10_000, async () => {
      const app = (await call(indexing.url, "GET", `/api/applications/${decided.id}`, { token: supplierToken })).body;
      return app.offer?.digest === reviewed.body.offer.digest;
    });
    expect((await both(`/api/applications/${decided.id}`, supplierToken)).body.offer.digest).to.equal(reviewed.body.offer.digest);

    // A supplier that never applied, its invoice to the second buyer open over a month end: a monthly case.
    const supplier2 = node.wallets[5];
    await admit(net, operator, [{ account: supplier2.account.address, roles: ROLE.SUPPLIER }]);
    const order2 = await createDeliveredOrder(net, { buyer: buyer2, supplier: supplier2, amount: 50_000n });
    const maturity2 = (await latestTime(net)) + 60 * DAY;
    await issueConfirmedReceivable(net, { supplier: supplier2, buyer: buyer2, orderId: order2, faceValue: 50_000n, maturity: maturity2 });

    // Past the loan's maturity: both parties are notified of it overdue (from their loans), the same on both.
    await rpc({ method: "evm_increaseTime", params: [400 * DAY] });
    await rpc({ method: "evm_mine", params: [] });
    await settled();

    // The back-test of a candidate policy beside the policy in force: the application decided on the
    // reader and the other supplier's month ends, read on the reader borrower by borrower on demand;
    // the same report on both, as JSON and CSV.
    const lenient = { ...CURRENT_POLICY, version: "v1-lenient", thresholds: { approveMin: 40, declineBelow: 20 } };
    const backtest = { policy: lenient, from: asOf - DAY, to: await latestTime(net) };
    const report = (await both("/api/backtest", lenderToken, backtest)).body;
    expect(report.cases.applications, JSON.stringify(report)).to.equal(1);
    expect(report.cases.monthly).to.be.at.least(1);
    expect(report.policies.map((p: { version: string; total: { cases: number } }) => [p.version, p.total.cases])).to.deep.equal([
      ["v1", report.cases.applications + report.cases.monthly],
      ["v1-lenient", report.cases.applications + report.cases.monthly],
    ]);
    expect((await both("/api/backtest?format=csv", lenderToken, backtest)).status).to.equal(200);
    expect((await both("/api/backtest", supplierToken, backtest)).status, "a supplier may not back-test").to.equal(403);
    for (const token of [supplierToken, lenderToken]) {
      const notes = (await both("/api/notifications", token)).body;
      expect(notes.items.map((n: { id: string }) => n.id)).to.include(`overdue:${loanId}`);
    }
  });

  it("answers evidence lookups, bundles and document access equal to the indexing process's", async () => {
    const { net, parties } = await fixture.startNetwork();
    const { operator, buyer, supplier, lender } = parties;
    await generateHistory(net, { operator, buyer, supplier, lender, orders: 3 });
    // A split receivable (its child's evidence walks to the acknowledged root) pledged to a recorded loan.
    const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: 700_000n });
    const { receivableId } = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: 700_000n });
    const holders = [supplier.account.address, supplier.account.address];
    const split = await send(net, supplier, "Receivables", "split", [receivableId, [300_000n, 400_000n], holders]);
    const childId = eventsIn(net, split, "Receivables", "ReceivableSplit")[0].firstChildId as bigint;
    const { loanId } = await signAndSubmitAgreement(net, { borrower: supplier, lender, principal: 200_000n, collateral: [childId] });
    const { env } = await fixture.workspace("pg-reader-evidence-", net.deployment);
    const indexing = await fixture.start(env("indexing"));
    const reader = await fixture.start({ ...env("reader"), SERVICE_ROLE: "reader" });
    const h = Number(await net.publicClient.getBlockNumber());
    for (const p of [indexing, reader])
      await until("at the head", 30_000, async () => (await call(p.url, "GET", "/healthz")).body.indexedBlock === h);

    const supplierToken = await signIn(indexing.url, supplier as never);
    const buyerToken = await signIn(indexing.url, buyer as never);
    const lenderToken = await signIn(indexing.url, lender as never);
    // The time a bundle was made is each process's own: not compared.
    const both = bothOn(indexing, reader, "generatedAt");

    const agreement = (await both(`/api/evidence/agreement/${loanId}`)).body;
    expect(agreement.integrity.agreesWithIndex, JSON.stringify(agreement.integrity)).to.equal(true);
    const order = (await both(`/api/evidence/order/${orderId}`, supplierToken)).body;
    expect(order.receivables.map((r: { id: string }) => r.id)).to.include.members([receivableId.toString(), childId.toString()]);
    const child = (await both(`/api/evidence/receivable/${childId}`, lenderToken)).body;
    expect(child.integrity.agreesWithIndex, JSON.stringify(child.integrity)).to.equal(true);
    expect(child.acknowledgment, "the child carries its root's acknowledgment").to.be.an("object");
    const po = order.documents.find((d: { role: string }) => d.role === "purchase order").sha256 as string;
    for (const url of [
      `/api/evidence/agreement/${agreement.digest}`,
      `/api/evidence/${po}`,
      `/api/evidence/tx/${agreement.recorded.txHash}`,
      `/api/evidence/bundle/agreement/${loanId}`,
      `/api/evidence/bundle/document/${po}`,
    ])
      expect((await both(url)).status, url).to.equal(200);
    for (const url of [`/api/evidence/bundle/order/${orderId}`, `/api/evidence/bundle/receivable/${childId}`])
      expect((await both(url, buyerToken)).status, url).to.equal(200);
    const bundle = (await call(reader.url, "GET", `/api/evidence/bundle/receivable/${childId}`, { token: buyerToken })).body;
    const events = bundle.events.map((e: { event: string }) => e.event);
    expect(events, "the root's history (the child's split walked up)").to.include.members(["ReceivableIssued", "ReceivableAcknowledged"]);
    expect(bundle.documents.map((d: { role: string }) => d.role)).to.include("invoice");
    expect(bundle.participants, "issuer and debtor").to.have.length(2);
    const hashUses = (await call(reader.url, "GET", `/api/evidence/${po}`)).body;
    expect(JSON.stringify(hashUses), "the order found by its purchase order").to.include(`"${orderId}"`);
    for (const [url, status] of [
      ["/api/evidence/agreement/999", 404],
      [`/api/evidence/agreement/0x${"ee".repeat(32)}`, 404],
      ["/api/evidence/order/999", 404],
      ["/api/evidence/bundle/receivable/999", 404],
    ] as const)
      expect((await both(url, supplierToken)).status, url).to.equal(status);

    // Documents: a link is checked against the committed index on the reader (an unknown order, an order of
    // others); a party of the linked order reads it there, the lender (no consent) is told it does not exist.
    const upload = (token: string, query: string, text: string) =>
      fetch(`${reader.url}/api/documents?${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
        body: new TextEncoder().encode(`%PDF-1.4\n% ${text}\ntrailer << >>\n%%EOF\n`),
      }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { sha256: string; error?: { code: string; field?: string } },
      }));
    const unknownLink = await upload(supplierToken, "kind=invoice&linkType=order&linkId=999", "unknown");
    expect(unknownLink.status, JSON.stringify(unknownLink.body)).to.equal(400);
    expect(unknownLink.body.error?.field).to.equal("linkId");
    const notMine = await upload(lenderToken, `kind=invoice&linkType=order&linkId=${orderId}`, "not mine");
    expect(notMine.status, JSON.stringify(notMine.body)).to.equal(403);
    const linked = await upload(supplierToken, `kind=invoice&linkType=receivable&linkId=${childId}`, "linked");
    expect(linked.status, JSON.stringify(linked.body)).to.equal(201);
    const doc = `/api/documents/${linked.body.sha256}`;
    await until(
      "the document on both processes",
      10_000,
      async () => (await call(indexing.url, "GET", doc, { token: buyerToken })).status === 200,
    );
    expect((await both(doc, buyerToken)).status, "the debtor of the linked receivable").to.equal(200);
    expect((await both(doc, lenderToken)).status, "the lender holds it as collateral, so it is a party").to.equal(200);
    const stranger = await signIn(indexing.url, operator as never);
    expect((await both(doc, stranger)).status, "no party, no consent").to.equal(404);
  });
});
