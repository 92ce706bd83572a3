/**
 * Notifications and webhooks over a real Hardhat network, the real service on port 0 and a real local
 * HTTP receiver: a step waiting on a participant shows up for it (and for nobody else), read marks
 * survive a restart, due soon and overdue follow block time, and webhook deliveries are HMAC-signed,
 * retried with backoff after a failure, and still delivered after a restart of the service.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { RunningService } from "../../node-service/src/server";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { signPayload, SIGNATURE_HEADER } from "../../node-service/src/notifications/service";
import { postWebhook, webhookTargetProblem } from "../../node-service/src/notifications/egress";
import { webhookReceiver as receiver } from "./webhook-receiver";
import {
  call,
  DAY,
  deployNetwork,
  removeDir,
  signInAll,
  startTestService,
  tempDataDir,
  testConfig,
  waitIndexed,
  type Network,
} from "./api-helpers";

async function until<T>(what: string, read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("notifications and webhooks (real chain, real server, real receiver)", function () {
  this.timeout(180_000);
  let net: Network;
  let dataDir: string;
  let service: RunningService | undefined;
  let base: string;
  let tokens: Record<"supplier" | "lender" | "lender2" | "outsider", string>;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let collateral: bigint;
  let loanId: bigint;
  let maturity: number;

  const config = () =>
    testConfig(dataDir, { NOTIFY_DUE_SOON_DAYS: 7, WEBHOOK_RETRY_BASE_MS: 100, WEBHOOK_MAX_ATTEMPTS: 50, WEBHOOK_ALLOW_LOOPBACK: true });
  async function restart() {
    await service?.close();
    service = await startTestService(config());
    base = service.url;
    await waitIndexed(service, net.publicClient);
  }

  before(async function () {
    net = await deployNetwork();
    const loaned = await net.tradeOnce(1_000_000n);
    collateral = (await net.tradeOnce(1_000_000n)).receivableId;
    const loan = await net.loanOnce(loaned.receivableId, { principal: 500_000n, repay: 100_000n, receivablePayment: 100_000n });
    loanId = loan.loanId;
    maturity = Number(loan.terms.maturity);
    dataDir = await tempDataDir(net.deployment);
    await restart();
    tokens = await signInAll(base, net, ["supplier", "lender", "lender2", "outsider"]);
    hook = await receiver();
  });

  after(async function () {
    await service?.close();
    await hook?.close();
    if (dataDir) await removeDir(dataDir);
  });

  it("refuses a webhook URL that is not https or loopback http, and callers without a participant's session", async function () {
    for (const url of ["http://example.com/hook", "ftp://127.0.0.1/x", "not a url", "https://user:pw@bank.example/hook"]) {
      const res = await call(base, "PUT", "/api/webhook", { token: tokens.lender, body: { url } });
      expect(res.status, url).to.equal(400);
      expect(res.body.error.field, url).to.equal("url");
    }
    expect((await call(base, "PUT", "/api/webhook", { body: { url: hook.url } })).status).to.equal(401);
    expect((await call(base, "PUT", "/api/webhook", { token: tokens.outsider, body: { url: hook.url } })).status).to.equal(403);
    expect((await call(base, "GET", "/api/notifications", { token: tokens.outsider })).status).to.equal(403);
    expect((await call(base, "GET", "/api/notifications")).status).to.equal(401);
    expect((await call(base, "DELETE", "/api/webhook", { token: tokens.lender2 })).status).to.equal(404);
    const bad = await call(base, "POST", "/api/notifications/read", { token: tokens.lender, body: { ids: [] } });
    expect(bad.status).to.equal(400);
  });

  // Server-side request forgery: a participant points its webhook into the service's own network.
  const INTERNAL = [
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/hook",
    "https://224.0.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[fe80::1]/hook",
    "https://[fd00::1]/hook",
    "https://[ff02::1]/hook",
    "https://[::]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
  ];

  it("refuses a webhook to a private, link-local, CGNAT, multicast, unspecified or IPv4-mapped address, even with loopback allowed", async function () {
    for (const url of INTERNAL) {
      const res = await call(base, "PUT", "/api/webhook", { token: tokens.lender2, body: { url } });
      expect(res.status, url).to.equal(400);
      expect(res.body.error.field, url).to.equal("url");
      expect(res.body.error.message, url).to.match(/public address/);
    }
    expect((await call(base, "GET", "/api/webhook", { token: tokens.lender2 })).body.webhook).to.equal(null);
  });

  it("by default (WEBHOOK_ALLOW_LOOPBACK off) refuses loopback too, literal or by a name that resolves to it", async function () {
    const off = { allowLoopback: false };
    expect(testConfig(dataDir).WEBHOOK_ALLOW_LOOPBACK).to.equal(false);
    const port = new URL(hook.url).port;
    for (const url of [
      `http://127.0.0.1:${port}/hook`,
      `https://127.0.0.1:${port}/hook`,
      `https://[::1]:${port}/hook`,
      `https://localhost:${port}/hook`,
    ]) {
      expect(await webhookTargetProblem(url, off), url).to.be.a("string");
    }
    expect(await webhookTargetProblem(`https://localhost:${port}/hook`, off)).to.match(/localhost resolves to .*loopback/);
    for (const url of INTERNAL) expect(await webhookTargetProblem(url, off), url).to.match(/public address/);
  });

  it("checks again at delivery time: a name resolving to a refused address is not connected to, and a redirect is not followed", async function () {
    const seen = hook.received.length;
    const port = new URL(hook.url).port;
    // The name is resolved in the socket's own lookup, so the address checked is the address connected to.
    for (const url of [`http://localhost:${port}/hook`, `https://localhost:${port}/hook`, "https://10.0.0.1/hook"]) {
      let refused: Error | undefined;
      await postWebhook(url, {}, "{}", 2_000, { allowLoopback: false }).catch((err: Error) => (refused = err));
      expect(refused?.message, url).to.match(/public address|must be https|loopback/);
    }
    expect(hook.received.length).to.equal(seen);
    let viaLookup: Error | undefined;
    await postWebhook(`https://localhost:${port}/hook`, {}, "{}", 2_000, { allowLoopback: false }).catch((err: Error) => (viaLookup = err));
    expect(viaLookup?.message).to.match(/localhost resolves to .*loopback/);
    // The same name, allowed (the switch on): the checked address is connected to and the receiver answers.
    expect(await postWebhook(`http://localhost:${port}/hook`, {}, "{}", 2_000, { allowLoopback: true })).to.equal(200);
    expect(hook.received.length).to.equal(seen + 1);

    // A receiver answering with a redirect into the internal network: the status is the answer, nothing follows it.
    const redirect: Server = createServer((_req, res) => {
      res.writeHead(307, { location: hook.url });
      res.end();
    });
    await new Promise<void>((resolve) => redirect.listen(0, "127.0.0.1", resolve));
    try {
      const status = await postWebhook(`http://127.0.0.1:${(redirect.address() as AddressInfo).port}/`, {}, "{}", 2_000, {
        allowLoopback: true,
      });
      expect(status).to.equal(307);
      expect(hook.received.length).to.equal(seen + 1);
    } finally {
      hook.received.splice(seen); // the tests below count only the service's deliveries
      await new Promise<void>((r) => redirect.close(() => r()));
    }
  });

  it("tells the lender that an application waits for its review, by webhook too (HMAC-signed, retried after a failure), and nobody else", async function () {
    const registered = await call(base, "PUT", "/api/webhook", { token: tokens.lender, body: { url: hook.url } });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
    const secret: string = registered.body.secret;
    expect(secret).to.match(/^[0-9a-f]{64}$/);
    // The secret is shown once: never again.
    const shown = await call(base, "GET", "/api/webhook", { token: tokens.lender });
    expect(shown.body.webhook).to.deep.equal({ url: hook.url, createdAt: registered.body.createdAt });
    expect(JSON.stringify(shown.body)).to.not.contain(secret);

    hook.state.status = 500; // the bank's system is down at first
    const created = await call(base, "POST", "/api/applications", {
      token: tokens.supplier,
      body: {
        amount: "100000",
        termDays: 30,
        lender: net.lender.account.address,
        receivableIds: [collateral.toString()],
        scopes: REQUIRED_SCOPES,
      },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const expires = (await net.latestTime()) + 30 * DAY;
    await net.send(net.supplier, "ConsentRegistry", "grant", [net.lender.account.address, REQUIRED_SCOPES, expires, created.body.purpose]);
    const id = `in_review:${created.body.id}`;

    const mine = await until(
      "the lender's notification",
      () => call(base, "GET", "/api/notifications", { token: tokens.lender }),
      (r) => r.body.items?.some((n: { id: string }) => n.id === id),
    );
    const n = mine.body.items.find((x: { id: string }) => x.id === id);
    expect(n).to.include({ kind: "in_review", applicationId: created.body.id, amount: "100000", read: false });
    expect(n.counterparty).to.equal(net.supplier.account.address.toLowerCase());
    for (const who of ["supplier", "lender2"] as const) {
      const other = await call(base, "GET", "/api/notifications", { token: tokens[who] });
      expect(
        other.body.items.map((x: { id: string }) => x.id),
        who,
      ).to.not.include(id);
    }

    await until(
      "a failed attempt",
      () => hook.received.length,
      (c) => c >= 1,
    );
    hook.state.status = 204;
    const log = await until(
      "the delivery",
      () => call(base, "GET", "/api/webhook/deliveries", { token: tokens.lender }),
      (r) => r.body.log?.some((e: { outcome: string }) => e.outcome === "delivered"),
    );
    const entries = log.body.log.filter((e: { notificationId: string }) => e.notificationId === id);
    expect(entries.map((e: { outcome: string }) => e.outcome)).to.include.members(["failed", "delivered"]);
    expect(entries.find((e: { outcome: string }) => e.outcome === "failed").status).to.equal(500);
    expect(log.body.pending).to.equal(0);

    // Every attempt carried the same body, signed with the secret over "<t>.<body>".
    const last = hook.received.at(-1)!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(last.headers[SIGNATURE_HEADER.toLowerCase()]))!;
    expect(v1).to.equal(signPayload(secret, Number(t), last.body));
    expect(signPayload("another secret", Number(t), last.body)).to.not.equal(v1);
    expect(JSON.parse(last.body).notification).to.include({ id, kind: "in_review" });
    expect(new Set(hook.received.map((r) => r.body)).size).to.equal(1);
  });

  it("marks notifications read, durably across a restart", async function () {
    const before = await call(base, "GET", "/api/notifications", { token: tokens.lender });
    expect(before.body.unread).to.be.greaterThan(0);
    const first = before.body.items[0].id;
    const marked = await call(base, "POST", "/api/notifications/read", { token: tokens.lender, body: { ids: [first] } });
    expect(marked.status).to.equal(200);
    expect(marked.body.unread).to.equal(before.body.unread - 1);
    await restart();
    const after = await call(base, "GET", "/api/notifications", { token: tokens.lender });
    expect(after.body.items.find((n: { id: string }) => n.id === first).read).to.equal(true);
    await call(base, "POST", "/api/notifications/read", { token: tokens.lender, body: { all: true } });
    expect((await call(base, "GET", "/api/notifications", { token: tokens.lender })).body.unread).to.equal(0);
  });

  it("tells the borrower a loan is due soon, then both parties that it is overdue; a delivery pending at a restart still arrives", async function () {
    const borrower = net.supplier.account.address.toLowerCase();
    expect(
      (await call(base, "GET", "/api/notifications", { token: tokens.supplier })).body.items.map((n: { id: string }) => n.id),
    ).to.not.include(`due_soon:${loanId}`);
    await time.increaseTo(maturity - 3 * DAY);
    await waitIndexed(service!, net.publicClient);
    const dueSoon = await until(
      "due soon",
      () => call(base, "GET", "/api/notifications", { token: tokens.supplier }),
      (r) => r.body.items.some((n: { id: string }) => n.id === `due_soon:${loanId}`),
    );
    expect(dueSoon.body.items.find((n: { id: string }) => n.id === `due_soon:${loanId}`)).to.include({ kind: "due_soon", due: maturity });
    expect(
      (await call(base, "GET", "/api/notifications", { token: tokens.lender })).body.items.map((n: { id: string }) => n.id),
    ).to.not.include(`due_soon:${loanId}`);

    // The receiver is down when the loan goes overdue; the service restarts with the delivery pending.
    hook.state.status = 503;
    const seen = hook.received.length;
    await time.increaseTo(maturity + 1);
    await waitIndexed(service!, net.publicClient);
    await until(
      "overdue, to the lender",
      () => call(base, "GET", "/api/notifications", { token: tokens.lender }),
      (r) => r.body.items.some((n: { id: string; counterparty: string }) => n.id === `overdue:${loanId}` && n.counterparty === borrower),
    );
    await until(
      "overdue, to the borrower",
      () => call(base, "GET", "/api/notifications", { token: tokens.supplier }),
      (r) => r.body.items.some((n: { id: string }) => n.id === `overdue:${loanId}`),
    );
    await until(
      "a failed overdue delivery",
      () => hook.received.length,
      (c) => c > seen,
    );
    await restart();
    hook.state.status = 200;
    await until(
      "the overdue delivery after the restart",
      () => call(base, "GET", "/api/webhook/deliveries", { token: tokens.lender }),
      (r) =>
        r.body.log?.some(
          (e: { notificationId: string; outcome: string }) => e.notificationId === `overdue:${loanId}` && e.outcome === "delivered",
        ),
    );
    expect(hook.received.filter((r) => JSON.parse(r.body).notification.id === `overdue:${loanId}`).length).to.be.greaterThan(1);
  });
});
