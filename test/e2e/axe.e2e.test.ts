/**
 * Issue 16, findings 10 and 12: every room, signed out and signed in, with real content (an
 * application, its decision, the lender's view of it, a court verdict), at 1440 px and at 390 px in
 * English and at 390 px in Simplified Chinese: nothing wider than the screen (document.scrollWidth <=
 * innerWidth) and no serious or critical axe-core violation; in Chinese, no English left on the page. Against the real stack `npm start` runs, in headless Chromium.
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import {
  apply,
  axeViolations,
  doneStep,
  horizontalOverflow,
  LENDER,
  PHONE,
  RESULTS,
  signIn,
  SUPPLIER,
  useDemoBrowser,
  WIDE,
} from "./nav-helpers";
import { englishLeft } from "./cover-helpers";

describe("every room at 1440 px and 390 px: fits the screen, and axe-core finds no serious or critical violation", function () {
  this.timeout(300_000);

  const demo = useDemoBrowser();
  /** Every problem found, "room at width: problem", checked after each test. */
  const problems: string[] = [];
  let applicationId: string;
  let supplier: Page;
  /** The demo's participants' names: not English words to find on a Chinese page. */
  let names: string[] = [];

  before(async function () {
    const config = (await (await fetch(`${demo.baseUrl}/api/config`)).json()) as { demoAccounts?: { name: string }[] };
    names = (config.demoAccounts ?? []).map((a) => a.name);
  });

  beforeEach(function () {
    problems.splice(0);
  });
  /** Each test ends with this (a failing afterEach hook would skip the rooms still to check). */
  function expectNoProblems(): void {
    expect(problems.splice(0), "rooms that overflow or fail axe").to.deep.equal([]);
  }

  /** Waits until nothing on the page is loading any more. */
  async function settled(page: Page): Promise<void> {
    await page.waitForFunction(() => document.querySelector(".state.loading") === null, undefined, { timeout: 30_000 });
  }

  /**
   * At each width in English, then at 390 px in Chinese (the top bar's switch, back to English after): wait
   * for `ready`, then check the width and run axe; in Chinese, also that no English is left. Screenshots
   * at 390 px go to test-results/.
   */
  async function check(page: Page, where: string, ready: () => Promise<unknown>): Promise<void> {
    for (const { size, lang } of [
      { size: WIDE, lang: "en" },
      { size: PHONE, lang: "en" },
      { size: PHONE, lang: "zh" },
    ] as const) {
      const at = `${where} at ${size.width} px${lang === "zh" ? " in Chinese" : ""}`;
      await page.setViewportSize(size);
      // In Chinese the same content is on the page (ready's names may be English): only the texts change.
      if (lang === "zh") await switchLanguage(page, "zh");
      else await ready();
      await settled(page);
      const o = await horizontalOverflow(page);
      if (o.scrollWidth > o.innerWidth) problems.push(`${at}: ${o.scrollWidth} px wide (${o.offenders.join(", ")})`);
      for (const v of await axeViolations(page)) problems.push(`${at}: ${v}`);
      if (lang === "zh") for (const text of await englishLeft(page, at, names)) problems.push(`English left: ${text}`);
      if (size === PHONE) {
        const file = `390-${lang === "zh" ? "zh-" : ""}${where.replace(/[^a-z0-9]+/gi, "-")}.png`;
        await page.screenshot({ path: path.join(RESULTS, file), fullPage: true });
      }
    }
    await switchLanguage(page, "en");
  }

  /** The top bar's language switch, then the page's language is the one chosen. */
  async function switchLanguage(page: Page, lang: "en" | "zh"): Promise<void> {
    await page.locator("select.language").selectOption(lang);
    await page.locator(`html[lang="${lang === "zh" ? "zh-CN" : "en-US"}"]`).waitFor({ state: "attached" });
    // The top bar re-rendered in the new language (the switch's own label is one of its texts).
    await page.getByRole("combobox", { name: lang === "zh" ? "语言" : "Language", exact: true }).waitFor();
  }

  it("signed out: the manufacturer's tour, the lender's room and the court", async function () {
    const page = await demo.open("signed out", "manufacturer");
    for (const room of ["manufacturer", "lender", "court"]) {
      await page.goto(`${demo.baseUrl}/${room}`);
      await check(page, `${room} signed out`, () => page.getByRole("heading", { level: 1 }).waitFor());
    }
    expectNoProblems();
  });

  it("the manufacturer's tabs, with an application decided and its offer", async function () {
    supplier = await demo.open("manufacturer", "manufacturer");
    await signIn(supplier, SUPPLIER);
    applicationId = await apply(supplier, "150,000.00", LENDER.name);
    await doneStep(supplier, applicationId, "offer_issued").waitFor({ timeout: 60_000 });
    await check(supplier, "manufacturer applications", () => supplier.locator(`article[data-application="${applicationId}"]`).waitFor());
    const tabs: [string, string, string][] = [
      ["overview", "Overview", 'tr[data-metric="orderCount"]'],
      ["apply", "Apply for financing", "form.apply"],
      ["orders", "Orders", "table tbody tr"],
      ["receivables", "Receivables", "table tbody tr"],
      ["access", "Access log", "section.card"],
      ["loans", "My loans", 'section.card[aria-label="My loans"]'],
      ["consents", "Consents", 'section.card[aria-label="My consents"] tbody tr'],
      ["webhook", "Webhook", "form.webhook-form"],
    ];
    for (const [id, name, ready] of tabs) {
      await supplier.getByRole("tab", { name }).click();
      await check(supplier, `manufacturer ${id}`, () => supplier.locator(ready).first().waitFor());
    }
    // The borrower signs, so the lender's view below has the next step to take.
    await supplier.getByRole("tab", { name: /Applications/ }).click();
    await supplier.locator(`article[data-application="${applicationId}"]`).getByRole("button", { name: "Sign the offer" }).click();
    await doneStep(supplier, applicationId, "signed_by_borrower").waitFor({ timeout: 60_000 });
    expectNoProblems();
  });

  it("the lender's queue with the application open, the portfolio and a back-test's result", async function () {
    const lender = await demo.open("lender", "lender");
    await signIn(lender, LENDER);
    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: SUPPLIER.name }).first();
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator(`section[data-application="${applicationId}"]`);
    await check(lender, "lender application", () => detail.locator('tr[data-metric="orderCount"]').waitFor());
    await lender.getByRole("tab", { name: "Portfolio" }).click();
    await check(lender, "lender portfolio", () => lender.getByRole("region", { name: "Portfolio" }).waitFor());
    await lender.getByRole("tab", { name: "Back-test" }).click();
    await lender.getByRole("button", { name: "Run back-test" }).click();
    await check(lender, "lender back-test", () => lender.locator("table.backtest").waitFor({ timeout: 60_000 }));
    await lender.getByRole("tab", { name: "Webhook" }).click();
    await check(lender, "lender webhook", () => lender.locator("form.webhook-form").waitFor());
    expectNoProblems();
  });

  it("the court with a verdict on the offer's document", async function () {
    const res = await supplier.request.get(`${demo.baseUrl}/api/applications/${applicationId}/agreement-document`);
    expect(res.status()).to.equal(200);
    // The file's name is the user's, shown as given: not English left untranslated.
    names.push("loan-agreement.txt");
    const court = await demo.open("court", "court");
    await court
      .getByLabel(/Drop a file here/)
      .setInputFiles({ name: "loan-agreement.txt", mimeType: "text/plain", buffer: await res.body() });
    await check(court, "court verdict", () => court.locator(".verdict").waitFor({ timeout: 30_000 }));
    expectNoProblems();
  });
});
