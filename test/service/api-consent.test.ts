/**
 * Issue 13, "consent means what it says": each finding of the penetration test replayed as the
 * attacker's request against the real service (real Hardhat network, real indexer, real express server
 * on port 0), with the refusal or the access-log entry it must now produce; and one count of a lender's
 * reads of every kind (metrics, application, documents, event stream) against the borrower's log.
 */
import { expect } from "chai";
import hre from "hardhat";
import type { Address, PublicClient } from "viem";
import { SCOPE } from "../../node-service/src/chain/eip712";
import { REQUIRED_SCOPES } from "../../node-service/src/applications/service";
import { createMemoryNonceBook, createPostgresNonceBook, createSiweVerifier } from "../../node-service/src/auth/siwe";
import { openDatabase } from "../../node-service/src/store/postgres/db";
import { freshDatabase } from "../../scripts/lib/test-postgres";
import { COUNTERPARTY_METRICS } from "../../node-service/src/api/routes/enterprises";
import type { RunningService } from "../../node-service/src/server";
import {
  DAY,
  call,
  deployNetwork,
  openEventStream,
  postApplication,
  postSignIn,
  removeDir,
  siweMessage,
  signIn,
  signInAll,
  startTestService,
  tempDataDir,
  testConfig,
  waitIndexed,
  type Network,
  type Wallet,
} from "./api-helpers";

type Tokens = Record<"operator" | "supplier" | "supplier2" | "buyer" | "lender" | "lender2" | "auditor" | "outsider", string>;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe("consent means what it says (issue 13)", function () {
  this.timeout(240_000);
  let net: Network;
  let dataDir: string;
  let service: RunningService;
  let base: string;
  let tokens: Tokens;
  let supplier: Address;
  let buyer: Address;
  let lender: Address;
  let lender2: Address;
  let orderId: bigint;
  let loanId: bigint;
  const receivables: string[] = [];
  const receivables2: string[] = [];

  const lower = (w: Wallet) => w.account.address.toLowerCase() as Address;
  const get = (url: string, token?: string) => call(base, "GET", url, { token });
  const logOf = async (enterprise: Address, token: string) => {
    const res = await get(`/api/enterprises/${enterprise}/access-log?limit=1000`, token);
    expect(res.status).to.equal(200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return res.body.items as any[];
  };
  async function indexed() {
    await waitIndexed(service, net.publicClient);
  }
  async function grant(from: Wallet, to: Wallet, scopes: number, purpose = "consent") {
    await net.send(from, "ConsentRegistry", "grant", [to.account.address, scopes, (await net.latestTime()) + 90 * DAY, net.h(purpose)]);
    await indexed();
  }
  async function revoke(from: Wallet, to: Wallet) {
    await net.send(from, "ConsentRegistry", "revoke", [to.account.address]);
    await indexed();
  }
  const apply = (token: string, receivableId: string, to: Address = lender) =>
    postApplication(base, token, { amount: 100_000n, lender: to, receivableIds: [receivableId] });

  before(async function () {
    net = await deployNetwork();
    supplier = lower(net.supplier);
    buyer = lower(net.buyer);
    lender = lower(net.lender);
    lender2 = lower(net.lender2);
    const first = await net.tradeOnce(1_000_000n);
    orderId = first.orderId;
    ({ loanId } = await net.loanOnce(first.receivableId, { principal: 600_000n, repay: 100_000n, receivablePayment: 300_000n }));
    for (let i = 0; i < 4; i++) receivables.push((await net.tradeOnce(500_000n + BigInt(i))).receivableId.toString());
    for (let i = 0; i < 4; i++) receivables2.push((await net.tradeOnce(400_000n + BigInt(i), net.supplier2)).receivableId.toString());
    dataDir = await tempDataDir(net.deployment);
    service = await startTestService(
      testConfig(dataDir, {
        SIGN_INS_PER_MINUTE: 100,
        TRADE_LOOKUPS_PER_MINUTE: 6,
        MAX_OPEN_APPLICATIONS_PER_BORROWER: 2,
        MAX_APPLICATIONS_PER_BORROWER_PER_DAY: 3,
        TRUST_PROXY: true,
      }),
    );
    base = service.url;
    await indexed();
    tokens = await signInAll(base, net, ["operator", "supplier", "supplier2", "buyer", "lender", "lender2", "auditor", "outsider"]);
  });

  after(async function () {
    await service?.close();
    if (dataDir) await removeDir(dataDir);
  });

  // The application the findings 1-3 tests share: supplier -> lender, against a receivable the buyer owes.
  let appId: string;

  describe("finding 1: a debtor's data reaches the lender only as its tier and advance rate", function () {
    it("keeps the buyer's metrics out of the supplier's application, for the lender and the supplier, and logs the tier for the buyer", async function () {
      await grant(net.supplier, net.lender, REQUIRED_SCOPES | SCOPE.documents);
      const created = await apply(tokens.supplier, receivables[0]);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      appId = created.body.id;
      expect(created.body.decision, "decided within the POST under the consent in force").to.be.an("object");

      // The attack: the buyer never consented, so the lender reads its metrics nowhere.
      expect((await get(`/api/enterprises/${buyer}/metrics`, tokens.lender)).status).to.equal(403);
      for (const token of [tokens.lender, tokens.supplier]) {
        const app = await get(`/api/applications/${appId}`, token);
        expect(app.status).to.equal(200);
        expect(app.body.decisionInput).to.not.have.property("debtors");
        expect(app.body.decisionInput.debtorTiers).to.deep.equal({ [buyer]: { tier: "C", advanceRateBps: 7000 } });
        expect(app.body.decision.collateral).to.deep.equal([
          { id: receivables[0], debtor: buyer, tier: "C", advanceRateBps: 7000, outstanding: "500000", advance: "350000", eligible: true },
        ]);
        // The snapshot holds the borrower's data and, of the debtor, its tier only.
        expect(Object.keys(app.body.decisionInput).sort()).to.deep.equal([
          "application",
          "asOf",
          "collateral",
          "debtorTiers",
          "flags",
          "metrics",
        ]);
      }

      const buyerLog = await logOf(buyer, tokens.buyer);
      const tierReads = buyerLog.filter((e) => e.applicationId === appId);
      expect(tierReads.map((e) => [e.reader, e.basis, e.scopes])).to.have.deep.members([
        [lender, "policy", []],
        [supplier, "policy", []],
      ]);
      expect(tierReads[0].resource).to.match(/the debtor's tier and advance rate under policy v1/);
    });
  });

  describe("finding 2: revocation and suspension reach the application record and the event stream", function () {
    it("serves the borrower's snapshot only while consent is in force; the lender keeps its decision record", async function () {
      const before = await get(`/api/applications/${appId}`, tokens.lender);
      expect(before.body.decisionInput.metrics).to.be.an("object");
      expect(before.body.decisionInput.flags).to.be.an("array");
      const decision = before.body.decision;

      await revoke(net.supplier, net.lender);
      // The attack: the record still carried 38 metrics and the flag events after revocation.
      expect((await get(`/api/enterprises/${supplier}/metrics`, tokens.lender)).status).to.equal(403);
      const revoked = await get(`/api/applications/${appId}`, tokens.lender);
      expect(revoked.status).to.equal(200);
      expect(revoked.body).to.not.have.property("decisionInput");
      expect(revoked.body.withheld.decisionInput).to.match(/consent to you is not in force/);
      expect(revoked.body.decision).to.deep.equal(decision);
      expect(revoked.body.decision).to.include.keys("score", "reasons", "inputHash");
      const queue = await get("/api/applications?role=lender", tokens.lender);
      expect(queue.body.applications.every((a: object) => !("decisionInput" in a))).to.equal(true);
      // The borrower's own view is whole.
      expect((await get(`/api/applications/${appId}`, tokens.supplier)).body.decisionInput.metrics).to.be.an("object");

      // Consent back; then the lender suspended: suspension counts as no consent.
      await grant(net.supplier, net.lender, REQUIRED_SCOPES | SCOPE.documents, "again");
      expect((await get(`/api/applications/${appId}`, tokens.lender)).body.decisionInput.metrics).to.be.an("object");
      await net.send(net.operator, "ParticipantRegistry", "suspend", [net.lender.account.address, 1]);
      try {
        const suspended = await get(`/api/applications/${appId}`, tokens.lender);
        expect(suspended.status).to.equal(200);
        expect(suspended.body).to.not.have.property("decisionInput");
        expect(suspended.body.decision).to.deep.equal(decision);
      } finally {
        await net.send(net.operator, "ParticipantRegistry", "reinstate", [net.lender.account.address]);
      }
      expect((await get(`/api/applications/${appId}`, tokens.lender)).body.decisionInput.metrics).to.be.an("object");
    });

    it("ends a lender's event stream when its session ends", async function () {
      const session = await signIn(base, net.lender);
      const stream = openEventStream(base, session);
      try {
        await new Promise((r) => setTimeout(r, 200));
        expect((await call(base, "POST", "/api/auth/logout", { token: session })).status).to.equal(200);
        await until("the stream to end after logout", () => stream.state.closed);
        expect(stream.state.ended).to.equal("session_ended");
      } finally {
        await stream.close();
      }
    });

    it("ends a lender's event stream when the consent it carried data under is revoked, and sends nothing after", async function () {
      const stream = openEventStream(base, tokens.lender);
      try {
        await new Promise((r) => setTimeout(r, 200));
        // An update to the application (the borrower contests the automatic decline) goes out with the snapshot, under consent.
        expect((await get(`/api/applications/${appId}`, tokens.supplier)).body.status).to.equal("declined");
        const contested = await call(base, "POST", `/api/applications/${appId}/contest`, {
          token: tokens.supplier,
          body: { reason: "my buyers pay on time" },
        });
        expect(contested.status).to.equal(200);
        await until("the update on the stream", () => stream.events.length > 0);
        expect(stream.events[0].decisionInput.metrics).to.be.an("object");
        await revoke(net.supplier, net.lender);
        await until("the stream to end after revocation", () => stream.state.closed);
        expect(stream.state.ended).to.equal("consent_ended");
        expect(stream.events).to.have.length(1);
      } finally {
        await stream.close();
        await grant(net.supplier, net.lender, REQUIRED_SCOPES | SCOPE.documents, "third");
      }
    });
  });

  describe("finding 3: every read by someone else is in the access log", function () {
    it("counts a lender's reads of every kind (metrics, application, documents, stream) and finds as many entries in the borrower's log", async function () {
      // A document of the supplier, linked to its order, for the lender to read under the documents scope.
      const up = await fetch(`${base}/api/documents?kind=invoice&linkType=order&linkId=${orderId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.supplier}`, "content-type": "application/octet-stream" },
        body: new TextEncoder().encode("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"),
      });
      expect(up.status).to.be.oneOf([200, 201]);
      const sha = ((await up.json()) as { sha256: string }).sha256;
      const created = await apply(tokens.supplier, receivables[1]);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const id = created.body.id;

      const stream = openEventStream(base, tokens.lender);
      try {
        await new Promise((r) => setTimeout(r, 200));
        const start = (await logOf(supplier, tokens.supplier)).length;
        let reads = 0;
        const served = (res: { status: number }) => {
          expect(res.status).to.equal(200);
          reads++;
        };
        served(await get(`/api/enterprises/${supplier}/metrics?application=${id}`, tokens.lender));
        served(await get(`/api/enterprises/${supplier}/series`, tokens.lender));
        const app = await get(`/api/applications/${id}`, tokens.lender);
        expect(app.body.decisionInput.metrics).to.be.an("object");
        served(app);
        const queue = await get("/api/applications?role=lender", tokens.lender);
        expect(queue.status).to.equal(200);
        reads += queue.body.applications.filter((a: object) => "decisionInput" in a).length;
        served(await get(`/api/documents/${sha}`, tokens.lender));
        served(await get(`/api/documents/${sha}?download=1`, tokens.lender));
        // An update pushed to the lender's stream, carrying the snapshot.
        expect(
          (await call(base, "POST", `/api/applications/${id}/contest`, { token: tokens.supplier, body: { reason: "please look again" } }))
            .status,
        ).to.equal(200);
        await until("the contest on the stream", () => stream.events.some((e) => e.id === id && e.status === "in_review"));
        reads += stream.events.filter((e) => "decisionInput" in e).length;

        const entries = (await logOf(supplier, tokens.supplier)).slice(0, (await logOf(supplier, tokens.supplier)).length - start);
        const byLender = entries.filter((e) => e.reader === lender);
        expect(byLender).to.have.length(reads);
        expect(new Set(byLender.map((e) => e.resource))).to.deep.equal(
          new Set([
            "GET /api/enterprises/:address/metrics",
            "GET /api/enterprises/:address/series",
            "GET /api/applications/:id",
            "GET /api/applications",
            "GET /api/documents/:sha256",
            "GET /api/documents/:sha256?download=1",
            "GET /api/events",
          ]),
        );
        expect(byLender.every((e) => e.basis === "consent" && e.consent.scopes.includes("metrics"))).to.equal(true);
        expect(byLender.find((e) => e.resource === "GET /api/applications/:id").applicationId).to.equal(id);
        expect(byLender.find((e) => e.resource === "GET /api/enterprises/:address/metrics").applicationId).to.equal(id);
      } finally {
        await stream.close();
      }
      // Both contested applications out of the way of the open-applications bound.
      for (const open of [id, appId])
        expect((await call(base, "POST", `/api/applications/${open}/withdraw`, { token: tokens.supplier })).status).to.equal(200);
    });

    it("logs the operator's application reads and an auditor's document download, and refuses a made-up application id", async function () {
      const start = (await logOf(supplier, tokens.supplier)).length;
      expect((await get(`/api/applications/${appId}`, tokens.operator)).status).to.equal(200);
      const docs = await get("/api/documents", tokens.supplier);
      const sha = docs.body.documents[0].sha256;
      expect((await get(`/api/documents/${sha}?download=1`, tokens.auditor)).status).to.equal(200);
      // The attack: a lender writing an application id of its choosing, another borrower's, or another lender's into the log.
      const supplier2 = lower(net.supplier2);
      const other = await apply(tokens.supplier2, receivables2[0], lender2);
      expect(other.status, JSON.stringify(other.body)).to.equal(201);
      const attempts: [string, Address, string][] = [
        [tokens.lender2, supplier2, "3f0c3a4e-0000-4000-8000-000000000000"],
        [tokens.lender2, supplier2, "made-up purpose"],
        [tokens.lender2, supplier2, appId],
        [tokens.lender, supplier2, other.body.id],
        [tokens.lender, supplier, other.body.id],
      ];
      for (const [token, enterprise, application] of attempts) {
        const res = await get(`/api/enterprises/${enterprise}/metrics?application=${encodeURIComponent(application)}`, token);
        expect(res.status, application).to.equal(400);
        expect(res.body.error.field).to.equal("application");
      }
      const entries = (await logOf(supplier, tokens.supplier)).slice(0, (await logOf(supplier, tokens.supplier)).length - start);
      expect(entries.map((e) => [e.reader, e.basis, e.resource])).to.have.deep.members([
        [lower(net.operator), "operator", "GET /api/applications/:id"],
        [lower(net.auditor), "auditor", "GET /api/documents/:sha256?download=1"],
      ]);
      expect((await logOf(supplier2, tokens.supplier2)).filter((e) => e.reader === lender || e.reader === lender2)).to.deep.equal([]);
      await call(base, "POST", `/api/applications/${other.body.id}/withdraw`, { token: tokens.supplier2 });
    });
  });

  describe("finding 4: walking trade needs a member's session, a per-account rate and leaves a log entry", function () {
    it("refuses anonymous and non-member order and receivable lookups; logs a member's for both parties; rate-limits per account", async function () {
      for (const url of [
        `/api/evidence/order/${orderId}`,
        `/api/evidence/receivable/${receivables[0]}`,
        `/api/evidence/bundle/order/${orderId}`,
        `/api/evidence/bundle/receivable/${receivables[0]}`,
      ]) {
        expect((await get(url)).status, url).to.equal(401);
        expect((await get(url, tokens.outsider)).status, url).to.equal(403);
      }
      const supplierStart = (await logOf(supplier, tokens.supplier)).length;
      const buyerStart = (await logOf(buyer, tokens.buyer)).length;
      expect((await get(`/api/evidence/order/${orderId}`, tokens.lender2)).status).to.equal(200);
      expect((await get(`/api/evidence/bundle/receivable/${receivables[0]}`, tokens.lender2)).status).to.equal(200);
      const supplierNew = (await logOf(supplier, tokens.supplier)).slice(
        0,
        (await logOf(supplier, tokens.supplier)).length - supplierStart,
      );
      const buyerNew = (await logOf(buyer, tokens.buyer)).slice(0, (await logOf(buyer, tokens.buyer)).length - buyerStart);
      for (const entries of [supplierNew, buyerNew]) {
        expect(entries.map((e) => [e.reader, e.basis, e.resource])).to.have.deep.members([
          [lender2, "member", "GET /api/evidence/order/:id"],
          [lender2, "member", "GET /api/evidence/bundle/:kind/:id"],
        ]);
      }
      // The attack: walking ids. Six lookups a minute per account (this service's setting), then 429 for that account only.
      let status = 200;
      for (let id = 1; status === 200 && id <= 20; id++) status = (await get(`/api/evidence/order/${id}`, tokens.lender2)).status;
      expect(status).to.equal(429);
      expect((await get(`/api/evidence/order/${orderId}`, tokens.auditor)).status).to.equal(200);
      // What one holds stays checkable by anyone: an agreement, a transaction, a hash.
      expect((await get(`/api/evidence/agreement/${loanId}`)).status).to.equal(200);
      expect((await get(`/api/evidence/bundle/agreement/${loanId}`)).status).to.equal(200);
      expect((await get(`/api/evidence/${"ab".repeat(32)}`)).body.anchored).to.equal(false);
    });
  });

  describe("finding 5: no cross-site state changes", function () {
    it("refuses a withdrawal with a foreign Origin, without an Origin when the cookie authenticates, and with a text/plain body", async function () {
      const created = await apply(tokens.supplier, receivables[2]);
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      // Declined automatically (a thin history); contested (with the bearer token), it can be withdrawn.
      expect(
        (
          await call(base, "POST", `/api/applications/${created.body.id}/contest`, {
            token: tokens.supplier,
            body: { reason: "look again" },
          })
        ).status,
      ).to.equal(200);
      const url = `${base}/api/applications/${created.body.id}/withdraw`;
      const cookie = `scf_session=${tokens.supplier}`;
      const post = (headers: Record<string, string>, body?: string) =>
        fetch(url, { method: "POST", headers: { cookie, ...headers }, body });
      // The attack as found: a foreign page's form-like request, text/plain, riding the cookie.
      const foreign = await post({ origin: "https://evil.example", "content-type": "text/plain" }, "x");
      expect(foreign.status).to.equal(403);
      expect(((await foreign.json()) as { error: { code: string; field: string } }).error).to.include({
        code: "cross_origin",
        field: "origin",
      });
      expect((await post({})).status).to.equal(403);
      expect((await post({ origin: "null" })).status).to.equal(403);
      const textPlain = await post({ origin: base, "content-type": "text/plain" }, "x");
      expect(textPlain.status).to.equal(415);
      expect((await get(`/api/applications/${created.body.id}`, tokens.supplier)).body.status).to.not.equal("withdrawn");
      // The sign-in itself is not forgeable cross-site either (login CSRF).
      const verify = await postSignIn(base, net.outsider, { headers: { origin: "https://evil.example" } });
      expect(verify.status).to.equal(403);
      // Same origin and JSON: accepted.
      const ok = await post({ origin: base });
      expect(ok.status).to.equal(200);
      expect(((await ok.json()) as { status: string }).status).to.equal("withdrawn");
    });
  });

  describe("finding 6: sign-in details", function () {
    const verify = (fields: Parameters<typeof siweMessage>[2]) => postSignIn(base, net.outsider, { fields });

    it("refuses a foreign URI and an Issued At a year ahead, allows a small clock skew, and echoes no parser state", async function () {
      const foreignUri = await verify({ uri: "https://evil.example/login" });
      expect(foreignUri.status).to.equal(401);
      expect(foreignUri.body.error.message).to.match(/URI is not on this service's origin/);
      expect(foreignUri.body.error.text).to.deep.equal({ textCode: "siwe_wrong_uri", params: { domain: new URL(base).host } });
      const future = await verify({ issuedAt: new Date(Date.now() + 365 * DAY * 1000) });
      expect(future.status).to.equal(401);
      expect(future.body.error.message).to.match(/Issued At is in the future/);
      expect(future.body.error.text).to.deep.equal({ textCode: "siwe_issued_in_future", params: {} });
      expect((await verify({ issuedAt: new Date(Date.now() + 30_000) })).status).to.equal(200);
      const garbage = await call(base, "POST", "/api/auth/verify", {
        body: { message: 'example.com wants you to sign in\n\nnonsense {"x":1}', signature: "0x1234" },
      });
      expect(garbage.status).to.equal(400);
      expect(garbage.body.error).to.deep.equal({
        code: "invalid_input",
        message: "not an EIP-4361 message: missing or malformed domain, address, uri, version, chainId, nonce, issuedAt",
        field: "message",
        text: { textCode: "siwe_message_missing", params: { fields: "domain, address, uri, version, chainId, nonce, issuedAt" } },
      });
    });
  });

  describe("finding 7: bounds per account", function () {
    it("bounds a borrower's open applications and its applications a day", async function () {
      // supplier2 has none open (its earlier one was withdrawn) and made one today; this service allows 2 open, 3 a day.
      const a = await apply(tokens.supplier2, receivables2[1], lender2);
      const b = await apply(tokens.supplier2, receivables2[2], lender2);
      expect([a.status, b.status]).to.deep.equal([201, 201]);
      const third = await apply(tokens.supplier2, receivables2[3], lender2);
      expect(third.status).to.equal(429);
      expect(third.body.error.message).to.match(/2 open applications/);
      expect(third.body.error.text).to.deep.equal({ textCode: "too_many_open", params: { max: "2" } });
      await call(base, "POST", `/api/applications/${a.body.id}/withdraw`, { token: tokens.supplier2 });
      const perDay = await apply(tokens.supplier2, receivables2[3], lender2);
      expect(perDay.status).to.equal(429);
      expect(perDay.body.error.message).to.match(/3 applications in the last 24 hours/);
      expect(perDay.body.error.text).to.deep.equal({ textCode: "too_many_today", params: { max: "3" } });
      await call(base, "POST", `/api/applications/${b.body.id}/withdraw`, { token: tokens.supplier2 });
    });

    it("keeps a waiting user's nonce through a flood of nonce requests from another client, whose rate is capped", async function () {
      const waiting = await call(base, "GET", "/api/auth/nonce", { headers: { "x-forwarded-for": "10.0.0.1" } });
      const flood: number[] = [];
      for (let i = 0; i < 150; i++)
        flood.push((await call(base, "GET", "/api/auth/nonce", { headers: { "x-forwarded-for": "10.0.0.2" } })).status);
      // This service allows 100 sign-in requests a minute per client; the flood's own nonces are capped at 8 outstanding.
      expect(flood.slice(0, 100).every((s) => s === 200)).to.equal(true);
      expect(flood.slice(100).every((s) => s === 429)).to.equal(true);
      expect((await postSignIn(base, net.buyer, { fields: { nonce: waiting.body.nonce } })).status).to.equal(200);
    });

    for (const where of ["memory", "PostgreSQL"] as const)
      it(`caps open nonces per client and in all, refusing new ones (429) rather than evicting a waiting user's (nonces in ${where})`, async function () {
        const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
        const bounds = { maxOutstanding: 10, maxPerClient: 3 };
        const db = where === "PostgreSQL" ? await openDatabase(await freshDatabase(), { max: 2 }) : undefined;
        try {
          const nonces = db ? createPostgresNonceBook(db, bounds) : createMemoryNonceBook(bounds);
          const siwe = createSiweVerifier({ publicClient, chainId: 31337, nonces });
          const waiting = await siwe.issueNonce("waiting");
          for (let i = 0; i < 50; i++) await siwe.issueNonce("flooder");
          expect(await siwe.outstanding()).to.equal(4);
          for (let i = 0; i < 6; i++) await siwe.issueNonce(`client-${i}`);
          expect(await siwe.outstanding()).to.equal(10);
          const refused = await siwe.issueNonce("one-more").then(
            () => undefined,
            (err: unknown) => err,
          );
          expect((refused as Error).message).to.match(/too many sign-ins are in progress/);
          expect((refused as { status: number; text: unknown }).status).to.equal(429);
          expect((refused as { text: unknown }).text).to.deep.equal({ textCode: "too_many_sign_ins", params: {} });
          const domain = new URL(base).host;
          const message = await siweMessage(base, net.buyer.account.address, { nonce: waiting });
          const signature = await net.buyer.signMessage({ message, account: net.buyer.account });
          const { address } = await siwe.verify({ message, signature, domains: [domain] });
          expect(address).to.equal(buyer);
          // Taken once: the same message again is refused.
          const again = await siwe.verify({ message, signature, domains: [domain] }).then(
            () => undefined,
            (err: { text?: { textCode: string } }) => err,
          );
          expect(again?.text?.textCode).to.equal("siwe_nonce_unknown");
          expect(await siwe.outstanding()).to.equal(9);
        } finally {
          await db?.close();
        }
      });
  });

  describe("finding 8: the small ones", function () {
    it("refuses an out-of-range asOf with 400 and logs nothing", async function () {
      const start = (await logOf(supplier, tokens.supplier)).length;
      for (const route of ["metrics", "series"]) {
        const res = await get(`/api/enterprises/${supplier}/${route}?asOf=8640000000000`, tokens.lender);
        expect(res.status).to.equal(400);
        expect(res.body.error.field).to.equal("asOf");
      }
      expect(await logOf(supplier, tokens.supplier)).to.have.length(start);
    });

    it("serves the counterparty metrics only under the counterparties scope", async function () {
      const without = await get(`/api/enterprises/${supplier}/metrics`, tokens.lender);
      expect(without.status).to.equal(200);
      expect(COUNTERPARTY_METRICS.length).to.be.greaterThan(0);
      for (const key of COUNTERPARTY_METRICS) expect(without.body.values).to.not.have.property(key);
      expect(without.body.hidden).to.have.members([...COUNTERPARTY_METRICS]);
      const app = await get(`/api/applications/${appId}`, tokens.lender);
      for (const key of COUNTERPARTY_METRICS) expect(app.body.decisionInput.metrics).to.not.have.property(key);
      await grant(net.supplier, net.lender, REQUIRED_SCOPES | SCOPE.documents | SCOPE.counterparties, "with counterparties");
      const withScope = await get(`/api/enterprises/${supplier}/metrics`, tokens.lender);
      for (const key of COUNTERPARTY_METRICS) expect(withScope.body.values).to.have.property(key);
      expect(withScope.body).to.not.have.property("hidden");
      const own = await get(`/api/enterprises/${supplier}/metrics`, tokens.supplier);
      for (const key of COUNTERPARTY_METRICS) expect(own.body.values).to.have.property(key);
    });

    it("answers OPTIONS with 204, the route's methods in Allow, no body and no CORS headers", async function () {
      const res = await fetch(`${base}/api/applications/${appId}/withdraw`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      expect(res.status).to.equal(204);
      expect(res.headers.get("allow")).to.equal("OPTIONS, POST");
      expect(res.headers.get("content-type")).to.equal(null);
      expect(res.headers.get("access-control-allow-origin")).to.equal(null);
      expect(await res.text()).to.equal("");
      const unknown = await fetch(`${base}/api/nothing-here`, { method: "OPTIONS" });
      expect(unknown.status).to.equal(404);
      expect(unknown.headers.get("content-type")).to.match(/^application\/json/);
    });
  });
});
