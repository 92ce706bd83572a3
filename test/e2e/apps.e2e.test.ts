/**
 * The application flow keeps its money promises in a real browser (Chromium from test/e2e/browser.ts),
 * against the real stack `npm start` runs (embedded chain, seed, service, built UI): the apply form's
 * maximum follows the selected receivables and its amount errors sit at the field; an application cut
 * short before its consent is resumed after a reload, not duplicated; a decline leads with its reasons in
 * words; the lender's review shows and enforces the bounds (never above what was asked, a rate, the
 * limit only by a reasoned override) and the borrower's request stays visible. Any console error or page
 * error fails the test.
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import {
  apply as applyAs,
  LENDER,
  MEDIOCRE_SUPPLIER,
  RESULTS,
  RING_SUPPLIER,
  signIn,
  SUPPLIER as EXCELLENT_SUPPLIER,
  useDemoBrowser,
} from "./nav-helpers";

describe("the application flow in a real browser: maximum, amount errors, resume, declines in words, review bounds", function () {
  this.timeout(240_000);

  const demo = useDemoBrowser();
  let lender: Page;

  const openRoom = (room: string, hash: string) => demo.open(room, hash, { width: 1280 });

  async function openApplyForm(page: Page) {
    await page.getByRole("tab", { name: "Apply for financing" }).click();
    const form = page.getByRole("form", { name: "Loan application" });
    await form.waitFor();
    return form;
  }

  /** Applies in five fields as a user would; returns the new application's id. */
  const apply = (page: Page, amount: string) => applyAs(page, amount, LENDER.name);

  /** The first CNY amount in a text, its separator normalised (Intl puts a no-break space after the code). */
  const cny = (text: string) => /CNY\s?[\d,]+\.\d\d/.exec(text)?.[0].replace(/\s/, " ");

  it("the maximum follows the selected receivables; amount errors are specific, at the field, and gone once fixed; an empty selection applies for nothing", async function () {
    const page = await openRoom("manufacturer", "#/manufacturer");
    await signIn(page, EXCELLENT_SUPPLIER);
    const form = await openApplyForm(page);
    const boxes = form.getByRole("group", { name: /Receivables to pledge/ }).getByRole("checkbox");
    expect(await boxes.count()).to.be.greaterThan(1);
    const maxOf = async () => (await form.getByTestId("apply-max").innerText()).trim();
    const all = await maxOf();
    await boxes.first().uncheck();
    const fewer = await maxOf();
    expect(fewer).not.to.equal(all);
    expect(fewer).to.match(/^CNY/);

    // More than the selection allows: the message says the maximum, in CNY, next to the field.
    const amount = form.getByLabel("Amount");
    await amount.fill("999,999,999.00");
    await amount.blur();
    const error = form.locator("#amount-error");
    await error.waitFor();
    expect(await error.innerText()).to.include(`The most the selected receivables allow is ${fewer}`);
    expect(await amount.getAttribute("aria-invalid")).to.equal("true");
    expect(await amount.getAttribute("aria-describedby")).to.contain("amount-error");
    await amount.fill("12.345");
    expect(await error.innerText()).to.include("at most two decimals");
    await amount.fill("10,000.00");
    await error.waitFor({ state: "detached" });
    expect(await amount.getAttribute("aria-invalid")).to.equal(null);

    // No receivable selected: the maximum is zero and Apply creates nothing.
    for (const box of await boxes.all()) if (await box.isChecked()) await box.uncheck();
    expect(await maxOf()).to.match(/^CNY\s?0\.00$/);
    await form.getByLabel("Lender").selectOption({ label: LENDER.name });
    await form.getByRole("button", { name: "Apply" }).click();
    await form.locator("#receivables-error").waitFor();
    expect(await page.getByRole("tab", { name: /Applications \(0\)/ }).count()).to.equal(1);
    await page.screenshot({ path: path.join(RESULTS, "apps-amount-errors.png"), fullPage: true });
  });

  it("in Simplified Chinese on a 390 px screen, the amount errors are Chinese, specific and right under the field", async function () {
    // Signed in and on the form in English, then switched to Chinese from the top bar (the switch is immediate).
    const page = await demo.open("manufacturer (zh, 390 px)", "#/manufacturer", { width: 390, height: 844 });
    await signIn(page, EXCELLENT_SUPPLIER);
    await openApplyForm(page);
    await page.getByLabel("Language").selectOption("zh");
    const form = page.locator("form.apply");
    const amount = form.locator("#amount");
    await amount.fill("12.345");
    await amount.blur();
    const error = form.locator("#amount-error");
    await error.waitFor();
    expect(await error.innerText()).to.include("最多两位小数");
    await amount.fill("999,999,999.00");
    expect(await error.innerText()).to.match(/^所选应收账款最多可借 .*[\d,]+\.\d\d；/);
    const [field, message] = [await amount.boundingBox(), await error.boundingBox()];
    expect(message!.x).to.be.at.least(0);
    expect(message!.x + message!.width).to.be.at.most(390);
    expect(message!.y).to.be.greaterThan(field!.y);
    expect(message!.y - (field!.y + field!.height)).to.be.lessThan(48);
    await amount.fill("1,000.00");
    await error.waitFor({ state: "detached" });
    await page.screenshot({ path: path.join(RESULTS, "apps-amount-errors-zh-390.png"), fullPage: true });
    await page.context().close();
  });

  it("an application cut short before its consent is resumed after a reload: its receivables stay reserved, nothing is duplicated, and it can be withdrawn", async function () {
    const page = await openRoom("manufacturer", "#/manufacturer");
    await signIn(page, EXCELLENT_SUPPLIER);
    // What the form sends on Apply, then the page is reloaded before the consent transaction.
    const prefill = await page.evaluate(() => fetch("/api/applications/prefill").then((r) => r.json()));
    const demo = await page.evaluate(() => fetch("/api/config").then((r) => r.json()));
    const bank = (demo.demoAccounts as { address: string; name: string }[]).find((a) => a.name === LENDER.name)!.address;
    const first = prefill.receivables[0] as { id: string; advance: string };
    const created = await page.evaluate(
      async ([lenderAddr, receivable, amount, scopes]) => {
        const res = await fetch("/api/applications", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": "e2e-resume" },
          body: JSON.stringify({ amount, termDays: 90, lender: lenderAddr, receivableIds: [receivable], scopes }),
        });
        return { status: res.status, body: await res.json() };
      },
      [bank.toLowerCase(), first.id, (BigInt(first.advance) / 2n).toString(), prefill.requiredScopes] as const,
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    await page.reload();
    await page.locator(".signin .who", { hasText: EXCELLENT_SUPPLIER.name }).waitFor();

    const form = await openApplyForm(page);
    const notice = page.getByRole("status", { name: "Applications waiting for you" });
    await notice.waitFor();
    // Its receivable is reserved: not selectable, so applying again cannot pledge it twice.
    const reserved = form.locator("label.check", { hasText: `Receivable #${first.id}` }).getByRole("checkbox");
    expect(await reserved.isDisabled()).to.equal(true);
    expect(await reserved.isChecked()).to.equal(false);
    await notice.getByRole("button", { name: "Continue my application" }).click();
    const card = page.locator(`article[data-application="${id}"]`);
    await card.getByRole("button", { name: "Grant consent and continue" }).click();
    await card.locator('li[data-step="consent_granted"].done').waitFor({ timeout: 30_000 });
    await card.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 30_000 });
    expect(await page.locator("article.application").count()).to.equal(1);
    // The steps are listed in the order they happened: the draft first, the consent after it.
    const steps = await card.locator("ol.timeline li.done").evaluateAll((els) => els.map((e) => e.getAttribute("data-step")));
    expect(steps.slice(0, 3)).to.deep.equal(["draft", "submitted", "consent_granted"]);

    await card.getByRole("button", { name: "Withdraw this application" }).click();
    await card.locator(".badge", { hasText: /withdrawn/i }).waitFor({ timeout: 30_000 });
    expect(await card.getByRole("button", { name: "Sign the offer" }).count()).to.equal(0);
    await page.screenshot({ path: path.join(RESULTS, "apps-resumed-withdrawn.png"), fullPage: true });
  });

  it("a decline leads with its reasons in words and what would change it; the card shows no limit, no rate and no offer", async function () {
    const page = await openRoom("manufacturer #17", "#/manufacturer");
    await signIn(page, RING_SUPPLIER);
    const id = await apply(page, "100,000.00");
    const card = page.locator(`article[data-application="${id}"]`);
    await card.locator(".badge", { hasText: /declined/i }).waitFor({ timeout: 30_000 });
    const why = card.getByRole("region", { name: "Why the application was declined" });
    await why.waitFor();
    const words = await why.locator("ul.why").innerText();
    expect(words).to.match(/cycle/i);
    expect(words).not.to.match(/\b[a-z]+_[a-z_]+\b/); // no internal code
    expect(words).not.to.match(/0x[0-9a-f]{6}/i);
    expect(await why.getByRole("heading", { name: "What would change the outcome" }).count()).to.equal(1);
    // The codes stay available, folded away.
    expect(await why.locator("details summary").innerText()).to.match(/reason codes/);
    expect(await card.locator("dl.decision").count()).to.equal(0);
    expect(await card.getByText(/^Limit$/).count()).to.equal(0);
    expect(await card.locator('li[data-step="offer_issued"].not-reached').count()).to.equal(1);
    expect(await card.locator("li.next").count()).to.equal(0);
    await page.screenshot({ path: path.join(RESULTS, "apps-declined-in-words.png"), fullPage: true });
  });

  it("the lender's review shows the bounds and refuses more than asked or a blank rate at the field; the borrower keeps seeing what it asked for", async function () {
    const supplier = await openRoom("manufacturer #9", "#/manufacturer");
    await signIn(supplier, MEDIOCRE_SUPPLIER);
    const id = await apply(supplier, "50,000.00");
    await supplier.locator(`article[data-application="${id}"] .badge`, { hasText: /referred|in review/i }).waitFor({ timeout: 30_000 });

    lender = await openRoom("lender", "#/lender");
    await signIn(lender, LENDER);
    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: MEDIOCRE_SUPPLIER.name }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator(`section[data-application="${id}"]`);
    const review = detail.getByRole("form", { name: "Review" });
    await review.waitFor();
    const bounds = review.getByRole("definition").first();
    expect(cny(await bounds.innerText())).to.equal("CNY 50,000.00");

    await review.getByLabel("Approve with changed terms").check();
    const amount = review.getByLabel(/New amount/);
    await amount.fill("999,999.00");
    const amountError = review.locator(`#review-amount-error-${id}`);
    await amountError.waitFor();
    expect(await amountError.innerText()).to.include("never more than the borrower asked for");
    await review.getByLabel(/Rate \(% a year/).fill("");
    const rateError = review.locator(`#review-rate-error-${id}`);
    await rateError.waitFor();
    await review.getByLabel(/^Reason \(required/).fill("Lower amount: one buyer pays late.");
    await review.getByRole("button", { name: "Record decision" }).click();
    // Nothing was recorded: still in review.
    expect(await detail.locator(".badge", { hasText: /offer issued/i }).count()).to.equal(0);

    await amount.fill("40,000.00");
    await amountError.waitFor({ state: "detached" });
    await review.getByLabel(/Rate \(% a year/).fill("9.5");
    await rateError.waitFor({ state: "detached" });
    await review.getByRole("button", { name: "Record decision" }).click();
    await detail
      .locator(".badge", { hasText: /offer issued/i })
      .first()
      .waitFor({ timeout: 30_000 });
    const facts = await detail.locator("dl.facts").innerText();
    expect(facts).to.match(/Amount asked\s+CNY\s?50,000\.00/);
    expect(facts).to.match(/Amount offered\s+CNY\s?40,000\.00/);

    const card = supplier.locator(`article[data-application="${id}"]`);
    await card.locator(".badge", { hasText: /offer issued/i }).waitFor({ timeout: 30_000 });
    expect(await card.locator("h3").innerText()).to.match(/CNY\s?40,000\.00[\s\S]*you asked for CNY\s?50,000\.00/);
    await lender.screenshot({ path: path.join(RESULTS, "apps-review-bounds.png"), fullPage: true });
  });
});
