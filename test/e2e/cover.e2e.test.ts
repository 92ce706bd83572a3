/**
 * Issue 16's done-when: "the browser test covers each finding and the borrower's repayment, in both
 * languages, at 1440 px and 390 px". This file runs the findings' scenarios again in Simplified Chinese on
 * a 390 px phone (the other half of the pair: the English scenarios at 1280-1440 px are in the files
 * below), each page checked for Chinese text from the app's own resources, no English left, and nothing
 * spilling off the right edge. Against the real stack `npm start` runs; any console or page error fails.
 *
 * Coverage map (file: language @ width). "+ cover" = this file, zh @ 390.
 *  1 review bounds, changed terms        apps (en @ 1280); webui (en @ 390, axe) + cover
 *  2 the selection sets the maximum      apps, loan (en @ 1280/1440); apps (zh @ 390, errors) + cover
 *  3 collateral reserved; withdraw       apps (en @ 1280) + cover (reserved, withdraw offered)
 *  4 resume after a reload               apps (en @ 1280); webui (en, consent sent not mined) + cover
 *  5 money and names, not raw units      i18n (en+zh @ 1440), portfolio (en+zh @ 1440/390), names (en+zh @
 *                                        1440/390, court verifier), ui (en) + cover (every amount in ¥)
 *  6 declines explained                  apps (en @ 1280); i18n (zh @ 1440, lender too) + cover
 *  7 loan after disbursement, bell       loan (en @ 1440, card at 390; zh labels) ; webui (webhook, en+zh) + cover
 *  8 portfolio                           portfolio (en+zh @ 1440 and 390; CSV en)
 *  9 routes, role rooms                  nav (en @ 1440) + cover
 * 10 390 px                              axe (every room, en @ 1440/390, zh @ 390), nav (en @ 390) + cover
 * 11 timeline order                      apps (en @ 1280) + cover
 * 12 amount errors                       apps (en @ 1280, zh @ 390); offline+Retry, Pledged, running month:
 *                                        nav (en @ 1440) + cover; axe: axe.e2e; compression, chunks: nav
 *  repayment                             loan (en @ 1440, 390 width check) + cover
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { englishLeft, say } from "./cover-helpers";
import {
  expectNoHorizontalOverflow,
  LENDER,
  MEDIOCRE_SUPPLIER,
  PHONE,
  RESULTS,
  RING_SUPPLIER,
  SUPPLIER,
  useDemoBrowser,
} from "./nav-helpers";

const zh = (key: string, vars?: Record<string, string | number>) => say("zh", key, vars);
/** An amount in Chinese: the yuan sign, then major units. */
const ZH_AMOUNT = /¥\d{1,3}(,\d{3})*\.\d{2}/;
/** "¥1,234.56" -> 123456n. */
function minorOf(text: string): bigint {
  const m = /¥([\d,]+)\.(\d{2})/.exec(text);
  if (!m) throw new Error(`no ¥ amount in ${JSON.stringify(text)}`);
  return BigInt(m[1].replace(/,/g, "")) * 100n + BigInt(m[2]);
}

describe("the findings again in Simplified Chinese on a 390 px phone", function () {
  this.timeout(300_000);

  const demo = useDemoBrowser();
  let names: string[] = [];
  let supplier: Page;
  let lender: Page;
  let applicationId: string;
  let loanId: string;
  /** English words left on the pages seen, checked at the end of each test. */
  const left: string[] = [];

  before(async function () {
    const config = (await (await fetch(`${demo.baseUrl}/api/config`)).json()) as { demoAccounts?: { name: string }[] };
    names = (config.demoAccounts ?? []).map((a) => a.name);
  });
  afterEach(function () {
    expect(left.splice(0), "English left on Chinese pages").to.deep.equal([]);
  });

  const open = (label: string, route: string) => demo.open(label, route, { locale: "zh-CN", ...PHONE });
  /** The page as it is now: Chinese only, no wider than the phone. */
  async function checkPage(page: Page, where: string): Promise<void> {
    await page.waitForFunction(() => document.querySelector(".state.loading") === null, undefined, { timeout: 30_000 });
    await expectNoHorizontalOverflow(page, where);
    left.push(...(await englishLeft(page, where, names)));
  }
  async function signIn(page: Page, account: { index: number; name: string }): Promise<void> {
    await page.getByLabel(zh("common:signin.demoAccount")).selectOption(String(account.index));
    await page.getByRole("button", { name: zh("common:signin.signIn"), exact: true }).click();
    await page.locator(".signin .who", { hasText: account.name }).waitFor();
  }
  const pathOf = (page: Page) => new URL(page.url()).pathname;
  const selectedTab = (page: Page) => page.locator('[role="tab"][aria-selected="true"]').innerText();
  async function applyForm(page: Page) {
    await page.getByRole("tab", { name: zh("manufacturer:tabs.apply") }).click();
    const form = page.getByRole("form", { name: zh("manufacturer:apply.form") });
    await form.waitFor();
    return form;
  }
  /** Applies in Chinese as a user would; returns the new application's id. */
  async function apply(page: Page, amount: string): Promise<string> {
    const form = await applyForm(page);
    await form.getByLabel(zh("manufacturer:apply.amount")).fill(amount);
    await form.getByLabel(zh("manufacturer:apply.lender")).selectOption({ label: LENDER.name });
    await form.getByRole("button", { name: zh("manufacturer:apply.submit"), exact: true }).click();
    const card = page.locator("article.application").first();
    await card.waitFor({ timeout: 30_000 });
    return (await card.getAttribute("data-application"))!;
  }

  it("9, 2, 10: rooms and tabs are routes in Chinese; the maximum follows the selection and an empty one is refused at the field", async function () {
    supplier = await open("supplier (zh, 390)", "");
    await supplier.waitForURL(/\/manufacturer$/);
    await supplier.getByRole("heading", { name: zh("manufacturer:title"), level: 1 }).waitFor();
    await checkPage(supplier, "manufacturer, signed out");
    await signIn(supplier, SUPPLIER);
    expect(pathOf(supplier)).to.equal("/manufacturer");
    expect(await selectedTab(supplier)).to.equal(zh("manufacturer:tabs.overview"));
    await supplier.getByRole("tab", { name: zh("manufacturer:tabs.orders") }).click();
    await supplier.waitForURL(/\/manufacturer\/orders$/);
    await supplier.getByRole("tab", { name: zh("manufacturer:tabs.apply") }).click();
    await supplier.waitForURL(/\/manufacturer\/apply$/);
    await supplier.goBack();
    await supplier.waitForURL(/\/manufacturer\/orders$/);
    expect(await selectedTab(supplier)).to.equal(zh("manufacturer:tabs.orders"));
    await supplier
      .getByRole("region", { name: zh("manufacturer:tabs.orders") })
      .locator("tbody tr")
      .first()
      .waitFor();
    await checkPage(supplier, "orders");
    await supplier.goForward();
    await supplier.waitForURL(/\/manufacturer\/apply$/);
    await supplier.reload();
    await supplier.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();
    expect(await selectedTab(supplier)).to.equal(zh("manufacturer:tabs.apply"));

    const form = supplier.getByRole("form", { name: zh("manufacturer:apply.form") });
    const boxes = form.getByRole("group", { name: zh("manufacturer:apply.receivables") }).getByRole("checkbox");
    const maxOf = async () => (await form.getByTestId("apply-max").innerText()).trim();
    await form.getByTestId("apply-max").waitFor();
    const all = await maxOf();
    expect(all).to.match(ZH_AMOUNT);
    await boxes.first().uncheck();
    const fewer = await maxOf();
    expect(minorOf(fewer)).to.be.lessThan(minorOf(all));
    await checkPage(supplier, "apply form");
    for (const box of await boxes.all()) if (await box.isChecked()) await box.uncheck();
    expect(await maxOf()).to.equal("¥0.00");
    await form.getByLabel(zh("manufacturer:apply.lender")).selectOption({ label: LENDER.name });
    await form.getByRole("button", { name: zh("manufacturer:apply.submit"), exact: true }).click();
    expect(await form.locator("#receivables-error").innerText()).to.equal(zh("apply:selection.empty"));
    expect(await supplier.getByRole("tab", { name: zh("manufacturer:tabs.applications", { count: 0 }) }).count()).to.equal(1);
    await checkPage(supplier, "apply form, nothing selected");
    for (const box of await boxes.all()) await box.check();
  });

  it("4, 3, 11: cut short before its consent, the application resumes after a reload; its collateral is reserved; the steps in the order they happened", async function () {
    // What the form sends on Apply, then the page is reloaded before the consent transaction.
    const created = await supplier.evaluate(async (lenderName) => {
      const prefill = await fetch("/api/applications/prefill").then((r) => r.json());
      const config = await fetch("/api/config").then((r) => r.json());
      const bank = (config.demoAccounts as { address: string; name: string }[]).find((a) => a.name === lenderName)!.address;
      const first = prefill.receivables[0] as { id: string; advance: string };
      const res = await fetch("/api/applications", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": "cover-resume" },
        body: JSON.stringify({
          amount: "25000000",
          termDays: 90,
          lender: bank.toLowerCase(),
          receivableIds: prefill.receivables.map((r: { id: string }) => r.id),
          scopes: prefill.requiredScopes,
        }),
      });
      return { status: res.status, body: await res.json(), receivable: first.id };
    }, LENDER.name);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    applicationId = created.body.id as string;
    await supplier.reload();
    await supplier.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();

    const form = await applyForm(supplier);
    const notice = supplier.getByRole("status", { name: zh("apply:resume.label") });
    await notice.waitFor();
    expect(await notice.innerText()).to.include(zh("apply:resume.one", { amount: "¥250,000.00" }));
    const reserved = form
      .locator("label.check", { hasText: zh("manufacturer:apply.receivable", { id: created.receivable }) })
      .getByRole("checkbox");
    expect(await reserved.isDisabled()).to.equal(true);
    await checkPage(supplier, "apply form, application waiting");
    await notice.getByRole("button", { name: zh("apply:resume.continue") }).click();
    const card = supplier.locator(`article[data-application="${applicationId}"]`);
    await card.getByRole("button", { name: zh("apply:consent.grant") }).click();
    await card.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 60_000 });
    expect(await supplier.locator("article.application").count()).to.equal(1);
    const steps = await card.locator("ol.timeline li.done").evaluateAll((els) => els.map((e) => e.getAttribute("data-step")));
    expect(steps.slice(0, 3)).to.deep.equal(["draft", "submitted", "consent_granted"]);
    expect(steps.indexOf("offer_issued")).to.be.greaterThan(steps.indexOf("consent_granted"));
    expect(await card.getByRole("button", { name: zh("apply:withdraw.button") }).count()).to.equal(1);
    expect(await card.locator("h3").first().innerText()).to.match(ZH_AMOUNT);
    await checkPage(supplier, "application card, offer issued");
    await card.getByRole("button", { name: zh("manufacturer:card.sign") }).click();
    await card.locator('li[data-step="signed_by_borrower"].done').waitFor({ timeout: 60_000 });
  });

  it("9, 12, 5: a lender signing in lands in its room; it countersigns and disburses in ¥; the pledged collateral reads 已质押", async function () {
    lender = await open("lender (zh, 390)", "manufacturer");
    await signIn(lender, LENDER);
    await lender.waitForURL(/\/lender$/);
    const row = lender
      .getByRole("region", { name: zh("lender:queue.title") })
      .locator("tbody tr", { hasText: SUPPLIER.name })
      .first();
    await row.getByRole("button", { name: zh("lender:queue.openLabel", { name: SUPPLIER.name }) }).click();
    const detail = lender.locator(`section[data-application="${applicationId}"]`);
    await detail.locator('tr[data-metric="orderCount"]').waitFor();
    await checkPage(lender, "lender, application");
    await detail.getByRole("button", { name: "会签" }).click();
    await detail.locator('li[data-step="countersigned_notarized"].done').waitFor({ timeout: 60_000 });
    const disburse = detail.getByRole("button", { name: /^放款 / });
    expect(await disburse.innerText()).to.equal("放款 ¥250,000.00");
    await disburse.click();
    await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 60_000 });
    loanId = (await detail.getAttribute("data-loan-id"))!;
    await checkPage(lender, "lender, disbursed");

    await lender.getByRole("tab", { name: zh("lender:tabs.portfolio") }).click();
    await lender.waitForURL(/\/lender\/portfolio$/);
    const loanRow = lender
      .getByRole("region", { name: zh("lender:tabs.portfolio") })
      .locator("tbody tr", { has: lender.locator("td:first-child", { hasText: new RegExp(`^#${loanId}$`) }) });
    await loanRow.locator("ul.collateral .badge").first().waitFor();
    for (const item of await loanRow.locator("ul.collateral li").allInnerTexts()) {
      expect(item).to.match(new RegExp(`^#\\d+ ${zh("common:status.pledged")}$`));
    }
    await checkPage(lender, "lender, portfolio");
    await lender.screenshot({ path: path.join(RESULTS, "cover-zh-390-lender-portfolio.png"), fullPage: true });
  });

  it("7, repayment: the bell says the money arrived; the borrower repays part, then the rest, in Chinese on the phone", async function () {
    const bell = supplier.getByRole("button", { name: /^通知，\d+ 条未读$/ });
    await bell.waitFor({ timeout: 30_000 });
    await bell.click();
    const disbursed = supplier.locator(`li[data-notification="disbursed:${applicationId}"]`);
    await disbursed.waitFor({ timeout: 30_000 });
    expect(await disbursed.innerText()).to.include(zh("loan:notifications.kind.disbursed", { party: LENDER.name, amount: "¥250,000.00" }));
    await checkPage(supplier, "notifications");
    await supplier.getByRole("button", { name: zh("loan:notifications.markAll") }).click();
    await supplier.getByRole("button", { name: zh("loan:notifications.bell"), exact: true }).click();

    await supplier.getByRole("tab", { name: zh("loan:tabs.loans") }).click();
    await supplier.waitForURL(/\/manufacturer\/loans$/);
    const loan = supplier.locator(`article.loan[data-loan="${loanId}"]`);
    await loan.waitFor({ timeout: 30_000 });
    const outstanding = minorOf(await loan.locator('[data-field="outstanding"]').innerText());
    expect(outstanding).to.be.greaterThan(25_000_000n);
    const history = loan.getByRole("table", { name: new RegExp(zh("loan:loans.historyCaption")) }).locator("tbody tr");
    expect(await history.first().innerText()).to.include(zh("loan:loans.kind.disbursement"));
    await checkPage(supplier, "my loan");

    await loan.getByLabel(zh("loan:loans.repayLabel")).fill("1,000.00");
    const before = await loan.locator('[data-field="outstanding"]').innerText();
    await loan.getByRole("button", { name: zh("loan:loans.repay"), exact: true }).click();
    await supplier.waitForFunction(
      ([id, text]) => {
        const el = document.querySelector(`article.loan[data-loan="${id}"] [data-field="outstanding"]`);
        return !!el && el.textContent !== text;
      },
      [loanId, before] as const,
      { timeout: 60_000 },
    );
    expect(minorOf(await loan.locator('[data-field="outstanding"]').innerText())).to.equal(outstanding - 100_000n);
    expect(await loan.locator('[data-field="repaid"]').innerText()).to.include("¥1,000.00");
    expect(await history.nth(1).innerText()).to.match(new RegExp(`${zh("loan:loans.kind.repayment")}[\\s\\S]*¥1,000\\.00`));
    await checkPage(supplier, "my loan, part repaid");

    await loan.getByRole("button", { name: zh("loan:loans.repay"), exact: true }).click();
    await loan
      .locator(".badge", { hasText: zh("common:status.repaid") })
      .first()
      .waitFor({ timeout: 60_000 });
    expect(await loan.locator('[data-field="outstanding"]').innerText()).to.include("¥0.00");
    expect(await history.count()).to.equal(3);
    await checkPage(supplier, "my loan, repaid");
    await supplier.screenshot({ path: path.join(RESULTS, "cover-zh-390-loan-repaid.png"), fullPage: true });
  });

  it("1: the lender's review shows the bounds in ¥ and refuses more than asked or a blank rate at the field, in Chinese", async function () {
    const borrower = await open("mediocre supplier (zh, 390)", "manufacturer");
    await signIn(borrower, MEDIOCRE_SUPPLIER);
    const id = await apply(borrower, "50,000.00");
    await lender.getByRole("tab", { name: zh("lender:tabs.queue") }).click();
    const row = lender
      .getByRole("region", { name: zh("lender:queue.title") })
      .locator("tbody tr", { hasText: MEDIOCRE_SUPPLIER.name })
      .first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: zh("lender:queue.openLabel", { name: MEDIOCRE_SUPPLIER.name }) }).click();
    const detail = lender.locator(`section[data-application="${id}"]`);
    const review = detail.getByRole("form", { name: zh("apply:review.form") });
    await review.waitFor({ timeout: 30_000 });
    expect(await review.getByRole("definition").first().innerText()).to.include("¥50,000.00");
    await review.getByLabel(zh("apply:review.changeTerms")).check();
    const amount = review.getByLabel(/^新金额/);
    await amount.fill("999,999.00");
    const amountError = review.locator(`#review-amount-error-${id}`);
    expect(await amountError.innerText()).to.include(zh("apply:review.amountAboveAsked", { asked: "¥50,000.00" }));
    await review.getByLabel(zh("apply:review.newRate")).fill("");
    await review.locator(`#review-rate-error-${id}`).waitFor();
    await checkPage(lender, "review form with errors");
    await lender.screenshot({ path: path.join(RESULTS, "cover-zh-390-review-bounds.png"), fullPage: true });
    await review.getByLabel(zh("apply:review.reason")).fill("降低金额：一个买方付款较慢。");
    await review.getByRole("button", { name: zh("apply:review.submit") }).click();
    expect(await detail.locator('li[data-step="offer_issued"].done').count()).to.equal(0);
    await amount.fill("40,000.00");
    await amountError.waitFor({ state: "detached" });
    await review.getByLabel(zh("apply:review.newRate")).fill("9.5");
    await review.getByRole("button", { name: zh("apply:review.submit") }).click();
    await detail.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 30_000 });

    const card = borrower.locator(`article[data-application="${id}"]`);
    await card.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 30_000 });
    expect(await card.locator("h3").innerText()).to.include(zh("apply:card.asked", { amount: "¥50,000.00" }).trim());
    expect(await card.locator("h3").innerText()).to.include("¥40,000.00");
    await checkPage(borrower, "borrower, changed offer");
    await borrower.context().close();
  });

  it("6: a decline leads with its reasons in Chinese; the card shows no limit, rate or offer", async function () {
    const page = await open("ring supplier (zh, 390)", "manufacturer");
    await signIn(page, RING_SUPPLIER);
    const id = await apply(page, "100,000.00");
    const card = page.locator(`article[data-application="${id}"]`);
    await card.locator(".badge", { hasText: zh("common:status.declined") }).waitFor({ timeout: 30_000 });
    const why = card.getByRole("region", { name: zh("apply:declined.label") });
    await why.getByRole("heading", { name: zh("apply:declined.toChange") }).waitFor();
    expect(await why.locator("ul.why").innerText()).to.include("循环交易");
    expect(await card.locator("dl.decision").count()).to.equal(0);
    expect(await card.locator('li[data-step="offer_issued"].not-reached').count()).to.equal(1);
    await checkPage(page, "declined card");
    await page.screenshot({ path: path.join(RESULTS, "cover-zh-390-declined.png"), fullPage: true });
    await page.context().close();
  });

  it("12: offline, a read says so in Chinese and offers 重试; the running month is drawn apart (至今)", async function () {
    await supplier.goto(`${demo.baseUrl}/manufacturer/overview`);
    const partial = supplier.locator('figure.chart circle[data-partial="true"]').first();
    await partial.waitFor();
    expect(await partial.locator("title").textContent()).to.include("至今（本月未结束）");
    await checkPage(supplier, "overview");

    const orders = supplier.getByRole("region", { name: zh("manufacturer:tabs.orders") });
    await supplier.route("**/api/enterprises/*/orders*", (route) => route.abort("connectionrefused"));
    await supplier.getByRole("tab", { name: zh("manufacturer:tabs.orders") }).click();
    const alert = orders.getByRole("alert");
    await alert.waitFor();
    expect(await alert.innerText()).to.include(zh("nav:unreachable.message"));
    await checkPage(supplier, "orders, unreachable");
    await supplier.unroute("**/api/enterprises/*/orders*");
    await alert.getByRole("button", { name: zh("nav:retry") }).click();
    await orders.locator("tbody tr").first().waitFor();
    const expected = /ERR_CONNECTION_REFUSED|ERR_FAILED/;
    const unexpected = demo.pageErrors.filter((e) => !expected.test(e));
    demo.pageErrors.splice(0, demo.pageErrors.length, ...unexpected);
  });
});
