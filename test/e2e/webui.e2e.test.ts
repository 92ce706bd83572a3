/**
 * Issue 16 (remainder), in a real browser against the real stack `npm start` runs: the webhook tab
 * (a refused internal address at the field, the secret shown once and matching the real delivery's
 * signature, the delivery log, removal; both rooms; Chinese), a consent transaction sent but not yet
 * mined shows "sent, waiting for the chain" across a reload instead of "Grant consent", and the lender's
 * review form and the court with a verified bundle fit a 390 px screen without axe violations.
 * The stack runs with WEBHOOK_ALLOW_LOOPBACK so its deliveries can reach a receiver on 127.0.0.1.
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { signPayload, SIGNATURE_HEADER } from "../../node-service/src/notifications/service";
import { webhookReceiver, type Received } from "../service/webhook-receiver";
import {
  apply,
  applyWithConsentSent,
  axeViolations,
  doneStep,
  expectNoHorizontalOverflow,
  LENDER,
  PHONE,
  RESULTS,
  signIn,
  SUPPLIER,
  useDemoBrowser,
  WIDE,
} from "./nav-helpers";

/** Refers to review at 50,000 (as in apps.e2e.test.ts). */
const MEDIOCRE_SUPPLIER = { index: 9, name: "Ningbo Plastics Ltd." };

describe("webhook page, consent sent but not yet indexed, review form and court at 390 px", function () {
  this.timeout(400_000);

  const demo = useDemoBrowser({ env: { WEBHOOK_ALLOW_LOOPBACK: "true" } });
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let receiverUrl: string;
  let received: Received[];
  let reviewId: string;

  before(async function () {
    receiver = await webhookReceiver();
    receiver.state.status = 204;
    received = receiver.received;
    receiverUrl = receiver.url;
  });

  after(async function () {
    await receiver?.close();
  });

  async function settled(page: Page): Promise<void> {
    await page.waitForFunction(() => document.querySelector(".state.loading") === null, undefined, { timeout: 30_000 });
  }

  /** Fits 390 px and has no serious or critical axe violation (screenshot in test-results/). */
  async function phoneCheck(page: Page, where: string): Promise<void> {
    await page.setViewportSize(PHONE);
    await settled(page);
    await expectNoHorizontalOverflow(page, where);
    expect(await axeViolations(page), where).to.deep.equal([]);
    await page.screenshot({ path: path.join(RESULTS, `390-${where.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
    await page.setViewportSize(WIDE);
  }

  async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
    const config = (await (await fetch(`${demo.baseUrl}/api/config`)).json()) as { publicRpcUrl: string };
    const url = new URL(config.publicRpcUrl);
    expect(["127.0.0.1", "localhost", "[::1]"]).to.include(url.hostname); // only ever loopback
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  }

  it("the manufacturer registers a webhook: an internal address is refused at the field, the secret is shown once and signs the real delivery, which the log lists; then removes it", async function () {
    const page = await demo.open("manufacturer webhook", "manufacturer/webhook");
    await signIn(page, SUPPLIER);
    const card = page.getByRole("region", { name: "Webhook for your systems" });
    await card.getByText("No webhook registered").waitFor();
    const input = card.getByLabel("Address of your receiver (https)");

    // Attacker first: the cloud metadata address and a private one are refused, at the field.
    for (const bad of ["https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/hook"]) {
      await input.fill(bad);
      await card.getByRole("button", { name: "Register" }).click();
      const error = card.locator("#webhook-url-error");
      await error.waitFor();
      expect(await error.innerText(), bad).to.match(/refused.*public address/);
      expect(await input.getAttribute("aria-invalid")).to.equal("true");
    }
    expect(await card.getByText("No webhook registered").count()).to.equal(1);
    // The browser logs each refusal (400) it received: those two, and nothing else.
    const refusals = demo.pageErrors.filter((e) => /status of 400 .*\/api\/webhook\s*$/.test(e));
    expect(refusals.length).to.equal(2);
    demo.pageErrors.splice(0, demo.pageErrors.length, ...demo.pageErrors.filter((e) => !refusals.includes(e)));
    await input.fill(receiverUrl);
    expect(await card.locator("#webhook-url-error").count()).to.equal(0); // gone once the field changed
    await card.getByRole("button", { name: "Register" }).click();
    const secretBox = card.locator("#webhook-secret");
    await secretBox.waitFor();
    const secret = (await secretBox.innerText()).trim();
    expect(secret).to.match(/^[0-9a-f]{64}$/);
    expect(await card.getByText(/Shown this once/).count()).to.equal(1);
    expect(await card.locator(".verify-steps code", { hasText: "X-SCF-Signature" }).count()).to.equal(1);
    expect(await card.locator(".verify-steps code", { hasText: "HMAC-SHA256" }).count()).to.equal(1);
    expect(await card.locator(`dl[data-webhook-url="${receiverUrl}"]`).count()).to.equal(1);
    await phoneCheck(page, "manufacturer webhook with secret");

    // A real notification (the offer) is delivered, signed with the secret the page showed.
    const id = await apply(page, "150,000.00", LENDER.name);
    await doneStep(page, id, "offer_issued").waitFor({ timeout: 60_000 });
    const deadline = Date.now() + 30_000;
    while (!received.some((r) => r.body.includes(`offer_issued:${id}`))) {
      if (Date.now() > deadline) throw new Error(`no delivery of the offer: ${received.map((r) => r.body).join("\n")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const delivery = received.find((r) => r.body.includes(`offer_issued:${id}`))!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivery.headers[SIGNATURE_HEADER.toLowerCase()]))!;
    expect(signPayload(secret, Number(t), delivery.body)).to.equal(v1);

    // The log lists it; after a reload the secret is gone for good.
    await page.goto(`${demo.baseUrl}/manufacturer/webhook`);
    const log = page.getByRole("region", { name: "Recent deliveries" });
    await log.locator('[data-outcome="delivered"]').first().waitFor({ timeout: 30_000 });
    expect(
      await log
        .locator("tbody tr", { hasText: `offer_issued:${id}` })
        .locator('[data-outcome="delivered"]')
        .count(),
    ).to.equal(1);
    expect(await page.locator("#webhook-secret").count()).to.equal(0);
    expect(await page.content()).to.not.include(secret);
    await phoneCheck(page, "manufacturer webhook deliveries");

    // In Chinese too.
    await page.evaluate(() => localStorage.setItem("scf.language", "zh"));
    await page.reload();
    await page.getByRole("heading", { name: "对接贵方系统的回调推送" }).waitFor();
    await page.locator(".verify-steps").waitFor({ state: "detached" }); // the secret and its steps are gone after a reload
    await page.getByRole("heading", { name: "最近的推送" }).waitFor();
    await page.locator('[data-outcome="delivered"]', { hasText: "已送达" }).first().waitFor();
    // No English left on the Chinese page, beyond what is code, marked English, a URL or a time zone.
    const english = await page.locator("main").evaluate((main) => {
      const left: string[] = [];
      const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement?.closest('[lang="en"], code')) continue;
        const rest = (n.textContent ?? "").replace(/https?:\/\/\S+/g, " ").replace(/\b(UTC|GMT)\b/g, " ");
        if (/[A-Za-z]{3,}/.test(rest)) left.push(rest.trim());
      }
      return left;
    });
    expect(english, "English left on the Chinese webhook page").to.deep.equal([]);
    await page.evaluate(() => localStorage.setItem("scf.language", "en"));
    await page.reload();

    await page.getByRole("button", { name: "Remove webhook" }).click();
    await page.getByText("No webhook registered").waitFor();
    expect(await page.locator("dl.webhook-current").count()).to.equal(0);
  });

  it("the lender has the same tab", async function () {
    const page = await demo.open("lender webhook", "lender");
    await signIn(page, LENDER);
    await page.getByRole("tab", { name: "Webhook" }).click();
    expect(new URL(page.url()).pathname).to.equal("/lender/webhook");
    await page.getByRole("region", { name: "Webhook for your systems" }).getByText("No webhook registered").waitFor();
    await phoneCheck(page, "lender webhook");
  });

  it("a consent sent but not yet mined shows 'waiting for the chain' with its transaction, across a reload, instead of offering it again", async function () {
    const page = await demo.open("consent pending", "manufacturer");
    await signIn(page, MEDIOCRE_SUPPLIER);
    await rpc("evm_setAutomine", [false]);
    try {
      // The wallet sent the transaction; nothing mines it yet.
      const tx = await applyWithConsentSent(page, "50,000.00", LENDER.name);

      await page.reload();
      // No "waiting for your consent" notice on the form: the consent is on its way.
      await page.getByRole("form", { name: "Loan application" }).waitFor();
      expect(await page.getByRole("status", { name: "Applications waiting for you" }).count()).to.equal(0);
      await page.getByRole("tab", { name: /Applications/ }).click();
      const card = page.locator("article.application").first();
      reviewId = (await card.getAttribute("data-application"))!;
      const pending = card.locator(`.pending-consent[data-consent-tx="${tx}"]`);
      await pending.waitFor();
      expect(await pending.innerText()).to.match(/Consent sent, waiting for the chain/);
      expect(await pending.innerText()).to.include(tx);
      expect(await card.getByRole("button", { name: "Grant consent and continue" }).count()).to.equal(0);
      await phoneCheck(page, "manufacturer consent pending");
    } finally {
      await rpc("evm_setAutomine", [true]);
      await rpc("evm_mine");
    }
    const card = page.locator(`article[data-application="${reviewId}"]`);
    await doneStep(page, reviewId, "consent_granted").waitFor({ timeout: 60_000 });
    await card.locator(".pending-consent").waitFor({ state: "detached" });
    expect(await card.getByRole("button", { name: "Grant consent and continue" }).count()).to.equal(0);
    expect(await page.evaluate(() => sessionStorage.getItem("scf.consent.pending"))).to.equal("{}");
    await card.locator(".badge", { hasText: /in review/i }).waitFor({ timeout: 30_000 });
  });

  it("the lender's review form (an application in review) fits 390 px, without axe violations", async function () {
    const lender = await demo.open("lender review", "lender");
    await signIn(lender, LENDER);
    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: MEDIOCRE_SUPPLIER.name }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: /Open application/ }).click();
    const review = lender.locator(`section[data-application="${reviewId}"]`).getByRole("form", { name: "Review" });
    await review.waitFor();
    await review.getByLabel("Approve with changed terms").check();
    await review.getByLabel(/New amount/).fill("999,999.00");
    await review.locator(`#review-amount-error-${reviewId}`).waitFor();
    await phoneCheck(lender, "lender review form");
  });

  it("the court page with a verified evidence bundle fits 390 px, without axe violations", async function () {
    const court = await demo.open("court bundle", "court");
    const res = await fetch(`${demo.baseUrl}/api/evidence/bundle/agreement/1`);
    expect(res.status, "the seed's first loan has an agreement bundle").to.equal(200);
    await court
      .getByLabel(/Drop a file here/)
      .setInputFiles({ name: "evidence-agreement-1.json", mimeType: "application/json", buffer: Buffer.from(await res.arrayBuffer()) });
    await court.locator('.verdict[data-verdict="bundle-verified"]').waitFor({ timeout: 30_000 });
    await phoneCheck(court, "court verified bundle");
  });
});
