/**
 * The application flow keeps its money promises in a real browser (Chromium from test/e2e/browser.ts),
 * against the real stack `npm start` runs (embedded chain, seed, service, built UI): the apply form's
 * maximum follows the selected receivables and its amount errors sit at the field; an application cut
 * short before its consent is resumed after a reload, not duplicated; a decline leads with its reasons in
 * words; the lender's review shows and enforces the bounds (never above what was asked, a rate, the
 * limit only by a reasoned override) and the borrower's request stays visible; a supplier with more
 * receivables than a page pages through them and keeps what it ticked on other pages. Any console error
 * or page error fails the test.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { createPublicClient, createWalletClient, http, parseEventLogs, type Address } from "viem";
import { abiOf, type Deployment } from "../../node-service/src/chain/contracts";
import {
  apply as applyAs,
  axeViolations,
  LENDER,
  MEDIOCRE_SUPPLIER,
  minorOf,
  RESULTS,
  RING_SUPPLIER,
  signIn,
  SUPPLIER as EXCELLENT_SUPPLIER,
  useDemoBrowser,
} from "./nav-helpers";

describe("the application flow in a real browser: maximum, amount errors, resume, declines in words, review bounds, pages of receivables", function () {
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
  it("a supplier with more receivables than a page pages through them; what it ticked on another page stays selected, counts in the maximum, and is pledged", async function () {
    const page = await openRoom("manufacturer #8, pages", "#/manufacturer");
    await signIn(page, EXCELLENT_SUPPLIER);
    const json = (url: string) => page.evaluate((u) => fetch(u).then((r) => r.json()), url);
    const before = await json("/api/applications/prefill");
    const config = await json("/api/config");
    const supplier = (config.demoAccounts as { address: Address; name: string }[]).find((a) => a.name === EXCELLENT_SUPPLIER.name)!.address;

    // On the chain, as the supplier would: one free receivable split into 16, and six of those into 16
    // each, so it holds 105 more receivables than before.
    const deployment = JSON.parse(readFileSync(demo.stack!.deploymentFile, "utf8")) as Deployment;
    const chain = createPublicClient({ transport: http(demo.stack!.chainUrl) });
    const wallet = createWalletClient({ account: supplier, transport: http(demo.stack!.chainUrl) });
    const abi = abiOf("Receivables");
    const splitInto16 = async (id: bigint, face: bigint) => {
      const part = face / 16n;
      const hash = await wallet.writeContract({
        chain: null,
        address: deployment.contracts.Receivables,
        abi,
        functionName: "split",
        args: [id, [...Array<bigint>(15).fill(part), face - 15n * part], Array<Address>(16).fill(supplier)],
      });
      const receipt = await chain.waitForTransactionReceipt({ hash });
      expect(receipt.status).to.equal("success");
      return parseEventLogs({ abi, logs: receipt.logs, eventName: "ReceivableChildCreated" }).map((e) => {
        const args = e.args as unknown as { receivableId: bigint; faceValue: bigint };
        return { id: args.receivableId, face: args.faceValue };
      });
    };
    const root = (before.receivables as { id: string; faceValue: string; paid: string; inApplication?: string }[]).find(
      (r) => !r.inApplication && r.paid === "0",
    )!;
    const children = await splitInto16(BigInt(root.id), BigInt(root.faceValue));
    for (const child of children.slice(0, 6)) await splitInto16(child.id, child.face);
    const total = before.receivableCount + 105;
    for (let i = 0; (await json("/api/applications/prefill")).receivableCount !== total; i++) {
      if (i > 100) throw new Error(`the index did not reach the split receivables (${total} expected)`);
      await page.waitForTimeout(200);
    }

    await page.reload();
    await page.locator(".signin .who", { hasText: EXCELLENT_SUPPLIER.name }).waitFor();
    const form = await openApplyForm(page);
    const list = form.getByRole("group", { name: /Receivables to pledge/ });
    const pager = form.getByRole("group", { name: "Pages of your receivables" });
    await pager.getByText(`Receivables 1–100 of ${total}, by number.`).waitFor();
    const boxes = list.getByRole("checkbox");
    expect(await boxes.count()).to.equal(100);
    const maxOf = async () => minorOf(await form.getByTestId("apply-max").innerText());
    const checked = list.locator("label.check", { has: page.locator("input:checked") });
    expect(await checked.count()).to.equal(10);
    expect(await pager.getByRole("button", { name: "Previous page" }).isDisabled()).to.equal(true);

    // Nine of the preselected ten, then one from the last page.
    await checked.last().getByRole("checkbox").uncheck();
    const nine = await maxOf();
    await pager.getByRole("button", { name: "Next page" }).click();
    await pager.getByText(`Receivables 101–${total} of ${total}, by number.`).waitFor();
    await pager.getByText("9 selected on other pages.").waitFor();
    expect(await pager.getByRole("button", { name: "Next page" }).isDisabled()).to.equal(true);
    expect(await boxes.count()).to.equal(total - 100);
    const late = list.locator("label.check").last();
    const lateText = await late.innerText();
    const lateId = /Receivable #(\d+)/.exec(lateText)![1];
    const lateAdvance = minorOf(/allows up to (.*)/.exec(lateText)![1]);
    await late.getByRole("checkbox").check();
    expect(await maxOf()).to.equal(nine + lateAdvance);
    await form.screenshot({ path: path.join(RESULTS, "apps-pages-of-receivables.png") });
    expect(await axeViolations(page)).to.deep.equal([]);
    // The eleventh cannot be ticked on any page.
    expect(await list.getByRole("checkbox", { disabled: true }).count()).to.equal(total - 100 - 1);

    await pager.getByRole("button", { name: "Previous page" }).click();
    await pager.getByText(`Receivables 1–100 of ${total}, by number.`).waitFor();
    await pager.getByText("1 selected on another page.").waitFor();
    expect(await checked.count()).to.equal(9);
    expect(await maxOf()).to.equal(nine + lateAdvance);

    await form.getByRole("button", { name: "Use maximum" }).click();
    await form.getByLabel("Lender").selectOption({ label: LENDER.name });
    await form.getByRole("button", { name: "Apply" }).click();
    const card = page.locator("article.application").first();
    await card.waitFor({ timeout: 30_000 });
    const id = await card.getAttribute("data-application");
    const created = await json(`/api/applications/${id}`);
    expect(created.receivableIds).to.have.length(10);
    expect(created.receivableIds).to.include(lateId);
    expect(BigInt(created.requested?.amount ?? created.amount)).to.equal(nine + lateAdvance);
  });
});
