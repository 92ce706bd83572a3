/**
 * The borrower's loan in a real browser (Chromium from test/e2e/browser.ts driven by playwright-core),
 * against the real stack that `npm start` runs (embedded chain, demo seed, service, built UI): the price
 * shown before applying follows the selected receivables; after the lender disburses, the borrower sees
 * the balance, due date and schedule, repays from its own wallet in two steps and watches the history
 * and the closed loan; it sees its consent's scope and expiry and revokes it on chain. At 1440 px and
 * at 390 px. Any console error or page error fails the test.
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { LENDER, minorOf, RESULTS, signIn, SUPPLIER, useDemoBrowser } from "./nav-helpers";

describe("the borrower's loan in a real browser: price before applying, balance, repayment, history, consent", function () {
  this.timeout(300_000);

  const demo = useDemoBrowser({ timeoutMs: 240_000 });
  let borrower: Page;
  let applicationId: string;

  const openRoom = (room: string, hash: string, width = 1440) => demo.open(room, hash, { width });

  /** Whether `locator`'s box lies within the page's width (nothing spills off the right edge). */
  async function fitsWidth(page: Page, selector: string): Promise<void> {
    const { right, width } = await page.evaluate((sel) => {
      let right = 0;
      for (const el of Array.from(document.querySelectorAll(sel))) right = Math.max(right, el.getBoundingClientRect().right);
      return { right, width: document.documentElement.clientWidth };
    }, selector);
    expect(right, `${selector} spills off a ${width} px page`).to.be.at.most(width + 0.5);
  }

  it("shows the price before applying, following the selected receivables, then applies and signs", async function () {
    borrower = await openRoom("manufacturer", "#/manufacturer");
    await signIn(borrower, SUPPLIER);
    await borrower.getByRole("tab", { name: "Apply for financing" }).click();
    const form = borrower.getByRole("form", { name: "Loan application" });
    await form.waitFor();
    const quote = form.getByRole("region", { name: "Price before applying" });
    await quote.locator('[data-field="quote-total"]').waitFor();
    const limitAllText = await quote.locator('[data-field="quote-limit"]').innerText();
    const limitAll = minorOf(limitAllText);
    expect(limitAll).to.be.greaterThan(0n);

    const boxes = await form
      .getByRole("group", { name: /Receivables to pledge/ })
      .getByRole("checkbox")
      .all();
    expect(boxes.length).to.be.greaterThan(1);
    // None selected: no price, and the form says why.
    for (const box of boxes) await box.uncheck();
    await form.getByText("Choose at least one receivable to see the price.").waitFor();
    await boxes[0].check();
    await borrower.waitForFunction((all) => {
      const el = document.querySelector('[data-field="quote-limit"]') as HTMLElement | null;
      return !!el && el.innerText !== all;
    }, limitAllText);
    const limitOne = minorOf(await quote.locator('[data-field="quote-limit"]').innerText());
    expect(limitOne).to.be.lessThan(limitAll);
    for (const box of boxes) await box.check();

    await form.getByLabel("Amount").fill("250,000.00");
    await form.getByLabel("Term").selectOption("90");
    await form.getByLabel("Lender").selectOption({ label: LENDER.name });
    await borrower.waitForFunction(() => /250,000\.00/.test(document.querySelector('[data-field="quote-amount"]')?.textContent ?? ""));
    const total = minorOf(await quote.locator('[data-field="quote-total"]').innerText());
    expect(total).to.be.greaterThan(25_000_000n);
    expect(await quote.locator('[data-field="quote-rate"]').innerText()).to.match(/\d+\.\d{2} % a year/);
    await borrower.screenshot({ path: path.join(RESULTS, "loan-quote.png"), fullPage: true });

    await form.getByRole("button", { name: "Apply" }).click();
    const card = borrower.locator("article.application").first();
    await card.waitFor({ timeout: 30_000 });
    applicationId = (await card.getAttribute("data-application"))!;
    await borrower.locator(`article[data-application="${applicationId}"] li[data-step="offer_issued"].done`).waitFor({ timeout: 30_000 });
    await card.getByRole("button", { name: "Sign the offer" }).click();
    await borrower
      .locator(`article[data-application="${applicationId}"] li[data-step="signed_by_borrower"].done`)
      .waitFor({ timeout: 30_000 });
  });

  it("after disbursement the borrower sees balance, due date and schedule, repays in two steps from its wallet and sees the history and the closed loan", async function () {
    const lender = await openRoom("lender", "#/lender");
    await signIn(lender, LENDER);
    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: SUPPLIER.name }).first();
    await row.waitFor();
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator(`section[data-application="${applicationId}"]`);
    // The lender's bell says the borrower's signature waits for its countersignature.
    await lender.locator(".bell-count").waitFor({ timeout: 30_000 });
    await lender.getByRole("button", { name: /^Notifications/ }).click();
    await lender
      .getByRole("region", { name: "Notifications" })
      .locator(`li[data-notification="signed_by_borrower:${applicationId}"]`, { hasText: "waits for your countersignature" })
      .waitFor();
    await lender.getByRole("button", { name: /^Notifications/ }).click();
    // The answer to the countersignature is the record before the chain recorded the agreement; the live
    // events bring the recorded agreement soon after. Here the answer is held until the page shows that
    // newer copy (the order a loaded machine once produced): when it lands, the page keeps the newer one.
    let releaseAnswer!: () => void;
    const answerHeld = new Promise<void>((resolve) => (releaseAnswer = resolve));
    await lender.route(`**/api/applications/${applicationId}/signatures`, async (route) => {
      const response = await route.fetch();
      await answerHeld;
      await route.fulfill({ response });
    });
    await detail.getByRole("button", { name: "Countersign" }).click();
    await detail.locator('li[data-step="countersigned_notarized"].done').waitFor({ timeout: 30_000 });
    releaseAnswer();
    await detail.locator(".next-step .state.loading").waitFor({ state: "detached", timeout: 30_000 });
    await lender.unroute(`**/api/applications/${applicationId}/signatures`);
    expect(await detail.locator('li[data-step="countersigned_notarized"].done').count(), "the recorded agreement, kept").to.equal(1);
    await detail.getByRole("button", { name: /^Disburse/ }).click();
    await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 30_000 });
    const loanId = (await detail.getAttribute("data-loan-id"))!;
    await lender.context().close();

    // The borrower's bell: the money arrived (and the offer and the countersignature before it).
    const disbursed = borrower.locator(`li[data-notification="disbursed:${applicationId}"]`);
    await borrower.getByRole("button", { name: /^Notifications, \d+ unread/ }).waitFor({ timeout: 30_000 });
    await borrower.getByRole("button", { name: /^Notifications/ }).click();
    await disbursed.waitFor({ timeout: 30_000 });
    expect(await disbursed.innerText()).to.match(/disbursed CNY 250,000\.00 to you/);
    expect(await borrower.locator(`li[data-notification="offer_issued:${applicationId}"]`).count()).to.equal(1);
    await borrower.getByRole("button", { name: "Mark all read" }).click();
    await borrower.locator(".bell-count").waitFor({ state: "detached" });
    await borrower.getByRole("button", { name: "Notifications", exact: true }).click();

    await borrower.getByRole("tab", { name: "My loans" }).click();
    const loan = borrower.locator(`article.loan[data-loan="${loanId}"]`);
    await loan.waitFor({ timeout: 30_000 });
    expect(await loan.locator(".badge").first().innerText()).to.match(/active/i);
    const balance = loan.getByRole("definition");
    expect(await balance.count()).to.equal(6);
    expect(minorOf(await loan.locator("dl.balance div", { hasText: "Principal" }).locator("dd").innerText())).to.equal(25_000_000n);
    const outstanding = minorOf(await loan.locator('[data-field="outstanding"]').innerText());
    expect(outstanding).to.be.greaterThan(25_000_000n);
    expect(await loan.locator('[data-field="due"]').innerText()).to.match(/in (89|90) days/);
    const schedule = loan.getByRole("table", { name: /What is due and when/ });
    expect(await schedule.locator("tbody tr").count()).to.equal(1);
    expect(
      await loan
        .getByRole("table", { name: /Money moved/ })
        .locator("tbody tr")
        .first()
        .innerText(),
    ).to.match(/Disbursed to you/);

    // Part of it first.
    await loan.getByLabel("Repay (CNY)").fill("1,000.00");
    await loan.getByRole("button", { name: "Repay" }).click();
    await borrower.waitForFunction(
      ([id, before]) => {
        const el = document.querySelector(`article.loan[data-loan="${id}"] [data-field="outstanding"]`);
        return !!el && el.textContent !== before;
      },
      [loanId, await loan.locator('[data-field="outstanding"]').innerText()] as const,
      { timeout: 60_000 },
    );
    expect(minorOf(await loan.locator('[data-field="outstanding"]').innerText())).to.equal(outstanding - 100_000n);
    expect(minorOf(await loan.locator('[data-field="repaid"]').innerText())).to.equal(100_000n);
    const history = loan.getByRole("table", { name: /Money moved/ }).locator("tbody tr");
    expect(await history.count()).to.equal(2);
    expect(await history.nth(1).innerText()).to.match(/You repaid[\s\S]*CNY\s*1,000\.00/);

    // 390 px: the loan card fits the phone's width.
    await borrower.setViewportSize({ width: 390, height: 844 });
    await fitsWidth(borrower, "article.loan");
    await borrower.screenshot({ path: path.join(RESULTS, "loan-390.png"), fullPage: true });
    await borrower.setViewportSize({ width: 1440, height: 900 });

    // The rest: an empty amount repays the whole outstanding; the loan closes.
    await loan.getByRole("button", { name: "Repay" }).click();
    await loan
      .locator(".badge", { hasText: /repaid/i })
      .first()
      .waitFor({ timeout: 60_000 });
    expect(minorOf(await loan.locator('[data-field="outstanding"]').innerText())).to.equal(0n);
    expect(await loan.getByRole("button", { name: "Repay" }).count()).to.equal(0);
    expect(await history.count()).to.equal(3);
    await borrower.screenshot({ path: path.join(RESULTS, "loan-repaid.png"), fullPage: true });

    // In Chinese: the same loan, worded and formatted for zh-CN.
    await borrower.getByLabel("Language").selectOption("zh");
    await borrower.getByRole("region", { name: "我的贷款" }).waitFor();
    expect(await loan.locator('[data-field="outstanding"]').innerText()).to.match(/¥0\.00/);
    expect(await loan.locator(".badge").first().innerText()).to.equal("已还清");
    await borrower.screenshot({ path: path.join(RESULTS, "loan-repaid-zh.png"), fullPage: true });
    await borrower.getByLabel("语言").selectOption("en");
    await borrower.getByRole("region", { name: "My loans" }).waitFor();
  });

  it("shows the consent's scope and expiry and revokes it on chain from the wallet", async function () {
    await borrower.getByRole("tab", { name: "Consents" }).click();
    const table = borrower.getByRole("region", { name: "My consents" });
    const row = table.locator("tbody tr", { hasText: LENDER.name }).first();
    await row.waitFor();
    expect(await row.innerText()).to.match(/Derived metrics/);
    expect(await row.locator(".badge").innerText()).to.match(/in force/i);
    // Granted for 180 days by the apply form.
    const expires = Number(await row.locator("[data-expires]").getAttribute("data-expires"));
    expect(expires * 1000).to.be.greaterThan(Date.now() + 170 * 86_400_000);
    await row.getByRole("button", { name: "Revoke this consent" }).click();
    await row.locator(".badge", { hasText: /revoked/i }).waitFor({ timeout: 60_000 });
    expect(await row.getByRole("button", { name: "Revoke this consent" }).count()).to.equal(0);

    await borrower.setViewportSize({ width: 390, height: 844 });
    await fitsWidth(borrower, "section.card");
    await borrower.screenshot({ path: path.join(RESULTS, "consents-390.png"), fullPage: true });
  });
});
