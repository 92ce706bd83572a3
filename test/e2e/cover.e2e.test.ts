/**
 * Issue 16's done-when: "the browser test covers each finding and the borrower's repayment, in both
 * languages, at 1440 px and 390 px". This file runs the findings' scenarios and the repayment once for
 * each pair, Simplified Chinese and English at 390 px and at 1440 px, the texts from the app's own
 * resources (say), amounts as the app formats them for the language ("¥1,234.56", "CNY 1,234.56"),
 * every page checked for nothing spilling off the right edge and, in Chinese, for no English left.
 * Against the real stack `npm start` runs; any console or page error fails.
 *
 * Coverage map (file: language @ width). "cover" = this file, en and zh @ 390 and 1440.
 *  1 review bounds, changed terms        cover; apps (en @ 1280); webui (en @ 390, axe)
 *  2 the selection sets the maximum      cover; apps, loan (en @ 1280/1440); apps (zh @ 390, errors)
 *  3 collateral reserved; withdraw       cover (reserved, withdraw offered, a changed offer withdrawn); apps (en @ 1280)
 *  4 resume after a reload               cover; apps (en @ 1280); webui (en, consent sent not mined)
 *  5 money and names, not raw units      cover (every amount in the language's form); i18n (en+zh @ 1440),
 *                                        portfolio (en+zh @ 1440/390), names (en+zh @ 1440/390, court
 *                                        verifier), ui (en)
 *  6 declines explained                  cover; apps (en @ 1280); i18n (zh @ 1440, lender too)
 *  7 loan after disbursement, bell,      cover (bell, balance, history, consent expiry and revoke);
 *    consents                            loan (en @ 1440, card at 390; zh labels); webui (webhook, en+zh)
 *  8 portfolio                           portfolio (en+zh @ 1440 and 390; CSV en); cover (collateral badges)
 *  9 routes, role rooms                  cover; nav (en @ 1440)
 * 10 390 px                              cover; axe (every room, en @ 1440/390, zh @ 390), nav (en @ 390)
 * 11 timeline order                      cover; apps (en @ 1280)
 * 12 amount errors                       cover; apps (en @ 1280, zh @ 390); offline+Retry, Pledged, running
 *                                        month: cover, nav (en @ 1440); axe: axe.e2e; compression, chunks: nav
 *  repayment                             cover; loan (en @ 1440, 390 width check)
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { formatAmountIn } from "../../web/src/i18n/format";
import { englishLeft, say, type Lang } from "./cover-helpers";
import {
  expectNoHorizontalOverflow,
  LENDERS,
  MEDIOCRE_SUPPLIER,
  PHONE,
  RESULTS,
  RING_SUPPLIER,
  SUPPLIER,
  useDemoBrowser,
  WIDE,
} from "./nav-helpers";

/**
 * The (language, width) pairs this file runs: all four. Each pair's applications are its own, made from
 * what the seed left: the supplier's collateral comes back when its loan is repaid and the mediocre
 * supplier's when it withdraws its offer. A consent the supplier granted a lender is still in force in
 * the next pair and would carry a new application straight past "waiting for consent", so each pair
 * revokes its consent at the end and the first three go to three different lenders; the fourth goes to
 * the first pair's lender, whose consent that pair revoked.
 */
const PAIRS: { lang: Lang; viewport: { width: number; height: number }; bank: (typeof LENDERS)[number] }[] = [
  { lang: "zh", viewport: PHONE, bank: LENDERS[0] },
  { lang: "en", viewport: PHONE, bank: LENDERS[1] },
  { lang: "zh", viewport: WIDE, bank: LENDERS[2] },
  { lang: "en", viewport: WIDE, bank: LENDERS[0] },
];
const LOCALE: Record<Lang, string> = { en: "en-US", zh: "zh-CN" };
/** The lender's reason for changing the terms, as its reviewer would type it. */
const REASON: Record<Lang, string> = { en: "Lower amount: one buyer pays slowly.", zh: "降低金额：一个买方付款较慢。" };
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Stands for a placeholder's value while a text is turned into a pattern or cut at the placeholder. */
const HOLE = "\u0001";

describe("issue 16's findings and the repayment in each language at each width", function () {
  this.timeout(300_000);

  const demo = useDemoBrowser();
  let names: string[] = [];

  before(async function () {
    const config = (await (await fetch(`${demo.baseUrl}/api/config`)).json()) as { demoAccounts?: { name: string }[] };
    names = (config.demoAccounts ?? []).map((a) => a.name);
  });

  for (const { lang, viewport, bank } of PAIRS) {
    const tag = `${lang}-${viewport.width}`;
    describe(`${lang === "zh" ? "Simplified Chinese" : "English"} at ${viewport.width} px`, function () {
      const text = (key: string, vars?: Record<string, string | number>) => say(lang, key, vars);
      /** An amount as the app formats it in this language (web/src/i18n/format.ts): "CNY 1,234.56", "¥1,234.56". */
      const money = (minor: bigint) => formatAmountIn(lang, minor);
      /** What comes before the digits: "CNY " or "¥". */
      const currency = escapeRe(money(0n).replace("0.00", ""));
      const AMOUNT = new RegExp(`${currency}\\d{1,3}(,\\d{3})*\\.\\d{2}`);
      /** "¥1,234.56" (or "CNY 1,234.56") -> 123456n. */
      function minorOf(shown: string): bigint {
        const m = new RegExp(`${currency}([\\d,]+)\\.(\\d{2})`).exec(shown);
        if (!m) throw new Error(`no ${lang} amount in ${JSON.stringify(shown)}`);
        return BigInt(m[1].replace(/,/g, "")) * 100n + BigInt(m[2]);
      }

      let supplier: Page;
      let lender: Page;
      /** How many applications the supplier had before this pair's (earlier pairs leave theirs, ended). */
      let earlier = 0;
      let applicationId: string;
      let loanId: string;
      /** English words left on the Chinese pages seen, checked at the end of each test. */
      const left: string[] = [];

      afterEach(function () {
        expect(left.splice(0), "English left on Chinese pages").to.deep.equal([]);
      });

      const open = (label: string, route: string) => demo.open(`${label} (${tag})`, route, { locale: LOCALE[lang], ...viewport });
      /** The page as it is now: no wider than the screen, and in Chinese only when it should be. */
      async function checkPage(page: Page, where: string): Promise<void> {
        await page.waitForFunction(() => document.querySelector(".state.loading") === null, undefined, { timeout: 30_000 });
        await expectNoHorizontalOverflow(page, `${tag}: ${where}`);
        if (lang === "zh") left.push(...(await englishLeft(page, `${tag}: ${where}`, names)));
      }
      async function signIn(page: Page, account: { index: number; name: string }): Promise<void> {
        await page.getByLabel(text("common:signin.demoAccount")).selectOption(String(account.index));
        await page.getByRole("button", { name: text("common:signin.signIn"), exact: true }).click();
        await page.locator(".signin .who", { hasText: account.name }).waitFor();
      }
      const pathOf = (page: Page) => new URL(page.url()).pathname;
      const selectedTab = (page: Page) => page.locator('[role="tab"][aria-selected="true"]').innerText();
      const shot = (page: Page, name: string) => page.screenshot({ path: path.join(RESULTS, `cover-${tag}-${name}.png`), fullPage: true });
      async function applyForm(page: Page) {
        await page.getByRole("tab", { name: text("manufacturer:tabs.apply") }).click();
        const form = page.getByRole("form", { name: text("manufacturer:apply.form") });
        await form.waitFor();
        return form;
      }
      /** Applies as a user would; returns the new application's id. */
      async function apply(page: Page, amount: string): Promise<string> {
        const form = await applyForm(page);
        await form.getByLabel(text("manufacturer:apply.amount")).fill(amount);
        await form.getByLabel(text("manufacturer:apply.lender")).selectOption({ label: bank.name });
        await form.getByRole("button", { name: text("manufacturer:apply.submit"), exact: true }).click();
        const card = page.locator("article.application").first();
        await card.waitFor({ timeout: 30_000 });
        return (await card.getAttribute("data-application"))!;
      }

      it("9, 2, 10: rooms and tabs are routes; the maximum follows the selection and an empty one is refused at the field", async function () {
        supplier = await open("supplier", "");
        await supplier.waitForURL(/\/manufacturer$/);
        await supplier.getByRole("heading", { name: text("manufacturer:title"), level: 1 }).waitFor();
        await checkPage(supplier, "manufacturer, signed out");
        await signIn(supplier, SUPPLIER);
        earlier = await supplier.evaluate(async () => {
          const res = await fetch("/api/applications?role=borrower");
          return ((await res.json()) as { applications: unknown[] }).applications.length;
        });
        expect(pathOf(supplier)).to.equal("/manufacturer");
        expect(await selectedTab(supplier)).to.equal(text("manufacturer:tabs.overview"));
        await supplier.getByRole("tab", { name: text("manufacturer:tabs.orders") }).click();
        await supplier.waitForURL(/\/manufacturer\/orders$/);
        await supplier.getByRole("tab", { name: text("manufacturer:tabs.apply") }).click();
        await supplier.waitForURL(/\/manufacturer\/apply$/);
        await supplier.goBack();
        await supplier.waitForURL(/\/manufacturer\/orders$/);
        expect(await selectedTab(supplier)).to.equal(text("manufacturer:tabs.orders"));
        await supplier
          .getByRole("region", { name: text("manufacturer:tabs.orders") })
          .locator("tbody tr")
          .first()
          .waitFor();
        await checkPage(supplier, "orders");
        await supplier.goForward();
        await supplier.waitForURL(/\/manufacturer\/apply$/);
        await supplier.reload();
        await supplier.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();
        expect(await selectedTab(supplier)).to.equal(text("manufacturer:tabs.apply"));

        const form = supplier.getByRole("form", { name: text("manufacturer:apply.form") });
        const boxes = form.getByRole("group", { name: text("manufacturer:apply.receivables") }).getByRole("checkbox");
        const maxOf = async () => (await form.getByTestId("apply-max").innerText()).trim();
        await form.getByTestId("apply-max").waitFor();
        const all = await maxOf();
        expect(all).to.match(AMOUNT);
        await boxes.first().uncheck();
        const fewer = await maxOf();
        expect(minorOf(fewer)).to.be.lessThan(minorOf(all));
        await checkPage(supplier, "apply form");
        for (const box of await boxes.all()) if (await box.isChecked()) await box.uncheck();
        expect(await maxOf()).to.equal(money(0n));
        await form.getByLabel(text("manufacturer:apply.lender")).selectOption({ label: bank.name });
        await form.getByRole("button", { name: text("manufacturer:apply.submit"), exact: true }).click();
        expect(await form.locator("#receivables-error").innerText()).to.equal(text("apply:selection.empty"));
        const applicationsTab = supplier.getByRole("tab", { name: text("manufacturer:tabs.applications", { count: earlier }) });
        expect(await applicationsTab.count()).to.equal(1);
        await checkPage(supplier, "apply form, nothing selected");
        for (const box of await boxes.all()) await box.check();
      });

      it("4, 3, 11: cut short before its consent, the application resumes after a reload; its collateral is reserved; the steps in the order they happened", async function () {
        // What the form sends on Apply, then the page is reloaded before the consent transaction.
        const created = await supplier.evaluate(
          async ([lenderName, key]) => {
            const prefill = await fetch("/api/applications/prefill").then((r) => r.json());
            const config = await fetch("/api/config").then((r) => r.json());
            const bank = (config.demoAccounts as { address: string; name: string }[]).find((a) => a.name === lenderName)!.address;
            const first = prefill.receivables[0] as { id: string; advance: string };
            const res = await fetch("/api/applications", {
              method: "POST",
              headers: { "Content-Type": "application/json", "Idempotency-Key": key },
              body: JSON.stringify({
                amount: "25000000",
                termDays: 90,
                lender: bank.toLowerCase(),
                receivableIds: prefill.receivables.map((r: { id: string }) => r.id),
                scopes: prefill.requiredScopes,
              }),
            });
            return { status: res.status, body: await res.json(), receivable: first.id };
          },
          [bank.name, `cover-resume-${tag}`] as const,
        );
        expect(created.status, JSON.stringify(created.body)).to.equal(201);
        applicationId = created.body.id as string;
        await supplier.reload();
        await supplier.locator(".signin .who", { hasText: SUPPLIER.name }).waitFor();

        const form = await applyForm(supplier);
        const notice = supplier.getByRole("status", { name: text("apply:resume.label") });
        await notice.waitFor();
        expect(await notice.innerText()).to.include(text("apply:resume.one", { amount: money(25_000_000n) }));
        const reserved = form
          .locator("label.check", { hasText: text("manufacturer:apply.receivable", { id: created.receivable }) })
          .getByRole("checkbox");
        expect(await reserved.isDisabled()).to.equal(true);
        await checkPage(supplier, "apply form, application waiting");
        await notice.getByRole("button", { name: text("apply:resume.continue") }).click();
        const card = supplier.locator(`article[data-application="${applicationId}"]`);
        await card.getByRole("button", { name: text("apply:consent.grant") }).click();
        await card.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 60_000 });
        expect(await supplier.locator("article.application").count()).to.equal(earlier + 1);
        const steps = await card.locator("ol.timeline li.done").evaluateAll((els) => els.map((e) => e.getAttribute("data-step")));
        expect(steps.slice(0, 3)).to.deep.equal(["draft", "submitted", "consent_granted"]);
        expect(steps.indexOf("offer_issued")).to.be.greaterThan(steps.indexOf("consent_granted"));
        expect(await card.getByRole("button", { name: text("apply:withdraw.button") }).count()).to.equal(1);
        expect(await card.locator("h3").first().innerText()).to.match(AMOUNT);
        await checkPage(supplier, "application card, offer issued");
        await card.getByRole("button", { name: text("manufacturer:card.sign") }).click();
        await card.locator('li[data-step="signed_by_borrower"].done').waitFor({ timeout: 60_000 });
      });

      it("9, 12, 5: a lender signing in lands in its room; it countersigns and disburses in the language's money; the pledged collateral reads Pledged", async function () {
        lender = await open("lender", "manufacturer");
        await signIn(lender, bank);
        await lender.waitForURL(/\/lender$/);
        // This pair's application: the one the borrower has signed (an earlier pair's, to the same lender, is closed).
        const row = lender
          .getByRole("region", { name: text("lender:queue.title") })
          .locator("tbody tr", { hasText: SUPPLIER.name })
          .filter({ has: lender.locator(".badge", { hasText: text("common:status.signed_by_borrower") }) });
        await row.getByRole("button", { name: text("lender:queue.openLabel", { name: SUPPLIER.name }) }).click();
        const detail = lender.locator(`section[data-application="${applicationId}"]`);
        await detail.locator('tr[data-metric="orderCount"]').waitFor();
        await checkPage(lender, "lender, application");
        await detail.getByRole("button", { name: text("lender:actions.countersign"), exact: true }).click();
        await detail.locator('li[data-step="countersigned_notarized"].done').waitFor({ timeout: 60_000 });
        const disburse = detail.getByRole("button", { name: text("lender:actions.disburse", { amount: money(25_000_000n) }), exact: true });
        await disburse.click();
        await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 60_000 });
        loanId = (await detail.getAttribute("data-loan-id"))!;
        await checkPage(lender, "lender, disbursed");

        await lender.getByRole("tab", { name: text("lender:tabs.portfolio") }).click();
        await lender.waitForURL(/\/lender\/portfolio$/);
        const loanRow = lender
          .getByRole("region", { name: text("lender:tabs.portfolio") })
          .locator("tbody tr", { has: lender.locator("td:first-child", { hasText: new RegExp(`^#${loanId}$`) }) });
        await loanRow.locator("ul.collateral .badge").first().waitFor();
        for (const item of await loanRow.locator("ul.collateral li").allInnerTexts()) {
          expect(item).to.match(new RegExp(`^#\\d+ ${escapeRe(text("common:status.pledged"))}$`));
        }
        await checkPage(lender, "lender, portfolio");
        await shot(lender, "lender-portfolio");
      });

      it("7, repayment: the bell says the money arrived; the borrower repays part, then the rest", async function () {
        const unread = escapeRe(text("loan:notifications.bellUnread_other", { count: HOLE })).replace(HOLE, "\\d+");
        const bell = supplier.getByRole("button", { name: new RegExp(`^${unread}$`) });
        await bell.waitFor({ timeout: 30_000 });
        await bell.click();
        const disbursed = supplier.locator(`li[data-notification="disbursed:${applicationId}"]`);
        await disbursed.waitFor({ timeout: 30_000 });
        expect(await disbursed.innerText()).to.include(
          text("loan:notifications.kind.disbursed", { party: bank.name, amount: money(25_000_000n) }),
        );
        await checkPage(supplier, "notifications");
        await supplier.getByRole("button", { name: text("loan:notifications.markAll") }).click();
        await supplier.getByRole("button", { name: text("loan:notifications.bell"), exact: true }).click();

        await supplier.getByRole("tab", { name: text("loan:tabs.loans") }).click();
        await supplier.waitForURL(/\/manufacturer\/loans$/);
        const loan = supplier.locator(`article.loan[data-loan="${loanId}"]`);
        await loan.waitFor({ timeout: 30_000 });
        const outstanding = minorOf(await loan.locator('[data-field="outstanding"]').innerText());
        expect(outstanding).to.be.greaterThan(25_000_000n);
        const history = loan.getByRole("table", { name: new RegExp(escapeRe(text("loan:loans.historyCaption"))) }).locator("tbody tr");
        expect(await history.first().innerText()).to.include(text("loan:loans.kind.disbursement"));
        await checkPage(supplier, "my loan");

        await loan.getByLabel(text("loan:loans.repayLabel")).fill("1,000.00");
        const before = await loan.locator('[data-field="outstanding"]').innerText();
        await loan.getByRole("button", { name: text("loan:loans.repay"), exact: true }).click();
        await supplier.waitForFunction(
          ([id, shown]) => {
            const el = document.querySelector(`article.loan[data-loan="${id}"] [data-field="outstanding"]`);
            return !!el && el.textContent !== shown;
          },
          [loanId, before] as const,
          { timeout: 60_000 },
        );
        expect(minorOf(await loan.locator('[data-field="outstanding"]').innerText())).to.equal(outstanding - 100_000n);
        expect(await loan.locator('[data-field="repaid"]').innerText()).to.include(money(100_000n));
        expect(await history.nth(1).innerText()).to.match(
          new RegExp(`${escapeRe(text("loan:loans.kind.repayment"))}[\\s\\S]*${escapeRe(money(100_000n))}`),
        );
        await checkPage(supplier, "my loan, part repaid");

        await loan.getByRole("button", { name: text("loan:loans.repay"), exact: true }).click();
        await loan
          .locator(".badge", { hasText: text("common:status.repaid") })
          .first()
          .waitFor({ timeout: 60_000 });
        expect(await loan.locator('[data-field="outstanding"]').innerText()).to.include(money(0n));
        expect(await history.count()).to.equal(3);
        await checkPage(supplier, "my loan, repaid");
        await shot(supplier, "loan-repaid");
      });

      it("7: the borrower sees until when its consent runs and revokes it", async function () {
        await supplier.getByRole("tab", { name: text("loan:tabs.consents") }).click();
        await supplier.waitForURL(/\/manufacturer\/consents$/);
        const consent = supplier
          .getByRole("table", { name: new RegExp(escapeRe(text("loan:consents.caption"))) })
          .locator("tbody tr", { hasText: bank.name });
        await consent.locator(".badge", { hasText: text("loan:standing.in_force") }).waitFor({ timeout: 30_000 });
        // Its expiry, a date and time in the language (the year in both).
        const expires = consent.locator("[data-expires]");
        expect(Number(await expires.getAttribute("data-expires"))).to.be.greaterThan(0);
        expect(await expires.innerText()).to.match(/\b20\d\d/);
        await checkPage(supplier, "consents");
        await consent.getByRole("button", { name: text("loan:consents.revokeLabel") }).click();
        await consent.locator(".badge", { hasText: text("loan:standing.revoked") }).waitFor({ timeout: 60_000 });
        expect(await consent.innerText()).to.include(text("loan:consents.revokedAt", { date: HOLE }).split(HOLE)[0].trim());
        expect(await consent.getByRole("button", { name: text("loan:consents.revokeLabel") }).count()).to.equal(0);
        await checkPage(supplier, "consents, revoked");
      });

      it("1, 3: the lender's review shows the bounds and refuses more than asked or a blank rate at the field; the borrower withdraws the changed offer", async function () {
        const borrower = await open("mediocre supplier", "manufacturer");
        await signIn(borrower, MEDIOCRE_SUPPLIER);
        const id = await apply(borrower, "50,000.00");
        await lender.getByRole("tab", { name: text("lender:tabs.queue") }).click();
        // The one in review (an earlier pair's, to the same lender, is withdrawn).
        const row = lender
          .getByRole("region", { name: text("lender:queue.title") })
          .locator("tbody tr", { hasText: MEDIOCRE_SUPPLIER.name })
          .filter({ has: lender.locator(".badge", { hasText: text("common:status.in_review") }) });
        await row.waitFor({ timeout: 30_000 });
        await row.getByRole("button", { name: text("lender:queue.openLabel", { name: MEDIOCRE_SUPPLIER.name }) }).click();
        const detail = lender.locator(`section[data-application="${id}"]`);
        const review = detail.getByRole("form", { name: text("apply:review.form") });
        await review.waitFor({ timeout: 30_000 });
        expect(await review.getByRole("definition").first().innerText()).to.include(money(5_000_000n));
        await review.getByLabel(text("apply:review.changeTerms")).check();
        const amount = review.getByLabel(text("apply:review.newAmount", { max: money(5_000_000n) }), { exact: true });
        await amount.fill("999,999.00");
        const amountError = review.locator(`#review-amount-error-${id}`);
        expect(await amountError.innerText()).to.include(text("apply:review.amountAboveAsked", { asked: money(5_000_000n) }));
        await review.getByLabel(text("apply:review.newRate")).fill("");
        await review.locator(`#review-rate-error-${id}`).waitFor();
        await checkPage(lender, "review form with errors");
        await shot(lender, "review-bounds");
        await review.getByLabel(text("apply:review.reason")).fill(REASON[lang]);
        await review.getByRole("button", { name: text("apply:review.submit") }).click();
        expect(await detail.locator('li[data-step="offer_issued"].done').count()).to.equal(0);
        await amount.fill("40,000.00");
        await amountError.waitFor({ state: "detached" });
        await review.getByLabel(text("apply:review.newRate")).fill("9.5");
        await review.getByRole("button", { name: text("apply:review.submit") }).click();
        await detail.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 30_000 });

        const card = borrower.locator(`article[data-application="${id}"]`);
        await card.locator('li[data-step="offer_issued"].done').waitFor({ timeout: 30_000 });
        expect(await card.locator("h3").innerText()).to.include(text("apply:card.asked", { amount: money(5_000_000n) }).trim());
        expect(await card.locator("h3").innerText()).to.include(money(4_000_000n));
        await checkPage(borrower, "borrower, changed offer");
        // Withdrawn, the offer frees its receivables: the next pair's application starts from the same collateral.
        await card.getByRole("button", { name: text("apply:withdraw.button") }).click();
        await card.locator(".badge", { hasText: text("common:status.withdrawn") }).waitFor({ timeout: 30_000 });
        expect(await card.getByRole("button", { name: text("manufacturer:card.sign") }).count()).to.equal(0);
        await borrower.context().close();
      });

      it("6: a decline leads with its reasons; the card shows no limit, rate or offer", async function () {
        const page = await open("ring supplier", "manufacturer");
        await signIn(page, RING_SUPPLIER);
        const id = await apply(page, "100,000.00");
        const card = page.locator(`article[data-application="${id}"]`);
        await card.locator(".badge", { hasText: text("common:status.declined") }).waitFor({ timeout: 30_000 });
        const why = card.getByRole("region", { name: text("apply:declined.label") });
        await why.getByRole("heading", { name: text("apply:declined.toChange") }).waitFor();
        expect(await why.locator("ul.why").innerText()).to.include(text("explain:rules.circular_trading"));
        expect(await card.locator("dl.decision").count()).to.equal(0);
        expect(await card.locator('li[data-step="offer_issued"].not-reached').count()).to.equal(1);
        await checkPage(page, "declined card");
        await shot(page, "declined");
        await page.context().close();
      });

      it("12: offline, a read says so and offers Retry; the running month is drawn apart (so far)", async function () {
        await supplier.goto(`${demo.baseUrl}/manufacturer/overview`);
        const partial = supplier.locator('figure.chart circle[data-partial="true"]').first();
        await partial.waitFor();
        const soFar = text("nav:chart.partialTitle", { month: HOLE, value: HOLE }).split(HOLE)[1];
        expect(await partial.locator("title").textContent()).to.include(soFar);
        await checkPage(supplier, "overview");

        const orders = supplier.getByRole("region", { name: text("manufacturer:tabs.orders") });
        await supplier.route("**/api/enterprises/*/orders*", (route) => route.abort("connectionrefused"));
        await supplier.getByRole("tab", { name: text("manufacturer:tabs.orders") }).click();
        const alert = orders.getByRole("alert");
        await alert.waitFor();
        expect(await alert.innerText()).to.include(text("nav:unreachable.message"));
        await checkPage(supplier, "orders, unreachable");
        await supplier.unroute("**/api/enterprises/*/orders*");
        await alert.getByRole("button", { name: text("nav:retry") }).click();
        await orders.locator("tbody tr").first().waitFor();
        const expected = /ERR_CONNECTION_REFUSED|ERR_FAILED/;
        const unexpected = demo.pageErrors.filter((e) => !expected.test(e));
        demo.pageErrors.splice(0, demo.pageErrors.length, ...unexpected);
        await supplier.context().close();
        await lender.context().close();
      });
    });
  }
});
