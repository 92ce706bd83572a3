/**
 * A reader process (SERVICE_ROLE=reader) beside an indexing one on one PostgreSQL database: it holds no
 * index, answers an enterprise's metrics, series and lists from the committed index with the indexing
 * process's values, applies consent (a stranger refused, a granted lender served, a revocation refused
 * again), follows new commits, and refuses what needs the whole index with 503 index_not_held.
 */
import { expect } from "chai";
import { SCOPE } from "../../node-service/src/chain/eip712";
import { loadConfig, ConfigError } from "../../node-service/src/config";
import {
  createDeliveredOrder,
  createOrder,
  fundAndApprove,
  generateHistory,
  issueConfirmedReceivable,
  send,
  signAndSubmitAgreement,
} from "../../scripts/lib/chain-helpers";
import { call, DAY, signIn } from "./api-helpers";
import { until, useServiceProcesses, type ServiceProcess } from "./service-processes";

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

  it("serves metrics, series and lists equal to the indexing process's, under the same consent rules, and refuses whole-index reads", async () => {
    const { net, parties } = await fixture.startNetwork();
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
    const { env } = await fixture.workspace("pg-reader-", net.deployment, { METRICS_TOKEN: scrape });

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
    /** The same read on both processes: same status, same body. */
    const both = async (url: string, token: string) => {
      const [onIndexing, onReader] = await Promise.all([
        call(indexing.url, "GET", url, { token }),
        call(reader.url, "GET", url, { token }),
      ]);
      expect(onReader.status, `${url} on the reader: ${JSON.stringify(onReader.body)}`).to.equal(onIndexing.status);
      // A loan's view is as of each process's own clock (the chain's, or the wall's when later): not compared.
      const unclocked = (body: unknown) => JSON.parse(JSON.stringify(body, (k, v: unknown) => (k === "asOf" ? undefined : v)));
      expect(unclocked(onReader.body), url).to.deep.equal(unclocked(onIndexing.body));
      return onReader;
    };

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

    // What needs the whole index is not served here, with a code a proxy or a client can act on.
    for (const [url, token] of [
      ["/api/notifications", supplierToken],
      [`/api/lenders/${lender.account.address.toLowerCase()}/portfolio`, lenderToken],
      ["/api/applications/prefill", supplierToken],
    ]) {
      const refused = await call(reader.url, "GET", url, { token });
      expect(refused.status, url).to.equal(503);
      expect(refused.body.error.code, url).to.equal("index_not_held");
      expect((await call(indexing.url, "GET", url, { token })).status, `${url} on the indexing process`).to.equal(200);
    }
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
  });
});
