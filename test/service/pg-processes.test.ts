/**
 * Two service processes on one PostgreSQL database (two ports, no proxy, a `hardhat node` over HTTP),
 * both holding the same service account: what one writes reaches the other (its reads and its SSE
 * clients, through LISTEN/NOTIFY), and the background jobs that send transactions run in one process
 * only (the holder of the index writer's lock), counted on chain by the service account's transactions.
 */
import { expect } from "chai";
import { isDeepStrictEqual } from "node:util";
import { toHex, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ROLE } from "../../node-service/src/chain/eip712";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import {
  admit,
  createDeliveredOrder,
  DAY,
  DEV_MNEMONIC,
  deployContracts,
  issueConfirmedReceivable,
  send,
  type Net,
} from "../../scripts/lib/chain-helpers";
import { call, openEventStream, postApplication, signIn } from "./api-helpers";
import { webhookReceiver } from "./webhook-receiver";
import { until, useServiceProcesses, type ServiceProcess } from "./service-processes";

const FACE = 1_000_000n;
/** Pairs of simultaneous requests sent to the two processes, per rule raced. */
const RACES = 3;

describe("several service processes on one PostgreSQL database: live updates everywhere, jobs once", function () {
  this.timeout(300_000);
  const fixture = useServiceProcesses();

  it("an application created on one process is listed and streamed on the other; its decision is anchored once", async () => {
    const node = await fixture.startNode();
    const [operator, buyer, supplier, lender] = node.wallets;
    // The service account both processes hold (a development key of the node's mnemonic, never a real one).
    const serviceAccount = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 12 });
    const serviceKey = toHex(serviceAccount.getHdKey().privateKey!);
    const net: Net = { publicClient: node.publicClient, deployment: await deployContracts(node.publicClient, operator) };
    await admit(net, operator, [
      { account: buyer.account.address, roles: ROLE.BUYER },
      { account: supplier.account.address, roles: ROLE.SUPPLIER },
      { account: lender.account.address, roles: ROLE.LENDER },
      { account: serviceAccount.address, roles: ROLE.AUDITOR },
    ]);
    const receivables: string[] = [];
    for (let i = 0; i < 3 + RACES * 2 + 2; i++) {
      const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: FACE, complete: true });
      receivables.push((await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: FACE })).receivableId.toString());
    }

    const { env } = await fixture.workspace("pg-processes-", net.deployment, {
      SERVICE_PRIVATE_KEY: serviceKey,
      NOTARY_BATCH_MAX_DELAY_MS: "300",
      WEBHOOK_ALLOW_LOOPBACK: "true",
      MAX_OPEN_APPLICATIONS_PER_BORROWER: "50",
      // The supplier's applications below: 3, then one per race, then one of the last two raced.
      MAX_APPLICATIONS_PER_BORROWER_PER_DAY: String(3 + 2 * RACES + 1),
    });
    const sent = () => net.publicClient.getTransactionCount({ address: serviceAccount.address });
    const head = async () => Number(await net.publicClient.getBlockNumber());
    const indexedOn = async (p: ServiceProcess) => (await call(p.url, "GET", "/healthz")).body.indexedBlock as number;
    const apply = (base: string, token: string, receivableId: string, headers?: Record<string, string>) =>
      postApplication(base, token, { amount: 100_000n, lender: lender.account.address, receivableIds: [receivableId] }, headers);
    const grantConsent = async (purpose: Hex) => {
      const expires = Number((await net.publicClient.getBlock()).timestamp) + 90 * DAY;
      await send(net, supplier, "ConsentRegistry", "grant", [lender.account.address, REQUIRED_SCOPES, expires, purpose]);
    };

    // A starts first and takes the index writer's lock (it runs the jobs); an application waits there for consent.
    const a = await fixture.start(env("a"));
    const h0 = await head();
    await until("A at the head", 30_000, async () => (await indexedOn(a)) === h0);
    const token = await signIn(a.url, supplier as never);
    const first = await apply(a.url, token, receivables[0]);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body.status).to.equal("submitted");

    // B starts with that application in the database; the session opened on A works on B.
    const b = await fixture.start(env("b"));
    expect(b.url).to.not.equal(a.url);
    expect((await call(b.url, "GET", `/api/applications/${first.body.id}`, { token })).status).to.equal(200);
    const streamB = openEventStream(b.url, token);
    await streamB.connected;

    // Webhooks registered on B (not the jobs' process) are the same on A: one registration for the network.
    const hook = await webhookReceiver();
    const lenderToken = await signIn(b.url, lender as never);
    const parties = { supplier: token, lender: lenderToken };
    for (const [who, t] of Object.entries(parties)) {
      const put = await call(b.url, "PUT", "/api/webhook", { token: t, body: { url: hook.url } });
      expect(put.status, `${who}: ${JSON.stringify(put.body)}`).to.equal(201);
      const onA = await until(
        `${who}'s webhook read on A`,
        5_000,
        async () => (await call(a.url, "GET", "/api/webhook", { token: t })).body.webhook,
      );
      expect(onA, who).to.deep.equal({ url: hook.url, createdAt: put.body.createdAt });
    }

    // Created on A after B started: listed on B, and B's stream carries it, within about a second.
    const createdAt = Date.now();
    const second = await apply(a.url, token, receivables[1]);
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
    const listed = await until("the application created on A listed on B", 5_000, async () => {
      const res = await call(b.url, "GET", "/api/applications", { token });
      return (res.body.applications as { id: string }[]).some((x) => x.id === second.body.id) && Date.now();
    });
    const streamedAt = await until(
      "B's stream to carry the application created on A",
      5_000,
      async () => streamB.events.some((e) => e.id === second.body.id) && Date.now(),
    );
    console.log(
      `      on B: listed ${listed - createdAt} ms, streamed ${streamedAt - createdAt} ms after A answered the creation (polled every 100 ms)`,
    );
    expect(streamB.events.find((e) => e.id === second.body.id).status).to.equal("submitted");
    expect(listed - createdAt).to.be.below(2_000);

    // Consent for both on chain: each is decided and its decision anchored once, by one process.
    const before = await sent();
    await grantConsent(first.body.purpose);
    await grantConsent(second.body.purpose);
    for (const id of [first.body.id, second.body.id]) {
      const decided = await until(`application ${id} decided and anchored, as B reads it`, 30_000, async () => {
        const res = await call(b.url, "GET", `/api/applications/${id}`, { token });
        return res.body.decisionAnchorTx ? res.body : undefined;
      });
      expect(decided.status).to.not.equal("submitted");
      // B's stream followed the steps the other process took.
      await until(`B's stream to carry the decision of ${id}`, 5_000, async () =>
        streamB.events.some((e) => e.id === id && e.status === decided.status),
      );
    }
    // Both processes follow the chain; a pass of both reconciles later, still one anchor each.
    const h1 = await head();
    await until("both processes at the head", 30_000, async () => (await indexedOn(a)) === h1 && (await indexedOn(b)) === h1);
    await net.publicClient.request({ method: "evm_mine", params: [] } as never);
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await sent()) - before, "transactions of the service account: one decision anchor per application").to.equal(2);

    // The decisions' notifications, read alike on both processes, each delivered once (by the process
    // running the jobs), with the same delivery log on both; a read mark set on A holds on B.
    const idsOn = async (p: ServiceProcess, t: string) =>
      ((await call(p.url, "GET", "/api/notifications", { token: t })).body.items as { id: string }[]).map((n) => n.id).sort();
    const notified: string[] = [];
    for (const [who, t] of Object.entries(parties)) {
      const [onA, onB] = [await idsOn(a, t), await idsOn(b, t)];
      expect(onB, who).to.deep.equal(onA);
      notified.push(...onA);
    }
    expect(notified.length, "the decisions notified someone").to.be.at.least(2);
    const deliveredIds = () => hook.received.map((r) => JSON.parse(r.body).notification.id as string);
    await until("every notification delivered", 15_000, async () => notified.every((id) => deliveredIds().includes(id)));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(deliveredIds().sort(), "each notification delivered once").to.deep.equal([...notified].sort());
    for (const [who, t] of Object.entries(parties)) {
      await until(`${who}'s delivery log alike on both, nothing pending`, 5_000, async () => {
        const [onA, onB] = await Promise.all([a, b].map((p) => call(p.url, "GET", "/api/webhook/deliveries", { token: t })));
        return onA.body.pending === 0 && isDeepStrictEqual(onA.body, onB.body);
      });
    }
    const reader = (await idsOn(a, token)).length > 0 ? token : lenderToken;
    const marked = await call(a.url, "POST", "/api/notifications/read", { token: reader, body: { all: true } });
    expect(marked.status, JSON.stringify(marked.body)).to.equal(200);
    expect(marked.body.unread).to.equal(0);
    await until("the read marks set on A read on B", 5_000, async () => {
      const res = await call(b.url, "GET", "/api/notifications", { token: reader });
      return res.body.items.length > 0 && res.body.unread === 0;
    });
    // The anchors the two processes read are the same ones.
    for (const id of [first.body.id, second.body.id]) {
      const [onA, onB] = await Promise.all([a, b].map((p) => call(p.url, "GET", `/api/applications/${id}`, { token })));
      expect(onA.body.decisionAnchorTx).to.equal(onB.body.decisionAnchorTx);
      expect(onA.body.timeline).to.deep.equal(onB.body.timeline);
    }

    // Created on B (not the jobs' process) under the consent now in force: decided within the POST on B,
    // and its decision anchored once, by the process running the jobs, without waiting for another block.
    const third = await apply(b.url, token, receivables[2]);
    expect(third.status, JSON.stringify(third.body)).to.equal(201);
    expect(third.body.status, "decided within the POST").to.not.equal("submitted");
    const anchored = await until("the decision made on B anchored", 30_000, async () => {
      const res = await call(a.url, "GET", `/api/applications/${third.body.id}`, { token });
      return res.body.decisionAnchorTx ? res.body : undefined;
    });
    await until("B to read the anchor", 5_000, async () => {
      const res = await call(b.url, "GET", `/api/applications/${third.body.id}`, { token });
      return res.body.decisionAnchorTx === anchored.decisionAnchorTx;
    });
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await sent()) - before, "one more anchor, for the decision made on B").to.equal(3);

    // A document uploaded on B is batched once, by the process running the jobs; both read its anchor, A serves its bytes.
    const upload = await fetch(`${b.url}/api/documents?kind=delivery_note`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", authorization: `Bearer ${token}` },
      body: new Uint8Array(Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")),
    });
    expect(upload.status).to.equal(201);
    const { sha256 } = (await upload.json()) as { sha256: string };
    const anchorOn = async (p: ServiceProcess) =>
      ((await call(p.url, "GET", "/api/documents", { token })).body.documents as { sha256: string; anchor: { txHash?: string } }[]).find(
        (d) => d.sha256 === sha256,
      )?.anchor.txHash;
    const batchTx = await until("the upload on B anchored in a batch", 30_000, () => anchorOn(b));
    expect(await until("A to read the same anchor", 5_000, () => anchorOn(a))).to.equal(batchTx);
    // Its bytes are served by A too (they are in the database, not in B's DATA_DIR).
    const downloaded = await fetch(`${a.url}/api/documents/${sha256}?download=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(downloaded.status).to.equal(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).toString()).to.contain("%PDF-1.4");
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await sent()) - before, "one batch anchor for the upload").to.equal(4);
    // The same request sent at once to both processes (a client retrying through the proxy), and two
    // applications pledging the same receivable at once on both: one application each time.
    const spare = receivables.slice(3);
    for (let i = 0; i < RACES; i++) {
      const key = `retry-${i}`;
      const both = await Promise.all([a, b].map((p) => apply(p.url, token, spare[i], { "Idempotency-Key": key })));
      expect(
        both.map((r) => r.status),
        JSON.stringify(both.map((r) => r.body.id ?? r.body.error)),
      ).to.deep.equal([201, 201]);
      expect(both[0].body.id, `the same Idempotency-Key on both processes (${key}) gives one application`).to.equal(both[1].body.id);
    }
    for (let i = 0; i < RACES; i++) {
      const receivableId = spare[RACES + i];
      const both = await Promise.all([a, b].map((p) => apply(p.url, token, receivableId)));
      expect(
        both.map((r) => r.status).sort(),
        `receivable ${receivableId} pledged by two applications at once: ${JSON.stringify(both.map((r) => r.body.id ?? r.body.error))}`,
      ).to.deep.equal([201, 409]);
      expect(both.find((r) => r.status === 409)!.body.error.text.textCode).to.equal("receivable_taken");
    }
    // One application left in the supplier's day, asked for at once on both: one is made.
    const last = await Promise.all([a, b].map((p, i) => apply(p.url, token, spare[2 * RACES + i])));
    expect(last.map((r) => r.status).sort(), JSON.stringify(last.map((r) => r.body.id ?? r.body.error))).to.deep.equal([201, 429]);
    expect(last.find((r) => r.status === 429)!.body.error.text.textCode).to.equal("too_many_today");
    const made = spare[2 * RACES + (last[0].status === 201 ? 0 : 1)];
    const mine = await call(a.url, "GET", "/api/applications?role=borrower", { token });
    const pledged = (mine.body.applications as { receivableIds: string[] }[])
      .flatMap((x) => x.receivableIds)
      .filter((id) => spare.includes(id));
    expect(pledged.sort(), "each spare receivable in one application, the refused one's in none").to.deep.equal(
      [...spare.slice(0, 2 * RACES), made].sort(),
    );

    await streamB.close();
    await hook.close();
  });
});
