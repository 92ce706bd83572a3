/**
 * The lender's portfolio in a real browser (Chromium from test/e2e/browser.ts driven by playwright-core)
 * against the real stack `npm start` runs over the demo seed, whose history holds loans of every outcome:
 * repaid, defaulted and recovered from the collateral, defaulted unpaid, past due, live. At 1440 px and
 * at 390 px: key figures, exposure by borrower and by debtor with charts, overdue loans with days past
 * due, maturities ahead, collections before and after default, every loan with its collateral; names,
 * not addresses (the address one click away); amounts with their currency; CSV export in major units
 * with a currency column; English and Simplified Chinese (the top bar's switch); no horizontal spill on
 * a phone. Any console or page error fails the test.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { LENDER, RESULTS, SUPPLIER, useDemoBrowser } from "./nav-helpers";

/** An amount as the page shows it: the ISO code and major units with two decimals. */
const AMOUNT = /CNY\s?[\d,]+\.\d{2}/;

describe("the lender's portfolio in a real browser", function () {
  this.timeout(240_000);

  const demo = useDemoBrowser();
  const { pageErrors } = demo;
  // LENDER is the demo's first lender (scripts/seed.ts LENDERS[0]): the seed gives it every loan outcome.

  const openAs = (account: { index: number; name: string }, width: number, hash: string) =>
    demo.openAs(account, `${width}px`, hash, { width });

  async function openPortfolio(width: number): Promise<Page> {
    const page = await openAs(LENDER, width, "#/lender");
    await page.getByRole("tab", { name: "Portfolio" }).click();
    await page.getByRole("region", { name: "Overdue loans" }).waitFor();
    return page;
  }

  /** Visible text of a region, with the disclosures (addresses on demand) closed. */
  async function visibleText(page: Page, region: string): Promise<string> {
    return page.getByRole("region", { name: region, exact: true }).innerText();
  }

  it("shows exposure, overdue loans, maturities and collections by name and in CNY at 1440 px", async function () {
    const page = await openPortfolio(1440);

    const figures = page.getByLabel("Portfolio key figures");
    expect(await figures.innerText())
      .to.match(/outstanding/i)
      .and.match(AMOUNT)
      .and.match(/after default/);

    // Exposure: two charts and the debtor table, by registered name, amounts with their currency.
    const exposure = page.getByRole("region", { name: "Exposure", exact: true });
    expect(await exposure.locator("figure.chart.bars").count()).to.equal(2);
    expect(await exposure.locator("figure.chart.bars li").count()).to.be.greaterThan(2);
    const exposureText = await visibleText(page, "Exposure");
    expect(exposureText)
      .to.match(AMOUNT)
      .and.match(/Co\.|Works|Ltd|Boards|Seals|Motors|Electronics|Group/);
    expect(exposureText).to.not.match(/0x[0-9a-fA-F]{40}/);

    // The loan past maturity: its days past due and borrower by name.
    const overdue = page.getByRole("region", { name: "Overdue loans" }).locator("tbody tr");
    expect(await overdue.count()).to.be.greaterThan(0);
    const overdueCells = await overdue.first().locator("td").allInnerTexts();
    expect(Number(overdueCells[3])).to.be.greaterThan(0);
    expect(overdueCells[4]).to.match(AMOUNT);
    // The defaulted loan that was never collected is still overdue, in default.
    expect(await page.getByRole("region", { name: "Overdue loans" }).locator(".badge", { hasText: "Defaulted" }).count()).to.be.greaterThan(
      0,
    );

    // The borrower by its registered name, verified against the registry; the address on demand.
    const who = overdue.first().locator(".participant-name");
    expect(await who.locator(".name-verified").count()).to.equal(1);
    expect(await who.locator("code.participant-address").count()).to.equal(0);
    await who.getByRole("button", { name: "address" }).click();
    expect((await who.locator("code.participant-address").innerText()).trim()).to.match(/^0x[0-9a-fA-F]{40}$/);

    const maturities = page.getByRole("region", { name: "Upcoming maturities" });
    expect(await maturities.locator("tbody tr").count()).to.be.greaterThan(0);

    // Collections: through the receivable waterfall, some after a default (the recovered loan).
    const collections = page.getByRole("region", { name: "Collections" });
    expect(await collections.locator("tbody tr", { hasText: "after default" }).count()).to.be.greaterThan(0);
    expect(await collections.locator("tbody tr", { hasText: /Receivable #\d+ paid by/ }).count()).to.be.greaterThan(0);
    expect(await collections.locator("svg[role=img]").count()).to.equal(1);

    // Every loan, with each outcome, and live collateral shown as pledged.
    const loans = page.getByRole("region", { name: "Portfolio", exact: true });
    for (const status of ["Active", "Repaid", "Defaulted", "Recovered"]) {
      expect(await loans.locator("tbody tr .badge", { hasText: status }).count(), status).to.be.greaterThan(0);
    }
    const active = loans.locator("tbody tr", { has: page.locator(".badge", { hasText: "Active" }) }).first();
    expect(await active.locator("ul.collateral .badge").first().innerText()).to.equal("Pledged");
    await page.screenshot({ path: path.join(RESULTS, "lender-portfolio-1440.png"), fullPage: true });
  });

  it("exports the overdue loans and the exposure as CSV in major units with a currency column", async function () {
    const page = await openPortfolio(1440);
    for (const [link, columns] of [
      ["Overdue CSV", ["loan_id", "borrower", "borrower_name", "days_past_due", "outstanding", "currency"]],
      ["By debtor CSV", ["debtor", "debtor_name", "outstanding", "collateral_unpaid", "currency"]],
    ] as const) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: link }).click()]);
      const text = await readFile((await download.path())!, "utf8");
      const [header, ...rows] = text.trimEnd().split("\r\n");
      for (const c of columns) expect(header.split(","), link).to.include(c);
      expect(rows.length, link).to.be.greaterThan(0);
      const cells = Object.fromEntries(header.split(",").map((k, i) => [k, rows[0].split(",")[i]]));
      expect(cells.currency).to.equal("CNY");
      expect(cells.outstanding).to.match(/^\d+\.\d{2}$/);
    }
  });

  it("speaks Simplified Chinese when the top bar switches to it: headings, key figures and amounts in yuan", async function () {
    const page = await openPortfolio(1440);
    await page.locator("select.language").selectOption("zh");
    const overdue = page.getByRole("region", { name: "逾期贷款" });
    await overdue.waitFor();
    const figures = await page.getByLabel("贷款组合关键数据").innerText();
    expect(figures)
      .to.include("未偿余额")
      .and.include("违约后回收")
      .and.match(/¥[\d,]+\.\d{2}/);
    expect(await overdue.locator("thead").innerText()).to.include("逾期天数");
    for (const title of ["风险敞口", "即将到期", "回收", "贷款组合"]) {
      expect(await page.getByRole("region", { name: title, exact: true }).count(), title).to.equal(1);
    }
    expect(await page.getByRole("region", { name: "回收", exact: true }).innerText()).to.include("违约后");
    await page.screenshot({ path: path.join(RESULTS, "lender-portfolio-zh.png"), fullPage: true });
    await page.locator("select.language").selectOption("en");
    await page.getByRole("region", { name: "Overdue loans" }).waitFor();
  });

  it("fits a 390 px phone in both languages: nothing spills off the right edge", async function () {
    const page = await openPortfolio(390);
    for (const lang of ["en", "zh"] as const) {
      await page.locator("select.language").selectOption(lang);
      await page.getByRole("region", { name: lang === "en" ? "Overdue loans" : "逾期贷款" }).waitFor();
      await page.locator(".portfolio tbody tr").first().waitFor();
      const spill = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(spill, `horizontal overflow of the page in px (${lang})`).to.be.at.most(0);
      // The bar charts keep their amounts readable inside the screen.
      const box = (await page.locator("figure.chart.bars li .num").first().boundingBox())!;
      expect(box.x + box.width, lang).to.be.at.most(390);
      await page.screenshot({ path: path.join(RESULTS, `lender-portfolio-390-${lang}.png`), fullPage: true });
    }
    await page.locator("select.language").selectOption("en");
  });

  it("keeps a supplier out: the lender room, and the portfolio API, refuse a non-lender", async function () {
    const page = await openAs(SUPPLIER, 1440, "#/lender");
    // Signing in takes a supplier to its own room; the lender room's address, opened on purpose, refuses it.
    await page.goto(`${demo.baseUrl}/lender`);
    await page.getByText("This account is not a registered lender.").waitFor();
    const status = await page.evaluate(
      async (lender) => (await fetch(`/api/lenders/${lender}/portfolio`)).status,
      await lenderAddress(page),
    );
    expect(status).to.equal(403);
    // Chromium logs the refused request as a console error: that one was the point of the test.
    const expected = pageErrors.filter((e) => /status of 403 .*\/api\/lenders\/0x[0-9a-f]{40}\/portfolio$/.test(e.trim()));
    expect(expected).to.have.length(1);
    pageErrors.splice(pageErrors.indexOf(expected[0]), 1);
  });

  it("says of every demo loan what the loan's own page says: outstanding, days past due, overdue", async function () {
    const page = await openAs(LENDER, 1440, "#/lender");
    const lender = await lenderAddress(page);
    type Loan = { id: string; status: string; outstanding: string; daysPastDue: number | null; standing?: string };
    // The portfolio and the lender's loans (the view the borrower's page shows) read at the same block time.
    const read = () =>
      page.evaluate(async (lender) => {
        const json = async (url: string) => (await fetch(url)).json();
        return { portfolio: await json(`/api/lenders/${lender}/portfolio`), loans: await json("/api/loans?role=lender") };
      }, lender);
    let answer = await read();
    for (let i = 0; i < 3 && answer.portfolio.asOf !== answer.loans.asOf; i++) answer = await read();
    expect(answer.loans.asOf, "read at the same time").to.equal(answer.portfolio.asOf);
    const views = new Map((answer.loans.loans as Loan[]).map((l) => [l.id, l]));
    const overdue = new Set((answer.portfolio.overdue as { loanId: string }[]).map((o) => o.loanId));
    const loans = answer.portfolio.loans as Loan[];
    expect(loans.length).to.be.greaterThan(3);
    for (const l of loans) {
      const v = views.get(l.id);
      expect(v, `loan ${l.id} on the lender's loan list`).to.not.equal(undefined);
      const pick = (x: Loan) => ({ status: x.status, outstanding: x.outstanding, daysPastDue: x.daysPastDue });
      expect(pick(v!), `loan ${l.id}`).to.deep.equal(pick(l));
      expect(v!.standing === "Overdue", `loan ${l.id}: standing`).to.equal(overdue.has(l.id) && l.status === "Active");
    }
    // The seed's history holds loans past due: the check above met at least one.
    expect(overdue.size).to.be.greaterThan(0);
  });

  async function lenderAddress(page: Page): Promise<string> {
    return page.evaluate(async (index) => {
      const config = (await (await fetch("/api/config")).json()) as { demoAccounts: { index: number; address: string }[] };
      return config.demoAccounts.find((a) => a.index === index)!.address;
    }, LENDER.index);
  }
});
