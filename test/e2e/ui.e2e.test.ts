/**
 * The web UI in a real browser (Chromium from test/e2e/browser.ts driven by playwright-core), against the real stack
 * that `npm start` runs: embedded chain, deployment, demo seed, service and the built UI. As users
 * would: the manufacturer applies in five fields and signs, the lender reviews, countersigns and
 * disburses, a court checks the agreement's document and a tampered copy. Screenshots of each room go
 * to test-results/; any console error or page error fails the test.
 */
import path from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { LENDER, MEDIOCRE_SUPPLIER, RESULTS, RING_SUPPLIER, signIn, SUPPLIER as EXCELLENT_SUPPLIER, useDemoBrowser } from "./nav-helpers";

describe("the web UI in a real browser: apply, decide, sign, disburse, verify", function () {
  this.timeout(240_000);

  const demo = useDemoBrowser();
  let manufacturer: Page;
  let lender: Page;
  let applicationId: string;
  let loanId: string;

  const openRoom = (room: string, hash: string) => demo.open(room, hash, { width: 1280 });

  /** Applies as a user would, in five fields; returns the application's id. */
  async function apply(page: Page, amount: string): Promise<string> {
    await page.getByRole("tab", { name: "Apply for financing" }).click();
    const form = page.getByRole("form", { name: "Loan application" });
    await form.waitFor();
    // 1. amount, 2. term
    await form.getByLabel("Amount").fill(amount);
    await form.getByLabel("Term").selectOption("90");
    // 3. receivables: preselected
    const receivables = form.getByRole("group", { name: /Receivables to pledge/ }).getByRole("checkbox");
    expect(await receivables.count()).to.be.greaterThan(0);
    for (const box of await receivables.all()) expect(await box.isChecked()).to.equal(true);
    // 4. lender
    await form.getByLabel("Lender").selectOption({ label: LENDER.name });
    // 5. consent: the scopes scoring needs are preselected
    const consent = form.getByRole("group", { name: /Consent/ });
    expect(await consent.getByRole("checkbox", { name: /Derived metrics/ }).isChecked()).to.equal(true);
    expect(await consent.getByRole("checkbox", { name: /Risk flags/ }).isChecked()).to.equal(true);
    await form.getByRole("button", { name: "Apply" }).click();
    const card = page.locator("article.application").first();
    await card.waitFor({ timeout: 30_000 });
    const id = await card.getAttribute("data-application");
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    return id!;
  }

  /** A step of the application's timeline, once reached. */
  function doneStep(page: Page, id: string, name: string) {
    return page.locator(`article[data-application="${id}"] li[data-step="${name}"].done`);
  }

  it("the manufacturer signs in, sees its orders, receivables and metrics, applies in five fields, watches the timeline live and signs the offer", async function () {
    manufacturer = await openRoom("manufacturer", "#/manufacturer");
    await signIn(manufacturer, EXCELLENT_SUPPLIER);

    // Overview: metrics from the chain, with their definitions.
    const metrics = manufacturer.getByRole("region", { name: "My metrics, from the chain" });
    await metrics.locator('tr[data-metric="orderCount"]').waitFor();
    expect(await metrics.locator("tr[data-metric]").count()).to.be.greaterThan(20);
    await manufacturer.getByRole("tab", { name: "Orders" }).click();
    const orders = manufacturer.getByRole("region", { name: "Orders" }).locator("tbody tr");
    await orders.first().waitFor();
    expect(await orders.count()).to.be.greaterThan(10);
    await manufacturer.getByRole("tab", { name: "Receivables" }).click();
    const receivables = manufacturer.getByRole("region", { name: "Receivables" }).locator("tbody tr");
    await receivables.first().waitFor();
    expect(await receivables.count()).to.be.greaterThan(10);
    // The tabs work from the keyboard too (arrow keys, Home, End).
    await manufacturer.getByRole("tab", { name: "Receivables" }).press("Home");
    // The route changes, then the tab list re-renders: wait for it (a failure still times out).
    await manufacturer.getByRole("tab", { name: "Overview", selected: true }).waitFor({ timeout: 10_000 });
    expect(await manufacturer.evaluate(() => document.activeElement?.textContent)).to.equal("Overview");
    await metrics.locator('tr[data-metric="orderCount"]').waitFor();
    await manufacturer.screenshot({ path: path.join(RESULTS, "manufacturer-overview.png"), fullPage: true });

    // A marker that a reload would wipe: the timeline must advance without one.
    await manufacturer.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    applicationId = await apply(manufacturer, "250,000.00");
    await doneStep(manufacturer, applicationId, "consent_granted").waitFor({ timeout: 30_000 });
    await doneStep(manufacturer, applicationId, "offer_issued").waitFor({ timeout: 30_000 });
    const card = manufacturer.locator(`article[data-application="${applicationId}"]`);
    expect(await card.locator("li.done").count()).to.equal(8);
    expect(await card.locator(".badge").first().innerText()).to.match(/offer issued/i);
    expect(await manufacturer.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).to.equal(true);

    await card.getByRole("button", { name: "Sign the offer" }).click();
    await doneStep(manufacturer, applicationId, "signed_by_borrower").waitFor({ timeout: 30_000 });
    await manufacturer.screenshot({ path: path.join(RESULTS, "manufacturer.png"), fullPage: true });
  });

  it("the lender opens the application, sees metrics, flags and reasons, countersigns and disburses; the timeline reaches disbursed", async function () {
    lender = await openRoom("lender", "#/lender");
    await signIn(lender, LENDER);
    const queue = lender.getByRole("region", { name: "Application queue" });
    const row = queue.locator("tbody tr", { hasText: EXCELLENT_SUPPLIER.name }).first();
    await row.waitFor();
    await row.getByRole("button", { name: /Open application/ }).click();

    const detail = lender.locator(`section[data-application="${applicationId}"]`);
    await detail.waitFor();
    await detail.getByRole("heading", { name: "Reasons" }).waitFor();
    expect(await detail.locator("table.reasons tbody tr").count()).to.be.greaterThan(0);
    await detail.getByRole("heading", { name: "Risk flags" }).waitFor();
    await detail.locator('tr[data-metric="orderCount"]').waitFor();
    expect(await detail.getByText(/policy/i).count()).to.be.greaterThan(0);

    await detail.getByRole("button", { name: "Countersign" }).click();
    await detail.locator('li[data-step="countersigned_notarized"].done').waitFor({ timeout: 30_000 });
    await detail.getByRole("button", { name: /^Disburse/ }).click();
    await detail.locator('li[data-step="disbursed"].done').waitFor({ timeout: 30_000 });
    loanId = (await detail.getAttribute("data-loan-id"))!;
    expect(loanId).to.match(/^\d+$/);
    await lender.screenshot({ path: path.join(RESULTS, "lender.png"), fullPage: true });

    // The borrower's page follows, still without a reload.
    await doneStep(manufacturer, applicationId, "disbursed").waitFor({ timeout: 30_000 });
    // ...and its access log shows which lender read its data, for which application.
    await manufacturer.getByRole("tab", { name: "Access log" }).click();
    const read = manufacturer.getByRole("region", { name: "Who read my data" }).locator("tbody tr", { hasText: LENDER.name }).first();
    await read.waitFor();
    expect(await read.innerText()).to.include(applicationId.slice(0, 8));
    await manufacturer.screenshot({ path: path.join(RESULTS, "manufacturer-access-log.png"), fullPage: true });

    // The new loan is in the portfolio, active, with its collateral's status.
    await lender.getByRole("tab", { name: "Portfolio" }).click();
    const loanRow = lender
      .getByRole("region", { name: "Portfolio" })
      // The loan's own row: its first cell is exactly "#id" (other rows' collateral ids may contain the digits).
      .locator("tbody tr")
      .filter({ has: lender.locator("td:first-child", { hasText: new RegExp(`^#${loanId}$`) }) })
      .first();
    await loanRow.waitFor();
    expect(await loanRow.innerText()).to.match(/Active/);
    expect(await loanRow.locator("ul.collateral .badge").count()).to.be.greaterThan(0);
    await lender.screenshot({ path: path.join(RESULTS, "lender-portfolio.png"), fullPage: true });
    await lender.getByRole("tab", { name: "Applications" }).click();
  });

  it("a referred application: the mediocre supplier applies and the lender approves it with a reason", async function () {
    const supplier = await openRoom("manufacturer #9", "#/manufacturer");
    await signIn(supplier, MEDIOCRE_SUPPLIER);
    const id = await apply(supplier, "50,000.00");
    await supplier.locator(`article[data-application="${id}"] .badge`, { hasText: /referred|in review/i }).waitFor({ timeout: 30_000 });

    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: MEDIOCRE_SUPPLIER.name }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator(`section[data-application="${id}"]`);
    const review = detail.getByRole("form", { name: "Review" });
    await review.waitFor();
    await detail.locator('tr[data-metric="orderCount"]').waitFor();
    await lender.screenshot({ path: path.join(RESULTS, "lender-review.png"), fullPage: true });
    await review.getByLabel("Approve", { exact: true }).check();
    // The reason is mandatory: the form does not submit without one.
    await review.getByRole("button", { name: "Record decision" }).click();
    expect(await review.getByLabel(/Reason/).evaluate((el) => (el as HTMLTextAreaElement).validity.valueMissing)).to.equal(true);
    await review.getByLabel(/Reason/).fill("Two years with the same buyers; the late payments were a buyer's dispute, settled.");
    await review.getByRole("button", { name: "Record decision" }).click();
    await detail
      .locator(".badge", { hasText: /offer issued/i })
      .first()
      .waitFor({ timeout: 30_000 });
    await supplier.locator(`article[data-application="${id}"] .badge`, { hasText: /offer issued/i }).waitFor({ timeout: 30_000 });
    await supplier.screenshot({ path: path.join(RESULTS, "manufacturer-referred.png"), fullPage: true });
  });

  it("a supplier trading in a circle is declined automatically and the lender sees the risk flag with the events behind it", async function () {
    const supplier = await openRoom("manufacturer #17", "#/manufacturer");
    await signIn(supplier, RING_SUPPLIER);
    const id = await apply(supplier, "100,000.00");
    await supplier.locator(`article[data-application="${id}"] .badge`, { hasText: /declined/i }).waitFor({ timeout: 30_000 });
    // The borrower may contest an automatic decline.
    await supplier
      .locator(`article[data-application="${id}"]`)
      .getByLabel(/Contest this decline/)
      .waitFor();

    await lender.getByLabel("Filter by status").selectOption("declined");
    const row = lender.getByRole("region", { name: "Application queue" }).locator("tbody tr", { hasText: RING_SUPPLIER.name }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.getByRole("button", { name: /Open application/ }).click();
    const detail = lender.locator(`section[data-application="${id}"]`);
    const flag = detail.locator("ul.flags li.flag").first();
    await flag.waitFor();
    await flag.locator("summary").click();
    expect(await flag.locator("details li").count()).to.be.greaterThan(0);
    expect(await flag.locator("details li").first().innerText()).to.match(/block \d+/);
    await lender.screenshot({ path: path.join(RESULTS, "lender-risk-flags.png"), fullPage: true });
    await lender.getByLabel("Filter by status").selectOption("");
  });

  it("a court drops the agreement's document and sees the verdict, then a copy with one byte changed is refused", async function () {
    // The borrower downloads the agreement document it signed (its session's cookie).
    const res = await manufacturer.request.get(`${demo.baseUrl}/api/applications/${applicationId}/agreement-document`);
    expect(res.status()).to.equal(200);
    const document = await res.body();

    const court = await openRoom("court", "#/court");
    await court.getByRole("heading", { name: "Court / auditor" }).waitFor();
    await court.getByLabel(/Drop a file here/).setInputFiles({ name: "loan-agreement.txt", mimeType: "text/plain", buffer: document });
    const verdict = court.locator(".verdict");
    await verdict.waitFor({ timeout: 30_000 });
    const text = await verdict.innerText();
    expect(await verdict.getAttribute("data-verdict")).to.equal("anchored");
    expect(text).to.match(new RegExp(`Signed loan agreement #${loanId}\\b`));
    expect(text).to.match(/anchored at block \d+/i);
    expect(text).to.include("signed by the borrower and the lender, registered participants");
    await court.getByText("The service's answer matches the chain.").waitFor();
    await court.screenshot({ path: path.join(RESULTS, "court-verdict.png"), fullPage: true });

    const tampered = Buffer.from(document);
    tampered[Math.floor(tampered.length / 2)] ^= 0x01;
    await court
      .getByLabel(/Drop a file here/)
      .setInputFiles({ name: "loan-agreement-edited.txt", mimeType: "text/plain", buffer: tampered });
    await court.locator('.verdict[data-verdict="not-anchored"]').waitFor({ timeout: 30_000 });
    expect(await court.locator(".verdict").innerText()).to.include("Not anchored");
    await court.screenshot({ path: path.join(RESULTS, "court-tampered.png"), fullPage: true });
  });
});
