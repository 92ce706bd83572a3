/**
 * Loan applications end to end: a trade history built with the real contracts on the in-process
 * Hardhat network, the real service (indexer, API, applications) over HTTP with an AUDITOR as its
 * service account, and the parties' own wallets signing and paying on chain. Policy v1 approves one
 * supplier automatically, refers another (a related party acknowledged one of its receivables) and
 * declines a third (its orders run in a cycle).
 */
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { createHash } from "node:crypto";
import { custom, getAddress, parseEventLogs, type EIP1193RequestFn, type Hex, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { pino } from "pino";
import { abiOf } from "../../node-service/src/chain/contracts";
import { ROLE, SCOPE } from "../../node-service/src/chain/eip712";
import { startService, type RunningService } from "../../node-service/src/server";
import { REQUIRED_SCOPES, KIND_DECISION } from "../../node-service/src/applications/service";
import { STEPS } from "../../node-service/src/applications/types";
import { decide, decisionFromJson, decisionHash, decisionInputFromJson, decisionToJson } from "../../node-service/src/underwriting/decide";
import { CURRENT_POLICY } from "../../node-service/src/underwriting/policy";
import { call, openEventStream, postApplication, removeDir, signIn, signInEach, tempDataDir, testConfig } from "./api-helpers";
import {
  DAY,
  admit,
  createDeliveredOrder,
  createOrder,
  deployContracts,
  docHash,
  eventsIn,
  fundAndApprove,
  issueConfirmedReceivable,
  send,
  type Net,
  type Wallet,
} from "../../scripts/lib/chain-helpers";
import { kycAttributeHash, type AttributeKind } from "../../node-service/src/domain/kyc-attributes";

/** Keyed KYC attribute hashes as the operator registers them (a test key). */
const kyc = (kind: AttributeKind, value: string) => kycAttributeHash(Buffer.alloc(32, 3), kind, value);

const FACE = 1_000_000n; // 10,000.00 per receivable
const ROUNDS = 5;

/**
 * Three suppliers each sell to the same three buyers every 45 days for five rounds: delivered on time,
 * completed, invoiced, acknowledged and paid 20 days after issue. The last round stays unpaid (the
 * collateral). Then S2 sells once to a buyer that shares its legal representative (refer), and S3's
 * orders run in a cycle S3 -> X -> Y -> S3 (decline).
 */
async function network() {
  const publicClient = (await hre.viem.getPublicClient()) as unknown as PublicClient;
  const wallets = (await hre.viem.getWalletClients()) as unknown as Wallet[];
  const [operator, auditor, s1, s2, s3, b1, b2, b3, lender, lender2, x, y, related, outsider] = wallets;
  const net: Net = { publicClient, deployment: await deployContracts(publicClient, operator) };
  const trader = ROLE.SUPPLIER | ROLE.BUYER;
  await admit(net, operator, [
    ...[s1, s2, s3, x, y].map((w, i) => ({
      account: w.account.address,
      roles: trader,
      kycAttributes: [kyc("legal_representative", `trader ${i}`)],
    })),
    ...[b1, b2, b3].map((w, i) => ({
      account: w.account.address,
      roles: ROLE.BUYER,
      kycAttributes: [kyc("legal_representative", `buyer ${i}`)],
    })),
    // Shares S2's legal representative.
    { account: related.account.address, roles: ROLE.BUYER, kycAttributes: [kyc("legal_representative", "Trader 1")] },
    { account: lender.account.address, roles: ROLE.LENDER },
    { account: lender2.account.address, roles: ROLE.LENDER },
    { account: auditor.account.address, roles: ROLE.AUDITOR },
  ]);
  for (const b of [b1, b2, b3, related]) await fundAndApprove(net, operator, b, 10n ** 12n, "Receivables");
  await fundAndApprove(net, operator, lender, 10n ** 12n, "LoanAgreements");
  await fundAndApprove(net, operator, lender2, 10n ** 12n, "LoanAgreements");

  const collateral = new Map<Wallet, { id: string; buyer: Wallet }[]>([
    [s1, []],
    [s2, []],
    [s3, []],
  ]);
  for (let round = 0; round < ROUNDS; round++) {
    const invoices: { buyer: Wallet; id: bigint; supplier: Wallet }[] = [];
    for (const supplier of [s1, s2, s3]) {
      for (const buyer of [b1, b2, b3]) {
        const orderId = await createDeliveredOrder(net, { buyer, supplier, amount: FACE, complete: true });
        const r = await issueConfirmedReceivable(net, { supplier, buyer, orderId, faceValue: FACE });
        invoices.push({ buyer, supplier, id: r.receivableId });
      }
    }
    if (round === ROUNDS - 1) {
      for (const i of invoices) collateral.get(i.supplier)!.push({ id: i.id.toString(), buyer: i.buyer });
      break;
    }
    await time.increase(20 * DAY);
    for (const i of invoices) await send(net, i.buyer, "Receivables", "pay", [i.id, FACE]);
    await time.increase(25 * DAY);
  }
  const relatedOrder = await createDeliveredOrder(net, { buyer: related, supplier: s2, amount: FACE, complete: true });
  const relatedReceivable = (
    await issueConfirmedReceivable(net, { supplier: s2, buyer: related, orderId: relatedOrder, faceValue: FACE })
  ).receivableId.toString();
  // A ring that carries real value (the screen weighs cycles by value: each leg here is a fifth of s3's trade).
  await createOrder(net, { buyer: s3, supplier: x.account.address, amount: 5n * FACE });
  await createOrder(net, { buyer: x, supplier: y.account.address, amount: 5n * FACE });
  await createOrder(net, { buyer: y, supplier: s3.account.address, amount: 5n * FACE });
  return { net, operator, auditor, s1, s2, s3, b1, b2, b3, lender, lender2, x, y, related, outsider, collateral, relatedReceivable };
}

type Fixture = Awaited<ReturnType<typeof network>>;

async function startOn(f: Fixture, dataDir: string): Promise<RunningService> {
  return startService(testConfig(dataDir), {
    transport: custom(hre.network.provider as unknown as { request: EIP1193RequestFn }),
    serviceAccount: f.auditor.account.address,
  });
}

/** Polls the application as `token` until `until` holds. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function waitFor(base: string, token: string, id: string, until: (app: any) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(base, "GET", `/api/applications/${id}`, { token });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    if (until(res.body)) return res.body;
    if (Date.now() > deadline)
      throw new Error(
        `application ${id} never reached "${what}": ${res.body.status}, ${res.body.timeline.map((t: { step: string }) => t.step).join(" > ")}`,
      );
    await new Promise((r) => setTimeout(r, 30));
  }
}

const status = (s: string) => (app: { status: string }) => app.status === s;

/** The borrower's on-chain consent to the lender for this application (purpose = application.purpose). */
async function grantConsent(f: Fixture, borrower: Wallet, app: { lender: string; scopes: number; purpose: Hex }, lender = app.lender) {
  const expires = Number((await f.net.publicClient.getBlock()).timestamp) + 90 * DAY;
  return send(f.net, borrower, "ConsentRegistry", "grant", [lender, app.scopes, expires, app.purpose]);
}

/** The offer's typed data as the API gives it (uints as decimal strings), ready for viem to sign. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function typedDataFromJson(td: any) {
  const m = td.message;
  return {
    domain: td.domain,
    types: td.types,
    primaryType: "LoanTerms" as const,
    message: {
      ...m,
      principal: BigInt(m.principal),
      rateBps: BigInt(m.rateBps),
      start: BigInt(m.start),
      maturity: BigInt(m.maturity),
      collateral: (m.collateral as string[]).map((c) => BigInt(c)),
      nonce: BigInt(m.nonce),
      deadline: BigInt(m.deadline),
    },
  };
}

async function signOffer(base: string, token: string, id: string, wallet: Wallet): Promise<Hex> {
  const offer = await call(base, "GET", `/api/applications/${id}/offer`, { token });
  expect(offer.status, JSON.stringify(offer.body)).to.equal(200);
  return wallet.signTypedData({ account: wallet.account, ...typedDataFromJson(offer.body.typedData) } as never);
}

/** Apply as `borrower` for `amount` against `receivableIds` (all required scopes). */
function apply(base: string, token: string, f: Fixture, receivableIds: string[], amount: bigint, termDays = 30, lender = f.lender) {
  return postApplication(base, token, { amount, termDays, lender: lender.account.address, receivableIds });
}

/** s1 signs in and applies for 2,000,000 over 60 days against all its receivables: its session token and the answer. */
async function signInAndApplyWithAll(base: string, f: Fixture) {
  const tS1 = await signIn(base, f.s1 as never);
  const created = await apply(
    base,
    tS1,
    f,
    f.collateral.get(f.s1)!.map((c) => c.id),
    2_000_000n,
    60,
  );
  return { tS1, created };
}

describe("loan applications from application to closed loan (real chain, real server)", function () {
  this.timeout(240_000);
  let service: RunningService | undefined;
  let dataDir: string | undefined;

  /** s1's consent to the lender before any application (so a POST decides at once), once the index holds it. */
  async function grantStandingConsent(f: Fixture) {
    await grantConsent(f, f.s1, { lender: f.lender.account.address, scopes: REQUIRED_SCOPES, purpose: docHash("standing consent") });
    while (!service!.indexer.state().consents[`${f.s1.account.address.toLowerCase()}:${f.lender.account.address.toLowerCase()}`]) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  afterEach(async () => {
    await service?.close();
    service = undefined;
    if (dataDir) await removeDir(dataDir);
    dataDir = undefined;
  });

  async function start(f: Fixture): Promise<string> {
    dataDir = await tempDataDir(f.net.deployment);
    service = await startOn(f, dataDir);
    return service.url;
  }

  it("auto-approves a clean supplier, and the loan runs from offer to repaid and closed by itself", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS1, tLender, tBuyer] = await signInEach(base, f.s1, f.lender, f.b1);

    const prefill = await call(base, "GET", "/api/applications/prefill", { token: tS1 });
    expect(prefill.status).to.equal(200);
    const mine = f.collateral.get(f.s1)!;
    expect(prefill.body.receivables.map((r: { id: string }) => r.id)).to.deep.equal(mine.map((c) => c.id));
    expect(prefill.body.requiredScopes).to.equal(REQUIRED_SCOPES);

    const pledged = mine[0];
    const created = await apply(base, tS1, f, [pledged.id], 500_000n, 30);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.status).to.equal("submitted");
    const id: string = created.body.id;

    const consent = await grantConsent(f, f.s1, created.body);
    const offered = await waitFor(base, tS1, id, status("offer_issued"), "offer_issued");
    expect(offered.decision.outcome).to.equal("approve");
    expect(offered.timeline.find((t: { step: string }) => t.step === "consent_granted")).to.include({
      txHash: consent.transactionHash,
      actor: f.s1.account.address.toLowerCase(),
    });

    // The lender sees it in its queue; the underwriting read is in the borrower's access log.
    const queue = await call(base, "GET", "/api/applications?role=lender", { token: tLender });
    expect(queue.body.applications.map((a: { id: string }) => a.id)).to.deep.equal([id]);
    const log = await call(base, "GET", `/api/enterprises/${f.s1.account.address.toLowerCase()}/access-log`, { token: tS1 });
    expect(log.status).to.equal(200);
    const reads = log.body.items.filter((e: { applicationId?: string }) => e.applicationId === id);
    const read = reads.find((e: { resource: string }) => e.resource.startsWith("underwriting"));
    expect(read).to.include({ reader: f.lender.account.address.toLowerCase(), basis: "consent" });
    expect(read.scopes).to.have.members(["orderHistory", "receivables", "paymentHistory", "metrics", "riskFlags"]);
    // The lender's queue served the decision snapshot: that read is logged too.
    expect(reads.find((e: { resource: string }) => e.resource === "GET /api/applications")).to.include({
      reader: f.lender.account.address.toLowerCase(),
      basis: "consent",
    });

    // The agreement document is the one whose sha256 the terms carry.
    const doc = await call(base, "GET", `/api/applications/${id}/agreement-document`, { token: tS1 });
    expect(doc.status).to.equal(200);
    const docSha = `0x${createHash("sha256")
      .update(doc.body as string)
      .digest("hex")}`;
    expect(docSha).to.equal(offered.offer.terms.documentHash).and.to.equal(offered.offer.documentSha256);

    const borrowerSig = await signOffer(base, tS1, id, f.s1);
    const signed = await call(base, "POST", `/api/applications/${id}/signatures`, { token: tS1, body: { signature: borrowerSig } });
    expect(signed.status, JSON.stringify(signed.body)).to.equal(200);
    expect(signed.body.status).to.equal("signed_by_borrower");
    const lenderSig = await signOffer(base, tLender, id, f.lender);
    const lenderEvents = openEventStream(base, tLender);
    await lenderEvents.connected;
    const countersigned = await call(base, "POST", `/api/applications/${id}/signatures`, {
      token: tLender,
      body: { signature: lenderSig },
    });
    expect(countersigned.status, JSON.stringify(countersigned.body)).to.equal(200);

    const recorded = await waitFor(base, tS1, id, status("countersigned_notarized"), "countersigned_notarized");
    // The answer is the record before the chain recorded the agreement; the live events may deliver the
    // recorded agreement before the answer arrives. Each copy carries its revision, so the page keeps the
    // newer one (web/src/hooks/applications.ts newerOf) instead of going back to "Countersign".
    const deadline = Date.now() + 10_000;
    while (!lenderEvents.events.some((e) => e.id === id && e.status === "countersigned_notarized") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await lenderEvents.close();
    const pushed = lenderEvents.events.filter((e) => e.id === id);
    const revisions = pushed.map((e) => e.revision);
    expect(
      revisions.every((r, i) => Number.isInteger(r) && (i === 0 || r > revisions[i - 1])),
      `revisions ${revisions}`,
    ).to.equal(true);
    const pushedRecorded = pushed.find((e) => e.status === "countersigned_notarized");
    expect(pushedRecorded, "the recorded agreement on the lender's event stream").to.not.equal(undefined);
    expect(countersigned.body.status).to.equal("signed_by_borrower");
    expect(countersigned.body.revision).to.be.a("number").and.to.be.lessThan(pushedRecorded.revision);
    expect(recorded.revision).to.be.at.least(pushedRecorded.revision);
    const notarized = recorded.timeline.find((t: { step: string }) => t.step === "countersigned_notarized");
    expect(notarized.actor).to.equal(f.auditor.account.address.toLowerCase());
    const receipt = await f.net.publicClient.getTransactionReceipt({ hash: notarized.txHash });
    const [event] = parseEventLogs({ abi: abiOf("LoanAgreements"), logs: receipt.logs, eventName: "AgreementRecorded" }) as unknown as {
      args: { loanId: bigint; terms: { documentHash: Hex; principal: bigint; collateral: readonly bigint[] }; submitter: string };
    }[];
    expect(event.args.loanId.toString()).to.equal(recorded.loanId);
    expect(event.args.terms.documentHash).to.equal(docSha);
    expect(event.args.terms.principal).to.equal(500_000n);
    expect(event.args.terms.collateral).to.deep.equal([BigInt(pledged.id)]);
    expect(event.args.submitter.toLowerCase()).to.equal(f.auditor.account.address.toLowerCase());

    const loanId = BigInt(recorded.loanId);
    await send(f.net, f.lender, "LoanAgreements", "disburse", [loanId]);
    await waitFor(base, tLender, id, status("disbursed"), "disbursed");

    // The buyer pays the pledged receivable in full; the waterfall repays the loan first.
    expect((await call(base, "GET", `/api/applications/${id}`, { token: tBuyer })).status).to.equal(404);
    await send(f.net, pledged.buyer, "Receivables", "pay", [BigInt(pledged.id), FACE]);
    const closed = await waitFor(base, tS1, id, status("closed"), "closed");
    const loan = (await f.net.publicClient.readContract({
      address: f.net.deployment.contracts.LoanAgreements,
      abi: abiOf("LoanAgreements"),
      functionName: "getLoan",
      args: [loanId],
    })) as { status: number };
    expect(loan.status).to.equal(3); // Repaid

    expect(closed.steps.map((s: { step: string; done: boolean }) => [s.step, s.done])).to.deep.equal(STEPS.map((s) => [s, true]));
    // Each step once, in order: the request and the indexer's reconcile never both advanced it.
    expect(closed.timeline.map((t: { step: string }) => t.step)).to.deep.equal([...STEPS]);
    for (const step of STEPS) {
      const entry = closed.timeline.find((t: { step: string }) => t.step === step);
      expect(entry, step).to.exist;
      expect(entry.at, step).to.be.a("number").greaterThan(0);
      expect(entry.actor, step).to.match(/^(0x[0-9a-f]{40}|service)$/);
    }
    for (const step of ["consent_granted", "countersigned_notarized", "disbursed", "closed"]) {
      expect(closed.timeline.find((t: { step: string }) => t.step === step).txHash, step).to.match(/^0x[0-9a-f]{64}$/);
    }
    expect(closed.timeline.find((t: { step: string }) => t.step === "disbursed").actor).to.equal(f.lender.account.address.toLowerCase());
    // Dated in the order they happened, whichever clock dated them; a chain step keeps its block time too.
    for (let i = 1; i < closed.timeline.length; i++)
      expect(closed.timeline[i].at, closed.timeline[i].step).to.be.at.least(closed.timeline[i - 1].at);
    const recordedBlock = await f.net.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect(notarized.blockTime).to.equal(Number(recordedBlock.timestamp));
    expect(closed.steps.map((s: { state: string }) => s.state)).to.deep.equal(STEPS.map(() => "done"));
  });

  it("refers a supplier whose receivable a related party acknowledged; the named lender changes the terms with a reason, stored next to the automatic decision", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS2, tLender, tLender2] = await signInEach(base, f.s2, f.lender, f.lender2);
    const ids = [f.collateral.get(f.s2)![0].id, f.relatedReceivable];
    const created = await apply(base, tS2, f, ids, 1_000_000n, 30);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id;
    await grantConsent(f, f.s2, created.body);
    const referred = await waitFor(base, tS2, id, status("in_review"), "in_review");
    expect(referred.decision.outcome).to.equal("refer");
    expect(referred.decision.reasons.map((r: { code: string }) => r.code)).to.include("related_party_acknowledgment");
    expect(referred.offer).to.equal(undefined);
    const queue = await call(base, "GET", "/api/applications?role=lender&status=in_review", { token: tLender });
    expect(queue.body.applications.map((a: { id: string }) => a.id)).to.deep.equal([id]);

    const body = {
      outcome: "change_terms",
      reason: "related buyer confirmed by phone; lower amount",
      amount: "600000",
      rateBps: 950,
      termDays: 45,
    };
    const byOtherLender = await call(base, "POST", `/api/applications/${id}/review`, { token: tLender2, body });
    expect(byOtherLender.status).to.equal(404);
    const byBorrower = await call(base, "POST", `/api/applications/${id}/review`, { token: tS2, body });
    expect(byBorrower.status).to.equal(403);
    const noReason = await call(base, "POST", `/api/applications/${id}/review`, { token: tLender, body: { ...body, reason: undefined } });
    expect(noReason.status).to.equal(400);
    expect(noReason.body.error.field).to.equal("reason");

    const reviewed = await call(base, "POST", `/api/applications/${id}/review`, { token: tLender, body });
    expect(reviewed.status, JSON.stringify(reviewed.body)).to.equal(200);
    expect(reviewed.body.status).to.equal("offer_issued");
    expect(reviewed.body.review).to.include({
      reviewer: f.lender.account.address.toLowerCase(),
      outcome: "change_terms",
      reason: body.reason,
      overrides: referred.decision.inputHash,
      amount: "600000",
      rateBps: 950,
      termDays: 45,
    });
    expect(reviewed.body.review.at).to.be.a("number").greaterThan(0);
    // The automatic decision stays as it was.
    expect(reviewed.body.decision).to.deep.equal(referred.decision);
    const t = reviewed.body.offer.terms;
    expect([t.principal, t.rateBps, BigInt(t.maturity) - BigInt(t.start)]).to.deep.equal(["600000", "950", BigInt(45 * DAY)]);
    expect(reviewed.body.timeline.find((e: { step: string }) => e.step === "overridden")).to.include({
      actor: f.lender.account.address.toLowerCase(),
    });
    const again = await call(base, "POST", `/api/applications/${id}/review`, { token: tLender, body });
    expect(again.status).to.equal(409);

    // The offer the borrower signs carries the new terms.
    const offer = await call(base, "GET", `/api/applications/${id}/offer`, { token: tS2 });
    expect(offer.body.typedData.message).to.include({ principal: "600000", rateBps: "950" });
  });

  it("declines a supplier trading in a circle automatically; the borrower contests with a reason and the lender declines again with its own", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS3, tLender] = await signInEach(base, f.s3, f.lender);
    const created = await apply(base, tS3, f, [f.collateral.get(f.s3)![0].id], 500_000n);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id;
    await grantConsent(f, f.s3, created.body);
    const declined = await waitFor(base, tS3, id, status("declined"), "declined");
    expect(declined.decision.outcome).to.equal("decline");
    expect(declined.decision.reasons.find((r: { code: string }) => r.code === "circular_trading")).to.include({ effect: "decline" });
    expect(declined.timeline.find((e: { step: string }) => e.step === "declined")).to.include({ actor: "service" });

    const byLender = await call(base, "POST", `/api/applications/${id}/contest`, {
      token: tLender,
      body: { reason: "not mine to contest" },
    });
    expect(byLender.status).to.equal(403);
    const noReason = await call(base, "POST", `/api/applications/${id}/contest`, { token: tS3, body: {} });
    expect(noReason.status).to.equal(400);
    expect(noReason.body.error.field).to.equal("reason");
    const reviewTooEarly = await call(base, "POST", `/api/applications/${id}/review`, {
      token: tLender,
      body: { outcome: "approve", reason: "looks fine" },
    });
    expect(reviewTooEarly.status).to.equal(409);

    const contested = await call(base, "POST", `/api/applications/${id}/contest`, {
      token: tS3,
      body: { reason: "X and Y are our real suppliers; the cycle is a return of goods" },
    });
    expect(contested.status, JSON.stringify(contested.body)).to.equal(200);
    expect(contested.body.status).to.equal("in_review");
    expect(contested.body.contest.reason).to.contain("return of goods");
    expect(contested.body.timeline.slice(-2).map((e: { step: string; actor: string }) => [e.step, e.actor])).to.deep.equal([
      ["contested", f.s3.account.address.toLowerCase()],
      ["in_review", "service"],
    ]);

    const reviewed = await call(base, "POST", `/api/applications/${id}/review`, {
      token: tLender,
      body: { outcome: "decline", reason: "the cycle has no shipping documents behind it" },
    });
    expect(reviewed.status, JSON.stringify(reviewed.body)).to.equal(200);
    expect(reviewed.body.status).to.equal("declined");
    expect(reviewed.body.review).to.include({
      reviewer: f.lender.account.address.toLowerCase(),
      outcome: "decline",
      overrides: declined.decision.inputHash,
    });
    expect(reviewed.body.decision).to.deep.equal(declined.decision);
    // A human decline is final: no second contest.
    const second = await call(base, "POST", `/api/applications/${id}/contest`, { token: tS3, body: { reason: "please look again" } });
    expect(second.status).to.equal(409);
  });

  it("bounds a reviewer's changed terms: never above what the borrower asked, a rate within the policy's range, above the limit only as a reasoned override both parties see", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS2, tLender] = await signInEach(base, f.s2, f.lender);
    // The most one receivable of 10,000.00 allows; then its buyer pays part of it before the decision, so
    // the amount asked is above the decision's limit, which v1 declines.
    const created = await apply(base, tS2, f, [f.relatedReceivable], 700_000n, 30);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id;
    await send(f.net, f.related, "Receivables", "pay", [BigInt(f.relatedReceivable), 200_000n]);
    await grantConsent(f, f.s2, created.body);
    const declined = await waitFor(base, tS2, id, status("declined"), "declined");
    const limit = BigInt(declined.decision.limit);
    expect(limit < 700_000n).to.equal(true);
    // The decline leads with words: no reason code, no address, the amounts in CNY.
    const lead = declined.explanation.reasons[0];
    expect(lead).to.include({ code: "amount_above_limit", effect: "decline" });
    expect(lead.text).to.contain("CNY 7,000.00");
    expect(lead.toChange).to.contain(`Ask for CNY`);
    expect(JSON.stringify(declined.explanation)).not.to.match(/0x[0-9a-f]{6}/);
    const timelineDecline = declined.timeline.find((e: { step: string }) => e.step === "declined");
    expect(timelineDecline.detail).to.equal(lead.text);
    expect(declined.steps.filter((s: { state: string }) => s.state === "next")).to.deep.equal([]);
    expect(declined.steps.find((s: { step: string }) => s.step === "offer_issued").state).to.equal("not_reached");

    const contested = await call(base, "POST", `/api/applications/${id}/contest`, {
      token: tS2,
      body: { reason: "the buyer will pay early" },
    });
    expect(contested.status, JSON.stringify(contested.body)).to.equal(200);
    const review = (body: Record<string, unknown>) => call(base, "POST", `/api/applications/${id}/review`, { token: tLender, body });
    const reason = "buyer confirmed early payment";

    const tooMuch = await review({ outcome: "change_terms", reason, amount: "99999900", rateBps: 900 });
    expect(tooMuch.status).to.equal(400);
    expect(tooMuch.body.error.field).to.equal("amount");
    expect(tooMuch.body.error.message).to.contain("CNY 999,999.00 (99999900 minor units)").and.to.contain("CNY 7,000.00");
    // Beside the English, a message code with the amounts in minor units, for the web's Chinese.
    expect(tooMuch.body.error.text).to.deep.equal({
      textCode: "amount_above_asked",
      params: { amountAmount: "99999900", askedAmount: "700000", currency: "CNY" },
    });
    const noRate = await review({ outcome: "change_terms", reason, amount: "500000" });
    expect(noRate.status).to.equal(400);
    expect(noRate.body.error.field).to.equal("rateBps");
    const rateOutside = await review({ outcome: "change_terms", reason, amount: "500000", rateBps: 50 });
    expect(rateOutside.status).to.equal(400);
    expect(rateOutside.body.error.field).to.equal("rateBps");
    const aboveLimit = await review({ outcome: "approve", reason });
    expect(aboveLimit.status).to.equal(400);
    expect(aboveLimit.body.error.field).to.equal("amount");
    expect(aboveLimit.body.error.message).to.contain(`the policy's limit of CNY`).and.to.contain(`(${limit} minor units)`);
    const shortOverride = await review({
      outcome: "change_terms",
      reason,
      amount: "650000",
      rateBps: 900,
      overrideLimit: { reason: "ok" },
    });
    expect(shortOverride.status).to.equal(400);
    expect(shortOverride.body.error.field).to.equal("overrideLimit.reason");
    // None of the refusals recorded anything.
    expect((await call(base, "GET", `/api/applications/${id}`, { token: tS2 })).body.status).to.equal("in_review");

    const overrideReason = "a second buyer guarantee is on file, signed 3 May";
    const done = await review({
      outcome: "change_terms",
      reason,
      amount: "650000",
      rateBps: 900,
      overrideLimit: { reason: overrideReason },
    });
    expect(done.status, JSON.stringify(done.body)).to.equal(200);
    expect(done.body.status).to.equal("offer_issued");
    expect(done.body.review.limitOverride).to.deep.equal({ limit: limit.toString(), amount: "650000", reason: overrideReason });
    // The borrower sees the same override, and both still see what was asked.
    const asBorrower = (await call(base, "GET", `/api/applications/${id}`, { token: tS2 })).body;
    expect(asBorrower.review.limitOverride).to.deep.equal(done.body.review.limitOverride);
    const asked = { amount: "700000", termDays: 30, receivableIds: [String(f.relatedReceivable)] };
    expect(asBorrower.requested).to.deep.equal(asked);
    expect(done.body.requested).to.deep.equal(asked);
    expect(asBorrower.amount).to.equal("650000");
    expect(asBorrower.timeline.find((e: { step: string }) => e.step === "overridden").detail)
      .to.contain("by override")
      .and.to.contain(overrideReason);
    expect(asBorrower.offer.terms).to.include({ principal: "650000", rateBps: "900" });
  });

  it("pledges exactly the selected receivables: an empty selection is refused, the maximum is the selected receivables' advances, and collateral in a live application is refused up front", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const tS1 = await signIn(base, f.s1 as never);
    const prefill = (await call(base, "GET", "/api/applications/prefill", { token: tS1 })).body;
    const advance = (id: string) => BigInt(prefill.receivables.find((r: { id: string }) => r.id === id).advance);
    const [first, second] = f.collateral.get(f.s1)!.map((c) => c.id);
    expect(BigInt(prefill.maxAmount)).to.equal(
      prefill.receivables.reduce((s: bigint, r: { advance: string }) => s + BigInt(r.advance), 0n),
    );
    // Each advance is a part of the receivable's outstanding value, never more.
    for (const r of prefill.receivables) expect(BigInt(r.advance) <= BigInt(r.faceValue) - BigInt(r.paid)).to.equal(true);

    const empty = await apply(base, tS1, f, [], 500_000n);
    expect(empty.status).to.equal(400);
    expect(empty.body.error.field).to.equal("receivableIds");
    const twice = await apply(base, tS1, f, [first, first], 500_000n);
    expect(twice.status).to.equal(400);
    expect(twice.body.error.field).to.equal("receivableIds");
    // More than the one selected receivable allows, though less than all of them together.
    const over = await apply(base, tS1, f, [first], advance(first) + 1n);
    expect(over.status).to.equal(400);
    expect(over.body.error.field).to.equal("amount");
    expect(over.body.error.message)
      .to.contain(`(${advance(first)} minor units)`)
      .and.to.match(/the maximum is CNY [0-9,]+\.\d\d/);

    const created = await apply(base, tS1, f, [second], advance(second));
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.receivableIds).to.deep.equal([second]);
    const after = (await call(base, "GET", "/api/applications/prefill", { token: tS1 })).body;
    expect(after.receivables.find((r: { id: string }) => r.id === second).inApplication).to.equal(created.body.id);
    expect(BigInt(after.maxAmount)).to.equal(BigInt(prefill.maxAmount) - advance(second));
    const again = await apply(base, tS1, f, [second], 500_000n);
    expect(again.status).to.equal(409);
    expect(again.body.error.field).to.equal("receivableIds");
    expect(again.body.error.message).to.contain(created.body.id);
  });

  it("offers a supplier's many receivables in its form by pages of 100, says how many it holds, and preselects what an application naming none pledges", async () => {
    const f = await loadFixture(network);
    const [root, ...others] = f.collateral.get(f.s1)!.map((c) => c.id);
    // S1 splits one receivable into 16, and each of those into 16: 256 receivables, 258 with its other two.
    const splitInto16 = async (id: bigint, face: bigint) => {
      const part = face / 16n;
      const values = [...Array<bigint>(15).fill(part), face - 15n * part];
      const receipt = await send(f.net, f.s1, "Receivables", "split", [id, values, Array(16).fill(f.s1.account.address)]);
      return eventsIn(f.net, receipt, "Receivables", "ReceivableChildCreated").map((e) => ({
        id: e.receivableId as bigint,
        face: e.faceValue as bigint,
      }));
    };
    const leaves: bigint[] = [];
    for (const child of await splitInto16(BigInt(root), FACE)) leaves.push(...(await splitInto16(child.id, child.face)).map((l) => l.id));
    const pledgeable = [...others, ...leaves.sort((a, b) => (a < b ? -1 : 1)).map(String)];
    expect(pledgeable).to.have.length(258);
    const base = await start(f);
    const tS1 = await signIn(base, f.s1 as never);

    const prefill = (await call(base, "GET", "/api/applications/prefill", { token: tS1 })).body;
    expect(prefill.receivableCount).to.equal(258);
    expect(prefill.receivables.map((r: { id: string }) => r.id)).to.deep.equal(pledgeable.slice(0, 100));
    expect(prefill.maxReceivables).to.equal(10);
    expect(prefill.preselected).to.deep.equal(pledgeable.slice(0, 10));
    // What the form shows of each, not the whole record (its events, holders, signature).
    expect(Object.keys(prefill.receivables[0]).sort()).to.deep.equal(
      ["advance", "debtor", "faceValue", "id", "issuedAt", "maturity", "orderId", "paid"].sort(),
    );
    // The maximum is what an application naming none may ask: the preselection's advances.
    const advanceOf = (rows: { id: string; advance: string }[], ids: string[]) =>
      rows.filter((r) => ids.includes(r.id)).reduce((s, r) => s + BigInt(r.advance), 0n);
    expect(BigInt(prefill.maxAmount)).to.equal(advanceOf(prefill.receivables, prefill.preselected));
    expect(BigInt(prefill.maxAmount) > 0n).to.equal(true);

    // The later pages, by id after the last of the page before, each priced as the first is.
    expect(prefill.offset).to.equal(0);
    expect(prefill.next).to.equal(pledgeable[99]);
    const page = (after: string, token = tS1) => call(base, "GET", `/api/applications/receivables?after=${after}`, { token });
    const second = (await page(prefill.next)).body;
    expect(second.receivables.map((r: { id: string }) => r.id)).to.deep.equal(pledgeable.slice(100, 200));
    expect(second).to.include({ receivableCount: 258, offset: 100, next: pledgeable[199] });
    expect(Object.keys(second.receivables[0]).sort()).to.deep.equal(Object.keys(prefill.receivables[0]).sort());
    const third = (await page(second.next)).body;
    expect(third.receivables.map((r: { id: string }) => r.id)).to.deep.equal(pledgeable.slice(200));
    expect(third.offset).to.equal(200);
    expect(third).not.to.have.property("next");
    // A split child's advance is its share of the parent's, the same on every page.
    expect(third.receivables[0].advance).to.equal(second.receivables[0].advance);
    // From any id, not only a page's end; past the last, nothing.
    expect((await page(pledgeable[150])).body.receivables[0].id).to.equal(pledgeable[151]);
    expect((await page(pledgeable[257])).body).to.deep.equal({ receivables: [], receivableCount: 258, offset: 258 });
    // Only the borrower's own: another supplier paging from the same id sees its own receivables.
    const tS2 = await signIn(base, f.s2 as never);
    const s2 = (await page("1", tS2)).body;
    const s2Ids = s2.receivables.map((r: { id: string }) => r.id);
    expect(s2Ids).to.include.members(f.collateral.get(f.s2)!.map((c) => c.id));
    expect(s2Ids.filter((id: string) => pledgeable.includes(id))).to.deep.equal([]);
    expect((await call(base, "GET", `/api/applications/receivables?after=${prefill.next}`)).status).to.equal(401);
    for (const bad of ["", "0", "abc", "1".repeat(79)]) {
      const res = await page(bad);
      expect(res.status, bad).to.equal(400);
      expect(res.body.error.field, bad).to.equal("after");
    }

    // An application naming no receivables pledges the preselection.
    const created = await call(base, "POST", "/api/applications", {
      token: tS1,
      body: { amount: "500000", termDays: 30, lender: f.lender.account.address, scopes: REQUIRED_SCOPES },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.receivableIds).to.deep.equal(prefill.preselected);
    // The next form preselects the next ten, and still offers the reserved ones among the first hundred.
    const after = (await call(base, "GET", "/api/applications/prefill", { token: tS1 })).body;
    expect(after.preselected).to.deep.equal(pledgeable.slice(10, 20));
    expect(after.receivables.map((r: { id: string }) => r.id)).to.deep.equal(pledgeable.slice(0, 100));
    expect(after.receivables[0].inApplication).to.equal(created.body.id);
    // Receivables from the last page are pledged as any others, for the advances the page showed.
    const late: { id: string; advance: string }[] = third.receivables.slice(-10);
    const lateIds = late.map((r) => r.id);
    const fromLastPage = await apply(base, tS1, f, lateIds, advanceOf(late, lateIds));
    expect(fromLastPage.status, JSON.stringify(fromLastPage.body)).to.equal(201);
    expect(fromLastPage.body.receivableIds).to.deep.equal(lateIds);
    expect((await page(second.next)).body.receivables.at(-1).inApplication).to.equal(fromLastPage.body.id);
  });

  it("lets the borrower withdraw and the named lender decline, with a reason, any application before its agreement is on chain, and refuses the other party", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS1, tLender, tLender2] = await signInEach(base, f.s1, f.lender, f.lender2);
    const [r1, r2, r3] = f.collateral.get(f.s1)!.map((c) => c.id);
    // Waiting for consent: the lender declines it.
    const waiting = (await apply(base, tS1, f, [r1], 500_000n)).body;
    const decline = (token: string, body: unknown) => call(base, "POST", `/api/applications/${waiting.id}/decline`, { token, body });
    expect((await decline(tLender2, { reason: "not ours" })).status).to.equal(404);
    const byBorrower = await decline(tS1, { reason: "the borrower cannot" });
    expect(byBorrower.status).to.equal(403);
    // Coded for the web's languages, beside the English.
    expect(byBorrower.body.error.text).to.deep.equal({ textCode: "decline_not_lender", params: {} });
    const noReason = await decline(tLender, {});
    expect(noReason.status).to.equal(400);
    expect(noReason.body.error.field).to.equal("reason");
    const declined = await decline(tLender, { reason: "we do not lend to this sector this quarter" });
    expect(declined.status, JSON.stringify(declined.body)).to.equal(200);
    expect(declined.body.status).to.equal("declined");
    expect(declined.body.lenderDecline.reason).to.equal("we do not lend to this sector this quarter");
    expect(declined.body.timeline.at(-1)).to.include({ step: "declined", actor: f.lender.account.address.toLowerCase() });
    const twice = await decline(tLender, { reason: "twice" });
    expect(twice.status).to.equal(409);
    expect(twice.body.error.text).to.deep.equal({ textCode: "ended_cannot_decline", params: { status: "declined" } });
    const withdrawDeclined = await call(base, "POST", `/api/applications/${waiting.id}/withdraw`, { token: tS1, body: {} });
    expect(withdrawDeclined.status).to.equal(409);
    expect(withdrawDeclined.body.error.text).to.deep.equal({ textCode: "ended_cannot_withdraw", params: { status: "declined" } });

    // Signed by the borrower: the lender cannot withdraw it, the borrower can; its receivable is free again.
    const signedApp = (await apply(base, tS1, f, [r2], 500_000n)).body;
    await grantConsent(f, f.s1, signedApp);
    await waitFor(base, tS1, signedApp.id, status("offer_issued"), "offer_issued");
    const sig = await signOffer(base, tS1, signedApp.id, f.s1);
    expect(
      (await call(base, "POST", `/api/applications/${signedApp.id}/signatures`, { token: tS1, body: { signature: sig } })).status,
    ).to.equal(200);
    const byLender = await call(base, "POST", `/api/applications/${signedApp.id}/withdraw`, { token: tLender, body: {} });
    expect(byLender.status).to.equal(403);
    const withdrawn = await call(base, "POST", `/api/applications/${signedApp.id}/withdraw`, {
      token: tS1,
      body: { reason: "found cheaper funding" },
    });
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
    expect(withdrawn.body.status).to.equal("withdrawn");
    expect(withdrawn.body.withdrawal.reason).to.equal("found cheaper funding");
    const lenderSig = await signOffer(base, tLender, signedApp.id, f.lender);
    const late = await call(base, "POST", `/api/applications/${signedApp.id}/signatures`, {
      token: tLender,
      body: { signature: lenderSig },
    });
    expect(late.status).to.equal(409);
    expect((await apply(base, tS1, f, [r2, r3], 500_000n)).status).to.equal(201);
  });

  it("answers 409 naming the contract's custom error and its arguments when the chain refuses the agreement", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const tS1 = await signIn(base, f.s1 as never);
    const tLender = await signIn(base, f.lender as never);
    const created = await apply(base, tS1, f, [f.collateral.get(f.s1)![0].id], 500_000n);
    await grantConsent(f, f.s1, created.body);
    const offered = await waitFor(base, tS1, created.body.id, status("offer_issued"), "offer_issued");
    const borrowerSig = await signOffer(base, tS1, created.body.id, f.s1);
    expect(
      (await call(base, "POST", `/api/applications/${created.body.id}/signatures`, { token: tS1, body: { signature: borrowerSig } }))
        .status,
    ).to.equal(200);
    // The lender withdraws its offer's nonce on chain, then signs: the contract refuses the agreement.
    const nonce = BigInt(offered.offer.terms.nonce);
    await send(f.net, f.lender, "LoanAgreements", "cancelNonce", [nonce]);
    const lenderSig = await signOffer(base, tLender, created.body.id, f.lender);
    const refused = await call(base, "POST", `/api/applications/${created.body.id}/signatures`, {
      token: tLender,
      body: { signature: lenderSig },
    });
    expect(refused.status).to.equal(409);
    expect(refused.body.error.message).to.equal(
      `the chain refused the agreement: reverted with LoanAgreementsNonceCancelled(${getAddress(f.lender.account.address)}, ${nonce})`,
    );
    const app = await call(base, "GET", `/api/applications/${created.body.id}`, { token: tS1 });
    expect(app.body.submitError).to.equal(`reverted with LoanAgreementsNonceCancelled(${getAddress(f.lender.account.address)}, ${nonce})`);
  });

  it("anchors a document batch and a decision sent at the same moment from one local key, one nonce each", async () => {
    const f = await loadFixture(network);
    // The service's key held by the service (as SERVICE_PRIVATE_KEY), not by the node: it picks the nonces.
    const key = mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex: 1 });
    expect(key.address).to.equal(getAddress(f.auditor.account.address));
    dataDir = await tempDataDir(f.net.deployment);
    // Every failure is logged (and retried): the log shows whether either transaction had to be sent twice.
    const logged: { level: number; msg: string }[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    service = await startService(testConfig(dataDir), {
      transport: custom(hre.network.provider as unknown as { request: EIP1193RequestFn }),
      serviceAccount: key,
      logger,
    });
    const base = service.url;
    const { tS1, created } = await signInAndApplyWithAll(base, f);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await service.documents.store.put({
      bytes: Buffer.from("a delivery note\n"),
      mime: "text/plain",
      owner: f.s1.account.address.toLowerCase() as never,
      kind: "other",
    });
    const nonceBefore = await f.net.publicClient.getTransactionCount({ address: key.address });
    await grantConsent(f, f.s1, created.body);
    // The indexer sees the consent (the decision and its anchor follow) while the batcher flushes.
    const [, batches] = await Promise.all([service.indexer.syncOnce(), service.documents.batcher!.flush()]);
    const app = await waitFor(base, tS1, created.body.id, (a) => !!a.decisionAnchorTx, "decision anchored");
    expect(batches).to.have.length(1);
    const receipts = await Promise.all(
      [batches[0].txHash, app.decisionAnchorTx].map((hash) => f.net.publicClient.getTransactionReceipt({ hash })),
    );
    expect(receipts.map((r) => r.status)).to.deep.equal(["success", "success"]);
    const txs = await Promise.all([batches[0].txHash, app.decisionAnchorTx].map((hash) => f.net.publicClient.getTransaction({ hash })));
    expect(txs.map((t) => t.nonce).sort()).to.deep.equal([nonceBefore, nonceBefore + 1]);
    expect(await f.net.publicClient.getTransactionCount({ address: key.address })).to.equal(nonceBefore + 2);
    expect(logged.filter((l) => l.level >= 50).map((l) => l.msg)).to.deep.equal([]);
  });

  it("logs a failed decision anchor with its reason and retries it with backoff until the chain takes it", async () => {
    const f = await loadFixture(network);
    // The service's account is not a participant yet: the notary refuses its anchors.
    const logged: { level: number; msg: string }[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    dataDir = await tempDataDir(f.net.deployment);
    service = await startService(testConfig(dataDir), {
      transport: custom(hre.network.provider as unknown as { request: EIP1193RequestFn }),
      serviceAccount: f.outsider.account.address,
      logger,
    });
    const base = service.url;
    const { tS1, created } = await signInAndApplyWithAll(base, f);
    await grantConsent(f, f.s1, created.body);
    await waitFor(base, tS1, created.body.id, status("offer_issued"), "offer_issued");
    const what = `anchoring the decision of application ${created.body.id} failed: reverted with EvidenceNotaryNotActiveParticipant(${getAddress(f.outsider.account.address)}); retrying`;
    const deadline = Date.now() + 20_000;
    while (!logged.some((l) => l.level === 50 && l.msg === what)) {
      if (Date.now() > deadline) throw new Error(`not logged: ${what}\n${JSON.stringify(logged)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Admitted: a later attempt goes through, without a restart.
    await admit(f.net, f.operator, [{ account: f.outsider.account.address, roles: ROLE.AUDITOR }]);
    const app = await waitFor(base, tS1, created.body.id, (a) => !!a.decisionAnchorTx, "decision anchored after the retry");
    const receipt = await f.net.publicClient.getTransactionReceipt({ hash: app.decisionAnchorTx });
    expect(receipt.status).to.equal("success");
    expect(receipt.from).to.equal(f.outsider.account.address.toLowerCase());
  });

  it("re-runs a stored decision from its snapshot to the identical result, and anchors its hash on the EvidenceNotary", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const { tS1, created } = await signInAndApplyWithAll(base, f);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await grantConsent(f, f.s1, created.body);
    const app = await waitFor(base, tS1, created.body.id, (a) => !!a.decisionAnchorTx, "decision anchored");
    expect(app.decision.outcome).to.equal("approve");

    const rerun = decide(decisionInputFromJson(app.decisionInput), CURRENT_POLICY);
    expect(JSON.parse(JSON.stringify(decisionToJson(rerun)))).to.deep.equal(app.decision);
    expect(decisionFromJson(app.decision)).to.deep.equal(rerun);

    const receipt = await f.net.publicClient.waitForTransactionReceipt({ hash: app.decisionAnchorTx });
    expect(receipt.status).to.equal("success");
    const anchor = (await f.net.publicClient.readContract({
      address: f.net.deployment.contracts.EvidenceNotary,
      abi: abiOf("EvidenceNotary"),
      functionName: "getAnchor",
      args: [decisionHash(rerun), f.auditor.account.address],
    })) as { anchorer: string; kind: number; blockNumber: number };
    expect(anchor.anchorer.toLowerCase()).to.equal(f.auditor.account.address.toLowerCase());
    expect(anchor.kind).to.equal(KIND_DECISION);
    expect(BigInt(anchor.blockNumber)).to.equal(receipt.blockNumber);
  });

  it("decides within the POST when the consent is already in force, once, however often reconcile runs meanwhile", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const tS1 = await signIn(base, f.s1 as never);
    await grantStandingConsent(f);
    const ids = f.collateral.get(f.s1)!.map((c) => c.id);
    const [a, b] = await Promise.all([
      apply(base, tS1, f, [ids[0]], 500_000n),
      apply(base, tS1, f, [ids[1]], 600_000n),
      ...Array.from({ length: 5 }, () => service!.applications.reconcile()),
    ]);
    for (const res of [a, b]) {
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.status).to.equal("offer_issued");
      expect(res.body.timeline.map((t: { step: string }) => t.step)).to.deep.equal(STEPS.slice(0, 8));
    }
    await Promise.all(Array.from({ length: 5 }, () => service!.applications.reconcile()));
    const again = await call(base, "GET", `/api/applications/${a.body.id}`, { token: tS1 });
    expect(again.body.timeline).to.deep.equal(a.body.timeline);
  });

  it("anchors the decisions made while an anchor transaction is on its way together, in one transaction, each with its own record", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const tS1 = await signIn(base, f.s1 as never);
    await grantStandingConsent(f);
    const ids = f.collateral.get(f.s1)!.map((c) => c.id);
    // Nothing is mined until the test says so: the first decision's anchor waits in the node's pool.
    await hre.network.provider.send("evm_setAutomine", [false]);
    let anchored: { id: string; decision: Record<string, unknown>; decisionAnchorTx?: Hex }[] = [];
    try {
      const apps = [];
      for (const [i, amount] of [500_000n, 600_000n, 700_000n].entries()) {
        const res = await apply(base, tS1, f, [ids[i]], amount);
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect(res.body.status).to.equal("offer_issued");
        apps.push(res.body);
      }
      const deadline = Date.now() + 20_000;
      for (;;) {
        await hre.network.provider.send("evm_mine", []);
        anchored = await Promise.all(apps.map(async (a) => (await call(base, "GET", `/api/applications/${a.id}`, { token: tS1 })).body));
        if (anchored.every((a) => a.decisionAnchorTx)) break;
        if (Date.now() > deadline) throw new Error(`not anchored: ${JSON.stringify(anchored.map((a) => a.decisionAnchorTx))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    const [first, second, third] = anchored.map((a) => a.decisionAnchorTx!);
    // The first went alone; the two decided while it was pending went together.
    expect(second).to.equal(third);
    expect(first).to.not.equal(second);
    const notary = f.net.deployment.contracts.EvidenceNotary;
    for (const [tx, apps] of [
      [first, anchored.slice(0, 1)],
      [second, anchored.slice(1)],
    ] as const) {
      const receipt = await f.net.publicClient.getTransactionReceipt({ hash: tx });
      expect(receipt.status).to.equal("success");
      expect(getAddress(receipt.to!)).to.equal(getAddress(notary));
      const logs = parseEventLogs({ abi: abiOf("EvidenceNotary"), logs: receipt.logs, eventName: "Anchored" }) as unknown as {
        args: { documentHash: Hex; anchorer: Hex; kind: number };
      }[];
      expect(logs.map((l) => l.args.documentHash)).to.deep.equal(apps.map((a) => decisionHash(decisionFromJson(a.decision))));
      for (const l of logs) {
        // Each decision is the service account's own anchor, as if sent alone.
        expect(getAddress(l.args.anchorer)).to.equal(getAddress(f.auditor.account.address));
        expect(Number(l.args.kind)).to.equal(KIND_DECISION);
        const anchor = (await f.net.publicClient.readContract({
          address: notary,
          abi: abiOf("EvidenceNotary"),
          functionName: "getAnchor",
          args: [l.args.documentHash, f.auditor.account.address],
        })) as { blockNumber: number };
        expect(BigInt(anchor.blockNumber)).to.equal(receipt.blockNumber);
      }
    }
  });

  it("refuses what a party may not do, naming the field or hiding the application", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS1, tLender, tLender2, tBuyer] = await signInEach(base, f.s1, f.lender, f.lender2, f.b1);
    const mine = f.collateral.get(f.s1)!;

    expect((await call(base, "POST", "/api/applications", { body: {} })).status).to.equal(401);
    expect((await call(base, "GET", "/api/applications")).status).to.equal(401);
    for (const token of [tLender, tBuyer]) {
      const res = await apply(base, token, f, [mine[0].id], 500_000n);
      expect(res.status).to.equal(403);
    }
    const prefill = await call(base, "GET", "/api/applications/prefill", { token: tS1 });
    const max = BigInt(prefill.body.maxAmount);
    const tooMuch = await call(base, "POST", "/api/applications", {
      token: tS1,
      body: { amount: (max + 1n).toString(), termDays: 30, lender: f.lender.account.address, scopes: REQUIRED_SCOPES },
    });
    expect(tooMuch.status).to.equal(400);
    expect(tooMuch.body.error.field).to.equal("amount");
    // The amount formatted, with the raw minor units the API takes.
    expect(tooMuch.body.error.message)
      .to.match(/the maximum is CNY [0-9,]+\.\d\d/)
      .and.to.contain(`(${max} minor units)`);
    expect(tooMuch.body.error.text).to.deep.equal({
      textCode: "amount_above_maximum",
      params: { amountAmount: (max + 1n).toString(), maxAmount: max.toString(), currency: "CNY" },
    });
    const fewScopes = await call(base, "POST", "/api/applications", {
      token: tS1,
      body: { amount: "500000", termDays: 30, lender: f.lender.account.address, scopes: SCOPE.metrics | SCOPE.riskFlags },
    });
    expect(fewScopes.status).to.equal(400);
    expect(fewScopes.body.error.field).to.equal("scopes");
    const notHeld = await apply(base, tS1, f, [f.collateral.get(f.s2)![0].id], 500_000n);
    expect(notHeld.status).to.equal(400);
    expect(notHeld.body.error.field).to.equal("receivableIds");
    const badAmount = await call(base, "POST", "/api/applications", {
      token: tS1,
      body: { amount: 500000, termDays: 30, lender: f.lender.account.address, scopes: REQUIRED_SCOPES },
    });
    expect(badAmount.status).to.equal(400);
    expect(badAmount.body.error.field).to.equal("amount");

    const created = await apply(base, tS1, f, [mine[0].id], 500_000n);
    const id = created.body.id;
    await grantConsent(f, f.s1, created.body);
    await waitFor(base, tS1, id, status("offer_issued"), "offer_issued");
    for (const token of [tLender2, tBuyer]) {
      expect((await call(base, "GET", `/api/applications/${id}`, { token })).status).to.equal(404);
      expect((await call(base, "GET", `/api/applications/${id}/offer`, { token })).status).to.equal(404);
      const list = await call(base, "GET", "/api/applications", { token });
      expect(list.body.applications).to.deep.equal([]);
    }
    expect((await call(base, "GET", `/api/applications/${id}`)).status).to.equal(401);

    const lenderSig = await signOffer(base, tLender, id, f.lender);
    const early = await call(base, "POST", `/api/applications/${id}/signatures`, { token: tLender, body: { signature: lenderSig } });
    expect(early.status).to.equal(409);
    expect(early.body.error.message).to.contain("borrower signs first");
    expect(early.body.error.text).to.deep.equal({ textCode: "borrower_signs_first", params: {} });
    // The lender's signature presented by the borrower: not the borrower's key.
    const wrongKey = await call(base, "POST", `/api/applications/${id}/signatures`, { token: tS1, body: { signature: lenderSig } });
    expect(wrongKey.status).to.equal(400);
    expect(wrongKey.body.error.field).to.equal("signature");
    expect(wrongKey.body.error.text).to.deep.equal({ textCode: "signature_invalid", params: {} });
    const byOther = await call(base, "POST", `/api/applications/${id}/signatures`, { token: tLender2, body: { signature: lenderSig } });
    expect(byOther.status).to.equal(404);
    const after = await call(base, "GET", `/api/applications/${id}`, { token: tS1 });
    expect(after.body.status).to.equal("offer_issued");
    expect(after.body.signatures).to.deep.equal({});

    // Signed once; then withdrawn: no further signature is taken.
    const borrowerSig = await signOffer(base, tS1, id, f.s1);
    expect(
      (await call(base, "POST", `/api/applications/${id}/signatures`, { token: tS1, body: { signature: borrowerSig } })).status,
    ).to.equal(200);
    const twice = await call(base, "POST", `/api/applications/${id}/signatures`, { token: tS1, body: { signature: borrowerSig } });
    expect(twice.status).to.equal(409);
    expect((await call(base, "POST", `/api/applications/${id}/withdraw`, { token: tLender })).status).to.equal(403);
    const withdrawn = await call(base, "POST", `/api/applications/${id}/withdraw`, { token: tS1 });
    expect(withdrawn.body.status).to.equal("withdrawn");
    const late = await call(base, "POST", `/api/applications/${id}/signatures`, { token: tLender, body: { signature: lenderSig } });
    expect(late.status).to.equal(409);
    expect(late.body.error.message).to.contain("withdrawn");
  });

  it("pushes each step to the borrower's and the lender's open event streams as it happens", async () => {
    const f = await loadFixture(network);
    const base = await start(f);
    const [tS1, tLender, tLender2] = await signInEach(base, f.s1, f.lender, f.lender2);
    expect((await call(base, "GET", "/api/events")).status).to.equal(401);
    const borrowerStream = openEventStream(base, tS1);
    const lenderStream = openEventStream(base, tLender);
    const otherStream = openEventStream(base, tLender2);
    try {
      // Each stream is open before the first step, which it must see.
      await Promise.all([borrowerStream.connected, lenderStream.connected, otherStream.connected]);
      const created = await apply(base, tS1, f, [f.collateral.get(f.s1)![1].id], 500_000n);
      const id = created.body.id;
      await grantConsent(f, f.s1, created.body);
      await waitFor(base, tS1, id, status("offer_issued"), "offer_issued");
      await call(base, "POST", `/api/applications/${id}/signatures`, {
        token: tS1,
        body: { signature: await signOffer(base, tS1, id, f.s1) },
      });
      await call(base, "POST", `/api/applications/${id}/signatures`, {
        token: tLender,
        body: { signature: await signOffer(base, tLender, id, f.lender) },
      });
      await waitFor(base, tS1, id, status("countersigned_notarized"), "countersigned_notarized");
      const deadline = Date.now() + 5000;
      const last = (s: { events: { status: string }[] }) => s.events[s.events.length - 1]?.status;
      while (
        (last(borrowerStream) !== "countersigned_notarized" || last(lenderStream) !== "countersigned_notarized") &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const stream of [borrowerStream, lenderStream]) {
        expect(stream.events.every((e) => e.id === id)).to.equal(true);
        const steps = stream.events[stream.events.length - 1].timeline.map((t: { step: string }) => t.step);
        expect(steps).to.deep.equal(STEPS.slice(0, 10));
        // Each update came as its step happened: the statuses seen in order.
        const seen = stream.events.map((e) => e.status).filter((s, i, all) => s !== all[i - 1]);
        expect(seen).to.deep.equal(["submitted", "offer_issued", "signed_by_borrower", "countersigned_notarized"]);
        const decidedEvent = stream.events.find((e) => e.timeline.some((t: { step: string }) => t.step === "decided"));
        expect(decidedEvent.timeline.map((t: { step: string }) => t.step)).to.include.members([
          "consent_granted",
          "data_collected",
          "screened",
          "scored",
          "decided",
        ]);
      }
      expect(otherStream.events).to.deep.equal([]);
    } finally {
      await Promise.all([borrowerStream.close(), lenderStream.close(), otherStream.close()]);
    }
  });

  it("survives restarts mid-flow: the store keeps the application and its timeline, and chain steps made while it was down are picked up", async () => {
    const f = await loadFixture(network);
    const dir = await tempDataDir(f.net.deployment);
    dataDir = dir;
    service = await startOn(f, dir);
    let base = service.url;
    let tS1 = await signIn(base, f.s1 as never);
    const pledged = f.collateral.get(f.s1)![2];
    const created = await apply(base, tS1, f, [pledged.id], 500_000n);
    const id = created.body.id;
    const restart = async () => {
      await service!.close();
      service = await startOn(f, dir);
      base = service.url;
      tS1 = await signIn(base, f.s1 as never);
      return signIn(base, f.lender as never);
    };

    // Down: the borrower grants consent on chain. Up again: reconcile decides.
    await service.close();
    await grantConsent(f, f.s1, created.body);
    let tLender = await restart();
    const offered = await waitFor(base, tS1, id, status("offer_issued"), "offer_issued");
    expect(offered.timeline.slice(0, 2)).to.deep.equal(created.body.timeline);

    await call(base, "POST", `/api/applications/${id}/signatures`, {
      token: tS1,
      body: { signature: await signOffer(base, tS1, id, f.s1) },
    });
    const signed = await waitFor(base, tS1, id, status("signed_by_borrower"), "signed_by_borrower");
    tLender = await restart();
    const intact = await call(base, "GET", `/api/applications/${id}`, { token: tLender });
    expect(intact.body.timeline).to.deep.equal(signed.timeline);
    expect(intact.body.signatures).to.deep.equal(signed.signatures);

    const lenderSig = await signOffer(base, tLender, id, f.lender);
    expect(
      (await call(base, "POST", `/api/applications/${id}/signatures`, { token: tLender, body: { signature: lenderSig } })).status,
    ).to.equal(200);
    const recorded = await waitFor(base, tS1, id, status("countersigned_notarized"), "countersigned_notarized");

    // Down: the lender disburses and the buyer pays. Up again: disbursed and closed from the chain.
    await service.close();
    await send(f.net, f.lender, "LoanAgreements", "disburse", [BigInt(recorded.loanId)]);
    await send(f.net, pledged.buyer, "Receivables", "pay", [BigInt(pledged.id), FACE]);
    await restart();
    const closed = await waitFor(base, tS1, id, status("closed"), "closed");
    expect(closed.timeline.slice(0, recorded.timeline.length)).to.deep.equal(recorded.timeline);
    expect(closed.timeline.slice(recorded.timeline.length).map((t: { step: string }) => t.step)).to.deep.equal(["disbursed", "closed"]);
    expect(closed.timeline.map((t: { step: string }) => t.step)).to.deep.equal([...STEPS]);
  });
});
